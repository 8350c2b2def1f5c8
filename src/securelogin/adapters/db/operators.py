"""Repositories of operators, console sessions and the helpdesk (SPEC §7).

Guards are single conditional statements, so that the database decides races between
processes: failure counters (lockout), the TOTP step (replay), the move of a console
session from the TOTP stage to active, device state changes.  ``lock_user`` takes a row
lock on the user (PostgreSQL ``FOR UPDATE``; SQLite write transactions are serialised by
``BEGIN IMMEDIATE``) so two helpdesk actions on one user run one after the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.tables_operators import identity_checks, operator_sessions, operators
from securelogin.errors import Conflict
from securelogin.service.login_ports import FailureCounter, Lockout
from securelogin.service.operator_ports import IdentityCheckRow, OperatorRow, OperatorSessionRow

_COUNTERS = {
    FailureCounter.PASSWORD: (operators.c.password_failures, operators.c.password_failed_at),
    FailureCounter.FACTOR: (operators.c.factor_failures, operators.c.factor_failed_at),
}


def _operator(row: Any) -> OperatorRow:
    return OperatorRow(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        roles=frozenset(r for r in row.roles.split(",") if r),
        disabled=bool(row.disabled),
        password_failures=row.password_failures,
        password_failed_at=row.password_failed_at,
        factor_failures=row.factor_failures,
        factor_failed_at=row.factor_failed_at,
        last_totp_step=row.last_totp_step,
        created_at=row.created_at,
    )


def _session(row: Any) -> OperatorSessionRow:
    return OperatorSessionRow(
        id=row.id,
        operator_id=row.operator_id,
        stage=row.stage,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlOperators:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        username: str,
        password_hash: str,
        totp_secret: bytes,
        roles: frozenset[str],
        at: datetime,
    ) -> int:
        try:
            with self.conn.begin_nested():
                row = self.conn.execute(
                    insert(operators)
                    .values(
                        username=username,
                        password_hash=password_hash,
                        totp_secret=totp_secret,
                        roles=",".join(sorted(roles)),
                        disabled=False,
                        created_at=at,
                    )
                    .returning(operators.c.id)
                )
                return int(row.scalar_one())
        except IntegrityError:
            raise Conflict(f"operator {username} already exists") from None

    def by_username(self, username: str) -> OperatorRow | None:
        row = self.conn.execute(select(operators).where(operators.c.username == username)).first()
        return None if row is None else _operator(row)

    def by_id(self, operator_id: int) -> OperatorRow | None:
        row = self.conn.execute(select(operators).where(operators.c.id == operator_id)).first()
        return None if row is None else _operator(row)

    def all(self) -> list[OperatorRow]:
        rows = self.conn.execute(select(operators).order_by(operators.c.username))
        return [_operator(r) for r in rows]

    def set_disabled(self, operator_id: int, *, disabled: bool) -> bool:
        c = operators.c
        result = self.conn.execute(
            update(operators)
            .where(c.id == operator_id, c.disabled == (not disabled))
            .values(disabled=disabled)
        )
        return result.rowcount == 1

    def set_totp_secret(self, operator_id: int, sealed: bytes) -> None:
        self.conn.execute(
            update(operators).where(operators.c.id == operator_id).values(totp_secret=sealed)
        )

    def reserve_failure(
        self, operator_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        failures, failed_at = _COUNTERS[counter]
        other, other_at = _COUNTERS[
            FailureCounter.FACTOR if counter is FailureCounter.PASSWORD else FailureCounter.PASSWORD
        ]
        stale = or_(failed_at.is_(None), failed_at <= lockout.window_start)
        locked = and_(failures >= lockout.threshold, failed_at > lockout.window_start)
        other_locked = and_(other >= lockout.threshold, other_at > lockout.window_start)
        value = self.conn.execute(
            update(operators)
            .where(operators.c.id == operator_id, ~locked, ~other_locked)
            .values({failures: case((stale, 1), else_=failures + 1), failed_at: now})
            .returning(failures)
        ).scalar()
        return None if value is None else int(value)

    def clear_failures(self, operator_id: int, counter: FailureCounter) -> None:
        failures, _ = _COUNTERS[counter]
        self.conn.execute(
            update(operators).where(operators.c.id == operator_id).values({failures: 0})
        )

    def advance_totp_step(self, operator_id: int, step: int) -> bool:
        c = operators.c
        result = self.conn.execute(
            update(operators)
            .where(c.id == operator_id, or_(c.last_totp_step.is_(None), c.last_totp_step < step))
            .values(last_totp_step=step)
        )
        return result.rowcount == 1

    def add_session(
        self,
        *,
        token_hash: str,
        operator_id: int,
        stage: str,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        row = self.conn.execute(
            insert(operator_sessions)
            .values(
                token_hash=token_hash,
                operator_id=operator_id,
                stage=stage,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
            .returning(operator_sessions.c.id)
        )
        return int(row.scalar_one())

    def session_by_token_hash(self, token_hash: str) -> OperatorSessionRow | None:
        c = operator_sessions.c
        row = self.conn.execute(select(operator_sessions).where(c.token_hash == token_hash)).first()
        return None if row is None else _session(row)

    def promote_session(
        self, session_id: int, *, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        c = operator_sessions.c
        result = self.conn.execute(
            update(operator_sessions)
            .where(c.id == session_id, c.stage == "totp", c.revoked_at.is_(None))
            .values(
                stage="active",
                token_hash=token_hash,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )
        return result.rowcount == 1

    def touch_session(self, session_id: int, *, now: datetime) -> None:
        c = operator_sessions.c
        self.conn.execute(
            update(operator_sessions).where(c.id == session_id).values(last_seen_at=now)
        )

    def revoke_session(self, session_id: int, *, now: datetime) -> None:
        c = operator_sessions.c
        self.conn.execute(
            update(operator_sessions)
            .where(c.id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_sessions_of(self, operator_id: int, *, now: datetime) -> int:
        c = operator_sessions.c
        result = self.conn.execute(
            update(operator_sessions)
            .where(c.operator_id == operator_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)


class SqlHelpdesk:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_user(self, user_id: int) -> None:
        self.conn.execute(select(t.users.c.id).where(t.users.c.id == user_id).with_for_update())

    def record_identity_check(
        self, *, user_id: int, operator_id: int, method: str, note: str | None, at: datetime
    ) -> int:
        row = self.conn.execute(
            insert(identity_checks)
            .values(
                user_id=user_id, operator_id=operator_id, method=method, note=note, created_at=at
            )
            .returning(identity_checks.c.id)
        )
        return int(row.scalar_one())

    def identity_checks(self, user_id: int, *, limit: int) -> list[IdentityCheckRow]:
        ic, op = identity_checks.c, operators.c
        rows = self.conn.execute(
            select(ic.id, ic.user_id, op.username, ic.method, ic.note, ic.created_at)
            .join(operators, op.id == ic.operator_id)
            .where(ic.user_id == user_id)
            .order_by(ic.created_at.desc(), ic.id.desc())
            .limit(limit)
        )
        return [
            IdentityCheckRow(
                id=r.id,
                user_id=r.user_id,
                operator=r.username,
                method=r.method,
                note=r.note,
                created_at=r.created_at,
            )
            for r in rows
        ]

    def change_device_state(
        self, device_id: int, *, from_states: frozenset[str], to_state: str, now: datetime
    ) -> bool:
        c = t.devices.c
        result = self.conn.execute(
            update(t.devices)
            .where(c.id == device_id, c.state.in_(sorted(from_states)))
            .values(state=to_state)
        )
        return result.rowcount == 1

    def revoke_device_sessions(self, device_id: int, *, now: datetime) -> int:
        c = t.sessions.c
        result = self.conn.execute(
            update(t.sessions)
            .where(c.device_id == device_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def logged_in_with_device_since(
        self, user_id: int, *, excluded_kinds: frozenset[str], since: datetime
    ) -> bool:
        c = t.sessions.c
        found = self.conn.scalar(
            select(func.count())
            .select_from(t.sessions)
            .where(
                c.user_id == user_id,
                c.device_id.is_not(None),
                c.tier_kind.not_in(sorted(excluded_kinds)),
                c.created_at >= since,
            )
        )
        return bool(found)
