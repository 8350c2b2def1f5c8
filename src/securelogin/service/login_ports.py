"""Ports of the login flow (SPEC §3): logins, challenges, sessions, failure counters and
the per-device replay bookkeeping.  Every method that guards a security rule is a single
atomic statement in the adapter (R-LOGIN-3, R-LOGIN-6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from securelogin.domain.ceremony import CeremonyState
from securelogin.service.ceremony.ports import CeremonyRow


class FailureCounter(StrEnum):
    """R-LOGIN-3: password and second-factor failures are counted separately."""

    PASSWORD = "password"  # noqa: S105 - a counter name, not a password
    FACTOR = "factor"


@dataclass(frozen=True, kw_only=True)
class Lockout:
    threshold: int
    window_start: datetime


@dataclass(frozen=True, kw_only=True)
class DeviceRow:
    id: int
    public_id: str
    kind: str
    serial: str | None
    owner_id: int | None
    state: str
    label: str | None
    secret: bytes | None
    pin_secret: bytes | None
    params: Mapping[str, str | int | bool]
    last_counter: int | None
    origin: str
    activated_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class LoginRow:
    id: str
    user_id: int
    platform: str
    #: the login's second factor (None for a password-only login, R-LOGIN-7/8)
    ceremony: CeremonyRow | None
    created_at: datetime
    expires_at: datetime
    session_id: int | None

    @property
    def status(self) -> CeremonyState:
        """A login stands where its ceremony stands; without one it is authenticated."""
        return self.ceremony.state if self.ceremony else CeremonyState.AUTHENTICATED


@dataclass(frozen=True, kw_only=True)
class ChallengeRow:
    id: int
    ceremony_id: str | None
    #: None for a factor the user knows (``ceremony.knowledge``), not a device
    device_id: int | None
    prompt: Mapping[str, object]
    value: str | None
    secret: bytes | None
    attempts: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class LoginWithChallenge:
    """A login with its ceremony's current (newest) challenge and that challenge's
    device, read together (one statement on the answer path, issue 14)."""

    login: LoginRow
    challenge: ChallengeRow | None
    #: the device ``challenge.device_id`` names (None without one)
    device: DeviceRow | None


@dataclass(frozen=True, kw_only=True)
class SessionRow:
    id: int
    user_id: int
    device_id: int | None
    access_level: str
    tier_rank: int
    tier_kind: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_seconds: int | None
    revoked_at: datetime | None
    #: state of the device that created the session (None for password-only sessions)
    device_state: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnswerLock:
    """The user's counters, read under the lock that serialises their answers."""

    user_id: int
    username: str
    password_failures: int
    password_failed_at: datetime | None
    factor_failures: int
    factor_failed_at: datetime | None


class FailureCounters(Protocol):
    def reserve(
        self, user_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        """Count one failure atomically; None when the login is already locked.  The
        password step counts *before* its slow hash (so parallel guesses never exceed the
        allowance without a lock held across the hash); a second-factor answer is
        counted after its evaluation, under :meth:`lock`."""
        ...

    def lock(self, user_id: int) -> AnswerLock | None:
        """R-LOGIN-3: lock the user's row until the transaction ends, so that the
        evaluations of one user's second-factor answers run one after the other."""
        ...

    def lock_by_login(self, login_id: str) -> AnswerLock | None:
        """:meth:`lock` for the user of login ``login_id`` (one statement: the answer
        path knows the login, not yet its user); None for an unknown login."""
        ...

    def clear(self, user_id: int, counter: FailureCounter) -> None: ...


class NameFailures(Protocol):
    """R-LOGIN-3 for usernames nobody has, keyed by a fingerprint of the typed name."""

    def reserve(self, fingerprint: str, *, now: datetime, lockout: Lockout) -> int | None:
        """Like :meth:`FailureCounters.reserve`: None while the name is locked."""
        ...

    def last(self, fingerprint: str) -> tuple[int, datetime] | None:
        """The name's failures and the time of the last one."""
        ...

    def forget_before(self, cutoff: datetime) -> int:
        """Delete names whose last failure is older than ``cutoff``; how many."""
        ...


class DeviceAccess(Protocol):
    def of_user(self, user_id: int) -> list[DeviceRow]:
        """Every device the user owns or shares, any state."""
        ...

    def by_id(self, device_id: int) -> DeviceRow | None: ...

    def by_serial(self, serial: str) -> DeviceRow | None: ...

    def advance_counter(self, device_id: int, counter: int) -> bool:
        """Store ``counter`` if it is newer than the last accepted one; False = replay."""
        ...

    def card_hashes(self, device_id: int, positions: Sequence[int]) -> dict[int, str]: ...

    def use_card_pair(self, device_id: int, pair: tuple[int, int]) -> bool:
        """Record a pair as answered; False if it was answered before (R-LOGIN-6)."""
        ...

    def card_pair_used(self, device_id: int, pair: tuple[int, int]) -> bool: ...


class LoginRepository(Protocol):
    def add(
        self,
        *,
        login_id: str,
        user_id: int,
        platform: str,
        ceremony_id: str | None,
        now: datetime,
        expires_at: datetime,
        session_id: int | None = None,
    ) -> None: ...

    def get(self, login_id: str) -> LoginRow | None:
        """The login with its ceremony (one statement)."""
        ...

    def get_with_challenge(self, login_id: str) -> LoginWithChallenge | None:
        """The login as :meth:`get` reads it, with its ceremony's current challenge and
        that challenge's device (what :meth:`ChallengeRepository.current` and
        :meth:`DeviceAccess.by_id` would read), in one round trip."""
        ...

    def finish(self, login_id: str, *, session_id: int, now: datetime) -> bool:
        """Record the session the login opened, exactly once; False if it has one."""
        ...

    def with_challenges(
        self, login_ids: Sequence[str]
    ) -> dict[str, tuple[LoginRow, ChallengeRow | None, DeviceRow | None]]:
        """Many logins at once (long-polls' first reads): each found login with its
        ceremony, the ceremony's newest challenge and that challenge's device; one
        statement per few hundred logins."""
        ...


class ChallengeRepository(Protocol):
    def add(
        self,
        *,
        ceremony_id: str | None,
        device_id: int | None,
        prompt: Mapping[str, object],
        value: str | None,
        secret: bytes | None,
        now: datetime,
        expires_at: datetime,
    ) -> int: ...

    def current(self, ceremony_id: str) -> ChallengeRow | None:
        """The newest challenge of a ceremony."""
        ...

    def open_values(self, device_id: int, *, now: datetime) -> set[str]:
        """Values of this device's challenges that could still be answered."""
        ...

    def take_attempt(self, challenge_id: int, *, now: datetime, limit: int) -> int | None:
        """Count one answer atomically; None if used, expired or out of answers."""
        ...

    def consume(self, challenge_id: int, *, now: datetime) -> bool:
        """Mark used exactly once; False if another answer got there first."""
        ...

    def retire(self, ceremony_id: str, *, now: datetime) -> None:
        """End every open challenge of a ceremony (a new code was sent)."""
        ...


class SessionRepository(Protocol):
    def add(
        self,
        *,
        token_hash: str,
        user_id: int,
        device_id: int | None,
        access_level: str,
        tier_rank: int,
        tier_kind: str | None,
        now: datetime,
        expires_at: datetime,
        idle_seconds: int | None,
    ) -> int: ...

    def by_token_hash(self, token_hash: str) -> SessionRow | None: ...

    def touch(self, session_id: int, *, now: datetime) -> None: ...

    def revoke(self, session_id: int, *, now: datetime) -> None: ...
