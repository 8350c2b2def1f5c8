"""The whole exception tree of securelogin (STYLE.md rule 6).

Every error a user, an operator or another program can cause carries a stable
``code`` (the RFC 9457 ``code`` field of the HTTP API, the one-line message of
the CLI).  Entry points translate these classes with one table each; nothing
else is allowed to reach a user.

    SecureLoginError                      code
    ├── ConfigurationError                configuration_error
    ├── StorageUnavailable                storage_unavailable
    ├── InvalidInput                      invalid_input   (field, entry)
    │   ├── ImportRejected                import_rejected (entry, field)
    │   └── UnknownDevice                 unknown_device
    ├── NotFound                          not_found
    │   └── UnknownLogin                  login_not_found
    ├── Conflict                          conflict
    │   ├── LoginExpired                  login_expired
    │   └── LoginClosed                   login_closed
    ├── AuthenticationFailed              (code per subclass)
    │   ├── InvalidCredentials            invalid_credentials
    │   ├── LoginFailed                   login_failed
    │   ├── Locked                        locked          (retry_at)
    │   └── Unauthenticated               unauthenticated
    ├── Forbidden                         forbidden
    │   └── AccessDenied                  access_denied
    ├── TooManyCodes                      too_many_codes
    ├── IntegrityViolation                integrity_violation (first_bad_id)
    └── DeliveryFailed                    delivery_failed (retryable)
"""

from __future__ import annotations

from datetime import datetime


class SecureLoginError(Exception):
    """Root of every error securelogin raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(SecureLoginError):
    """Settings are missing or unsafe (e.g. no master key in production)."""

    code = "configuration_error"


class StorageUnavailable(SecureLoginError):
    """The database cannot be opened or reached."""

    code = "storage_unavailable"


class InvalidInput(SecureLoginError):
    """A request or a file carries a value that breaks a rule; nothing was written."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, entry: str | None = None):
        super().__init__(message)
        self.field = field
        self.entry = entry


class ImportRejected(InvalidInput):
    """An import file is refused whole (SPEC §10.3); names the entry and the field."""

    code = "import_rejected"

    def __init__(self, *, entry: str, field: str, problem: str) -> None:
        super().__init__(f"{entry}: {field}: {problem}", field=field, entry=entry)
        self.problem = problem


class NotFound(SecureLoginError):
    code = "not_found"


class Conflict(SecureLoginError):
    code = "conflict"


class Forbidden(SecureLoginError):
    code = "forbidden"


class AuthenticationFailed(SecureLoginError):
    """Base for failed logins; messages never say which factor was wrong (R-LOGIN-10)."""

    code = "authentication_failed"


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Invalid username or password")


class LoginFailed(AuthenticationFailed):
    code = "login_failed"

    def __init__(self) -> None:
        super().__init__("Login failed")


class Locked(AuthenticationFailed):
    """R-LOGIN-3: too many consecutive failures; ``retry_at`` is when the lock ends."""

    code = "locked"

    def __init__(self, *, retry_at: datetime | None) -> None:
        super().__init__("Login failed")
        self.retry_at = retry_at


class IntegrityViolation(SecureLoginError):
    """The audit chain (R-OPS-6) does not verify; ``first_bad_id`` names the broken link."""

    code = "integrity_violation"

    def __init__(self, message: str, *, first_bad_id: int) -> None:
        super().__init__(message)
        self.first_bad_id = first_bad_id


class DeliveryFailed(SecureLoginError):
    """A channel (SMS gateway, mail server) did not take a message (R-OPS-5).

    ``retryable`` says whether the outbox should try again later (timeouts, 5xx, 429)
    or give up at once (4xx: the gateway refused this message for good).  The message
    never contains the text being delivered: it is stored as the outbox row's error.
    """

    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class UnknownLogin(NotFound):
    code = "login_not_found"

    def __init__(self) -> None:
        super().__init__("No such login")


class LoginExpired(Conflict):
    code = "login_expired"

    def __init__(self) -> None:
        super().__init__("This login has expired; start again")


class LoginClosed(Conflict):
    code = "login_closed"

    def __init__(self) -> None:
        super().__init__("This login is already finished")


class UnknownDevice(InvalidInput):
    code = "unknown_device"

    def __init__(self) -> None:
        super().__init__("That device is not one of your active devices", field="device_id")


class TooManyCodes(SecureLoginError):
    """A code may be sent at most a few times per login (SMS cost and abuse)."""

    code = "too_many_codes"


class Unauthenticated(AuthenticationFailed):
    """No valid session token (missing, unknown, revoked, expired or idle)."""

    code = "unauthenticated"

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class AccessDenied(Forbidden):
    """The session's access level does not allow this."""

    code = "access_denied"
