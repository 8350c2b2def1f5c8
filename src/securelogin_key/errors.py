"""Every failure of the soft mobile key, with the exit code the command line promises.

::

    KeyAppError                      exit 1 unless noted
    ├── Refused                      the user, the vault or the server said no
    │   ├── WrongPin                 the app PIN does not open the vault
    │   ├── PinLocked                10 wrong app PINs: the server keeps the vault shut
    │   ├── VaultTampered            the vault file was altered or is not ours
    │   ├── NotActivated             no vault in --home, or no such username in it
    │   ├── AlreadyActivated         activate into a --home that holds an app
    │   ├── PushSignatureInvalid     a push the server key did not sign (never shown)
    │   ├── NoPendingPush            nothing to approve within --timeout
    │   ├── NumberNotOffered         --number is not among the push's choices (denied)
    │   └── ServerRefused            a problem answer from the server (``code``)
    ├── UsageError                   exit 2: malformed input (PIN format, challenge, URL)
    └── Unreachable                  exit 3: no answer from the server
"""

from __future__ import annotations


class KeyAppError(Exception):
    """Root of the tree; ``message`` is the one line printed on stderr."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(KeyAppError):
    exit_code = 1


class WrongPin(Refused):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "wrong app PIN; the vault was not changed" + (f" ({detail})" if detail else "")
        )


class PinLocked(Refused):
    def __init__(self) -> None:
        super().__init__(
            "the app PIN is locked after 10 wrong tries; unlock it with"
            " 'securelogin key reset-pin' and the recovery PIN"
        )


class VaultTampered(Refused):
    def __init__(self, detail: str = "the vault file was altered or is damaged") -> None:
        super().__init__(detail)


class NotActivated(Refused):
    pass


class AlreadyActivated(Refused):
    pass


class PushSignatureInvalid(Refused):
    def __init__(self, push_id: str) -> None:
        super().__init__(f"push {push_id} is not signed by the server; refused")
        self.push_id = push_id


class NoPendingPush(Refused):
    pass


class NumberNotOffered(Refused):
    pass


class ServerRefused(Refused):
    """The server answered with an RFC 9457 problem."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.status = status


class UsageError(KeyAppError):
    exit_code = 2


class Unreachable(KeyAppError):
    exit_code = 3
