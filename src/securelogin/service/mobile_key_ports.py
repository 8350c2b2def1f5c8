"""Ports of the mobile key (R-KEY): its storage, the ECDSA signatures and the push
providers.  Every method that guards a rule is one atomic statement in the adapter
(single use of an activation code or a push: R-LOGIN-6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class ActivationRow:
    id: str
    user_id: int
    method: str  # "sms" or "qr"
    phone: str | None
    code_hash: str | None
    sends: int
    attempts: int
    expires_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class AppRow:
    id: int
    app_id: str
    public_key: bytes
    state: str
    recovery_pin_hash: str
    push_provider: str | None
    push_target: str | None
    pin_verifier: str | None = None  # keyed hash of the app PIN verifier (issue 12 §6)
    pin_share: bytes | None = None  # the vault's server share, sealed
    pin_token: str | None = None  # keyed hash of the unlock token (in the vault file)
    pin_failures: int = 0


@dataclass(frozen=True, kw_only=True)
class StoredPin:
    """The server-assisted app PIN as stored: keyed hashes and the sealed share."""

    verifier: str
    share: bytes
    token: str


@dataclass(frozen=True, kw_only=True)
class AppUser:
    username: str
    device_id: str
    state: str


@dataclass(frozen=True, kw_only=True)
class PushRow:
    id: int
    push_id: str
    subject: str
    purpose: str
    app_id: int
    device_id: int
    user_id: int
    number: str
    body: str
    status: str
    expires_at: datetime


class MobileKeyRepository(Protocol):
    def add_activation(
        self, *, activation_id: str, user_id: int, method: str, now: datetime, expires_at: datetime
    ) -> None: ...

    def activation(self, activation_id: str) -> ActivationRow | None: ...

    def set_code(self, activation_id: str, *, phone: str, code_hash: str, limit: int) -> bool:
        """Store a new code if fewer than ``limit`` were sent; False otherwise."""
        ...

    def take_attempt(self, activation_id: str, *, limit: int) -> int | None:
        """Count one code answer atomically; None once the activation is out of answers."""
        ...

    def end_activation(self, activation_id: str, *, now: datetime) -> bool:
        """End it exactly once; False if it had ended already (a racing completion)."""
        ...

    def add_app(
        self,
        *,
        app_id: str,
        public_key: bytes,
        recovery_pin_hash: str,
        push_provider: str | None,
        push_target: str | None,
        now: datetime,
        pin: StoredPin | None = None,
    ) -> int: ...

    def app(self, app_id: str) -> AppRow | None: ...

    def set_pin(self, app_ref: int, pin: StoredPin) -> None:
        """A new PIN verifier and server share; the failure count starts again at 0."""
        ...

    def set_push(self, app_ref: int, *, provider: str | None, target: str | None) -> None:
        """The app's wake-up provider and target (both ``None``: no wake-ups)."""
        ...

    def take_pin_attempt(self, app_ref: int, *, limit: int) -> int | None:
        """Count one PIN proof atomically before it is checked (one conditional UPDATE);
        the new count, or None once ``limit`` proofs failed in a row."""
        ...

    def clear_pin_failures(self, app_ref: int) -> None: ...

    def app_by_ref(self, app_ref: int) -> AppRow | None: ...

    def app_of_device(self, device_id: int) -> AppRow | None: ...

    def link(self, *, app_ref: int, user_id: int, device_id: int, now: datetime) -> None:
        """The app holds this username now (an older link of the same pair is replaced)."""
        ...

    def app_users(self, app_ref: int) -> list[AppUser]: ...

    def recovery_pin(self, user_id: int) -> str | None: ...

    def identification_of(self, user_id: int) -> tuple[str, bytes] | None:
        """The user's entity: its external id and sealed identification (R-KEY-2)."""
        ...

    def phones_of(self, user_id: int) -> list[str]:
        """Phone numbers on record: the user's own, then those of their SMS devices."""
        ...

    def set_recovery_pin(self, user_id: int, *, pin_hash: str, now: datetime) -> None: ...

    def replace_keys(self, user_id: int, *, keep_device_id: int, now: datetime) -> list[int]:
        """R-KEY-3: every other active mobile key of the user becomes ``replaced``; their
        pending pushes are withdrawn and their sessions revoked.  Returns their ids."""
        ...

    def add_push(
        self,
        *,
        push_id: str,
        subject: str,
        purpose: str,
        app_ref: int,
        device_id: int,
        user_id: int,
        number: str,
        body: str,
        now: datetime,
        expires_at: datetime,
    ) -> None: ...

    def push(self, push_id: str) -> PushRow | None: ...

    def pending_pushes(self, app_ref: int, *, now: datetime) -> list[PushRow]: ...

    def pending_push_of(self, subject: str, *, now: datetime) -> PushRow | None:
        """The newest unanswered, unexpired push of ``subject`` (a ceremony id)."""
        ...

    def close_push(self, push_id: str, *, status: str, now: datetime) -> bool:
        """pending → ``status`` exactly once, while unexpired; False if it was closed."""
        ...

    def withdraw_pushes(self, subject: str, *, now: datetime) -> None: ...

    def keep_session(self, push_id: str, *, sealed: bytes) -> None: ...

    def take_session(self, subject: str) -> tuple[str, bytes] | None:
        """The sealed session of an approved push of this login, handed out once
        (push id, blob); None when there is none or it was collected."""
        ...

    def muted_until(self, user_id: int) -> datetime | None: ...

    def mute(self, user_id: int, *, until: datetime) -> None: ...

    def login_changes(self, login_ids: Sequence[str], *, now: datetime) -> dict[str, int | None]:
        """Long-poll checks, few rows: those of these logins that left ``challenge`` or
        expired (None), and those still in ``challenge`` that had more than one challenge
        (a resend, a fallback), with their newest challenge's id.  A login not named is
        still in ``challenge`` with the only challenge it ever had."""
        ...

    def apps_with_pushes(self, app_ids: Sequence[str], *, now: datetime) -> set[str]: ...


class PushCrypto(Protocol):
    """ECDSA P-256 / SHA-256 (docs/mobile-key-protocol.md "Cryptography")."""

    def load_public_key(self, encoded: str) -> bytes:
        """base64url DER SPKI → DER bytes; ValueError unless it is a P-256 public key."""
        ...

    def verify(self, public_key: bytes, signature: str, message: bytes) -> bool: ...

    def sign(self, message: bytes) -> str:
        """The server's push signature (base64url DER)."""
        ...

    def server_public_key(self) -> str: ...


class PushProvider(Protocol):
    """Wakes an app through a third party; the message carries only the push id.
    Raises ``DeliveryFailed(retryable=…)`` when it cannot."""

    def send(self, *, target: str, push_id: str) -> None: ...


@dataclass(frozen=True, kw_only=True)
class MobileKeyPorts:
    crypto: PushCrypto
    providers: Mapping[str, PushProvider] = field(default_factory=dict)
    #: ``host:port`` whose Web Push endpoints may be plain http (loopback push-service
    #: fakes in tests; empty in production, where every endpoint must be https)
    webpush_http_hosts: frozenset[str] = frozenset()
