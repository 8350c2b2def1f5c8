"""Ports of operators, the operator console and the helpdesk (SPEC §1 "Operator", §7).

Every method that guards a rule is one atomic statement in the adapter: failure counters
(lockout), the TOTP step (never accepted twice), a session's move from the TOTP stage to
active, a device's state change, the per-user lock of the helpdesk (R-LOST-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from securelogin.service.login_ports import FailureCounter, Lockout


@dataclass(frozen=True, kw_only=True)
class OperatorRow:
    id: int
    username: str
    password_hash: str
    totp_secret: bytes
    roles: frozenset[str]
    disabled: bool
    password_failures: int
    password_failed_at: datetime | None
    factor_failures: int
    factor_failed_at: datetime | None
    last_totp_step: int | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class OperatorSessionRow:
    id: int
    operator_id: int
    stage: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class IdentityCheckRow:
    id: int
    user_id: int
    operator: str
    method: str
    note: str | None
    created_at: datetime


class OperatorRepository(Protocol):
    def add(
        self,
        *,
        username: str,
        password_hash: str,
        totp_secret: bytes,
        roles: frozenset[str],
        at: datetime,
    ) -> int:
        """Insert an operator; ``Conflict`` when the username exists."""
        ...

    def by_username(self, username: str) -> OperatorRow | None: ...

    def by_id(self, operator_id: int) -> OperatorRow | None: ...

    def all(self) -> list[OperatorRow]: ...

    def set_disabled(self, operator_id: int, *, disabled: bool) -> bool:
        """Change the flag; False when it already had that value (a double action)."""
        ...

    def set_totp_secret(self, operator_id: int, sealed: bytes) -> None:
        """Replace the sealed TOTP seed (an admin's reset)."""
        ...

    def reserve_failure(
        self, operator_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        """Count one failure before the answer is checked; None when already locked."""
        ...

    def clear_failures(self, operator_id: int, counter: FailureCounter) -> None: ...

    def advance_totp_step(self, operator_id: int, step: int) -> bool:
        """Store ``step`` if newer than the last accepted one; False = replay."""
        ...

    def add_session(
        self,
        *,
        token_hash: str,
        operator_id: int,
        stage: str,
        now: datetime,
        expires_at: datetime,
    ) -> int: ...

    def session_by_token_hash(self, token_hash: str) -> OperatorSessionRow | None: ...

    def promote_session(
        self, session_id: int, *, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        """TOTP stage → active with a new token, exactly once; False if it already moved."""
        ...

    def touch_session(self, session_id: int, *, now: datetime) -> None: ...

    def revoke_session(self, session_id: int, *, now: datetime) -> None: ...

    def revoke_sessions_of(self, operator_id: int, *, now: datetime) -> int: ...


class HelpdeskRepository(Protocol):
    def lock_user(self, user_id: int) -> None:
        """Serialise helpdesk actions on one user (``SELECT … FOR UPDATE``)."""
        ...

    def record_identity_check(
        self, *, user_id: int, operator_id: int, method: str, note: str | None, at: datetime
    ) -> int: ...

    def identity_checks(self, user_id: int, *, limit: int) -> list[IdentityCheckRow]:
        """The newest checks first."""
        ...

    def change_device_state(
        self, device_id: int, *, from_states: frozenset[str], to_state: str, now: datetime
    ) -> bool:
        """Move a device to ``to_state`` only from one of ``from_states``; False otherwise."""
        ...

    def revoke_device_sessions(self, device_id: int, *, now: datetime) -> int:
        """End every open session the device created (R-LOGIN-11)."""
        ...

    def logged_in_with_device_since(
        self, user_id: int, *, excluded_kinds: frozenset[str], since: datetime
    ) -> bool:
        """True when a device of a kind not in ``excluded_kinds`` opened a session at or
        after ``since`` (R-LOST-1: "a non-temporary device was used since")."""
        ...
