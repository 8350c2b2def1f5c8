"""The one small protocol every device kind implements (STYLE.md rule 4).

A kind knows two things: how to *ask* (the prompt of SPEC §10.2 and, for server-side
challenges, the value to remember) and how to *check* an answer against its secrets.
Everything else — throttling (R-LOGIN-3), single use and the 3-answer cap (R-LOGIN-6),
replay of time steps, lifecycle states — is written once in the login service, outside
the kinds.  Kinds are pure: randomness and time arrive as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from securelogin.domain.devices.catalogue import DeviceKind

#: draw(n) returns a uniformly random int in [0, n) — ``secrets.randbelow`` in production
Draw = Callable[[int], int]


class PromptType(StrEnum):
    PUSH = "push"
    CHALLENGE = "challenge"
    CARD = "card"
    SMS = "sms"
    CODE = "code"
    #: the user's password, re-entered: a rank-0 user with no device confirming a
    #: withdrawal (R-WD-4); no device kind asks for it
    PASSWORD = "password"  # noqa: S105 - a prompt type, not a password
    #: a WebAuthn assertion (``passkey``): ``challenge`` is base64url, ``rp_id`` the RP ID
    PASSKEY = "passkey"


@dataclass(frozen=True, kw_only=True)
class Prompt:
    """What the client shows (SPEC §10.2 ``prompt``)."""

    type: PromptType
    challenge: str | None = None
    indices: tuple[int, int] | None = None
    sent_to: str | None = None
    number: str | None = None
    amount: str | None = None
    destination: str | None = None
    rp_id: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.type.value}
        for name in ("challenge", "sent_to", "number", "amount", "destination", "rp_id"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.indices is not None:
            body["indices"] = list(self.indices)
        return body


@dataclass(frozen=True, kw_only=True)
class DeviceView:
    """What a kind may see of a device: no secrets (those come as :class:`Keys`)."""

    device_id: str
    kind: DeviceKind
    params: Mapping[str, str | int | bool] = field(default_factory=dict)
    #: the last accepted counter (TOTP step, WebAuthn sign count); None before the first
    counter: int | None = None


@dataclass(frozen=True, kw_only=True)
class Binding:
    """A withdrawal a confirmation is bound to (R-WD-4); None for a login."""

    amount: str
    destination: str
    nonce: bytes


@dataclass(frozen=True, kw_only=True)
class Issued:
    """A new challenge: the prompt, the server-side value to remember (``expected_value``
    is public, e.g. the OCRA question), and a one-time secret to deliver out of band
    (``secret``, e.g. the SMS code; the service seals it and sends it)."""

    prompt: Prompt
    value: str | None = None
    secret: str | None = None


class AssertionCheck(Protocol):
    """Checks a WebAuthn assertion (the relying party, wired with the RP ID and allowed
    origins of the settings): the client data's type, challenge and origin, the RP ID
    hash, user presence and verification, the signature under ``public_key``.  Returns
    the credential id (base64url) and the authenticator's sign count; raises
    :class:`WrongAnswer` when anything does not hold."""

    def __call__(
        self, response: str, *, challenge: bytes, public_key: bytes
    ) -> tuple[str, int]: ...


@dataclass(frozen=True, kw_only=True)
class Keys:
    """The secrets the service opened for one check, and nothing more."""

    seed: bytes | None = None
    pin: str | None = None
    #: the challenge's own one-time secret (SMS code) or the device's static code
    code: str | None = None
    #: keyed hash of a card value at a position, and the stored hashes of the asked positions
    card_hash: Callable[[int, str], str] | None = None
    card_hashes: Mapping[int, str] = field(default_factory=dict)
    #: WebAuthn (``passkey``): the relying party's assertion check; ``seed`` is then the
    #: credential's COSE public key
    assertion: AssertionCheck | None = None


@dataclass(frozen=True, kw_only=True)
class Verified:
    """An accepted answer.  ``counter`` is the time step used (the service refuses it if
    it is not newer than the last accepted one: R-LOGIN-6 replay)."""

    counter: int | None = None


class WrongAnswer(Exception):
    """The answer does not match; the caller counts it (R-LOGIN-3) and says "Login failed"."""


class CounterWentBack(WrongAnswer):
    """A WebAuthn sign count not above the last accepted one: the credential may have
    been cloned (WebAuthn Level 3 §6.1.1).  Refused like a wrong answer, and audited."""

    def __init__(self, *, stored: int, received: int) -> None:
        super().__init__(f"sign count {received} is not above {stored}")
        self.stored = stored
        self.received = received


class DeviceKindPlugin(Protocol):
    @property
    def kind(self) -> DeviceKind: ...

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        """Make the prompt for one login or one withdrawal."""
        ...

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        """Check ``response``; raise :class:`WrongAnswer` if it is wrong."""
        ...


@runtime_checkable
class PushDelivered(DeviceKindPlugin, Protocol):
    """A kind that declares push delivery (the mobile key, R-KEY-4): its ``challenge`` is
    a push prompt with the number to match, sent to the app; ``offline`` is the kind
    that answers when no push can go (muted, no app) or on "I did not get it" (R-LOGIN-5).
    """

    @property
    def offline(self) -> DeviceKindPlugin: ...


def digits(draw: Draw, n: int) -> str:
    """n random decimal digits (leading zeros allowed)."""
    return "".join(str(draw(10)) for _ in range(n))


def clean(response: str) -> str:
    """Spaces and case are ignored in answers (SPEC §10.2)."""
    return "".join(response.split()).upper()
