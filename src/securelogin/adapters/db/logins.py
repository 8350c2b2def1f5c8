"""Repositories of the login flow.  Each guard is one conditional UPDATE, so that the
database — not a read in Python — decides races between processes (R-LOGIN-3, R-LOGIN-6).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.domain.ceremony import CeremonyOutcome, CeremonyState
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.ceremony.ports import CeremonyRow, NewCeremony
from securelogin.service.login_ports import (
    AnswerLock,
    ChallengeRow,
    DeviceRow,
    FailureCounter,
    Lockout,
    LoginRow,
    SessionRow,
)

#: R-LOGIN-3: one user's second-factor answers are evaluated one at a time, under a row
#: lock on the user (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE``
#: already serialises writers).  Switched off only by the race tests' strict-xfail
#: variants, to show that their checks fail without it.
LOCKING = True

_COUNTERS = {
    FailureCounter.PASSWORD: (t.users.c.password_failures, t.users.c.password_failed_at),
    FailureCounter.FACTOR: (t.users.c.factor_failures, t.users.c.factor_failed_at),
}


class SqlFailureCounters:
    def __init__(self, conn: Connection, *, locking: bool = True) -> None:
        self.conn = conn
        self.locking = locking

    def reserve(
        self, user_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        failures, failed_at = _COUNTERS[counter]
        stale = or_(failed_at.is_(None), failed_at <= lockout.window_start)
        locked = and_(failures >= lockout.threshold, failed_at > lockout.window_start)
        # Both counters lock the login: refuse while either is at the threshold.
        other, other_at = _COUNTERS[
            FailureCounter.FACTOR if counter is FailureCounter.PASSWORD else FailureCounter.PASSWORD
        ]
        other_locked = and_(other >= lockout.threshold, other_at > lockout.window_start)
        statement = (
            update(t.users)
            .where(t.users.c.id == user_id, ~locked, ~other_locked)
            .values({failures: case((stale, 1), else_=failures + 1), failed_at: now})
            .returning(failures)
        )
        value = self.conn.execute(statement).scalar()
        return None if value is None else int(value)

    def lock(self, user_id: int) -> AnswerLock | None:
        u = t.users.c
        statement = select(
            u.id,
            u.username,
            u.password_failures,
            u.password_failed_at,
            u.factor_failures,
            u.factor_failed_at,
        ).where(u.id == user_id)
        if LOCKING and self.locking:
            statement = statement.with_for_update()
        row = self.conn.execute(statement).first()
        if row is None:
            return None
        return AnswerLock(
            user_id=row.id,
            username=row.username,
            password_failures=row.password_failures,
            password_failed_at=row.password_failed_at,
            factor_failures=row.factor_failures,
            factor_failed_at=row.factor_failed_at,
        )

    def clear(self, user_id: int, counter: FailureCounter) -> None:
        failures, _ = _COUNTERS[counter]
        self.conn.execute(update(t.users).where(t.users.c.id == user_id).values({failures: 0}))


def device_row(row: Any) -> DeviceRow:
    return DeviceRow(
        id=row.id,
        public_id=row.public_id,
        kind=row.kind,
        serial=row.serial,
        owner_id=row.owner_id,
        state=row.state,
        label=row.label,
        secret=row.secret,
        pin_secret=row.pin_secret,
        params=json.loads(row.params or "{}"),
        last_counter=row.last_counter,
        origin=row.origin,
        activated_at=row.activated_at,
        expires_at=row.expires_at,
    )


class SqlDeviceAccess:
    def __init__(self, conn: Connection, *, replay_guard: bool = True) -> None:
        self.conn = conn
        #: off only for a test's strict-xfail variant (adapters/faults.py)
        self.replay_guard = replay_guard

    def of_user(self, user_id: int) -> list[DeviceRow]:
        d, du = t.devices, t.device_users
        rows = self.conn.execute(
            select(d)
            .join(du, du.c.device_id == d.c.id)
            .where(du.c.user_id == user_id)
            .order_by(d.c.id)
        )
        return [device_row(r) for r in rows]

    def by_id(self, device_id: int) -> DeviceRow | None:
        row = self.conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
        return None if row is None else device_row(row)

    def by_serial(self, serial: str) -> DeviceRow | None:
        row = self.conn.execute(select(t.devices).where(t.devices.c.serial == serial)).first()
        return None if row is None else device_row(row)

    def advance_counter(self, device_id: int, counter: int) -> bool:
        if not self.replay_guard:
            return True
        c = t.devices.c
        result = self.conn.execute(
            update(t.devices)
            .where(c.id == device_id, or_(c.last_counter.is_(None), c.last_counter < counter))
            .values(last_counter=counter)
        )
        return result.rowcount == 1

    def card_hashes(self, device_id: int, positions: Sequence[int]) -> dict[int, str]:
        c = t.card_values.c
        rows = self.conn.execute(
            select(c.position, c.value_hash).where(
                c.device_id == device_id, c.position.in_(list(positions))
            )
        )
        return {int(p): str(h) for p, h in rows}

    def use_card_pair(self, device_id: int, pair: tuple[int, int]) -> bool:
        # A savepoint keeps the outer transaction usable when the pair is already there.
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.card_used_pairs).values(
                        device_id=device_id, first=pair[0], second=pair[1]
                    )
                )
        except IntegrityError:
            return False
        return True

    def card_pair_used(self, device_id: int, pair: tuple[int, int]) -> bool:
        c = t.card_used_pairs.c
        found = self.conn.execute(
            select(c.device_id).where(
                c.device_id == device_id, c.first == pair[0], c.second == pair[1]
            )
        ).first()
        return found is not None


def ceremony_row(row: Any) -> CeremonyRow:
    return CeremonyRow(
        id=row.id,
        purpose=Purpose(row.purpose),
        subject=row.subject,
        user_id=row.user_id,
        device_id=row.device_id,
        state=CeremonyState(row.state),
        platform=row.platform,
        client_ip=row.client_ip,
        sends=row.sends,
        created_at=row.created_at,
        expires_at=row.expires_at,
        finished_at=row.finished_at,
        outcome=None if row.outcome is None else CeremonyOutcome(row.outcome),
    )


class SqlCeremonies:
    """The ceremonies of every purpose (issue 11): each move out of ``challenge`` is one
    conditional UPDATE, so two processes finishing one ceremony cannot both succeed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, row: NewCeremony) -> None:
        self.conn.execute(
            insert(t.ceremonies).values(
                id=row.id,
                purpose=row.purpose.value,
                subject=row.subject,
                user_id=row.user_id,
                device_id=row.device_id,
                state=CeremonyState.CHALLENGE.value,
                platform=row.platform,
                client_ip=row.client_ip,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )
        )

    def get(self, ceremony_id: str) -> CeremonyRow | None:
        c = t.ceremonies.c
        row = self.conn.execute(select(t.ceremonies).where(c.id == ceremony_id)).first()
        return None if row is None else ceremony_row(row)

    def finish(
        self,
        ceremony_id: str,
        *,
        state: CeremonyState,
        outcome: CeremonyOutcome,
        now: datetime,
    ) -> bool:
        c = t.ceremonies.c
        result = self.conn.execute(
            update(t.ceremonies)
            .where(c.id == ceremony_id, c.state == CeremonyState.CHALLENGE.value)
            .values(state=state.value, outcome=outcome.value, finished_at=now)
        )
        return result.rowcount == 1

    def set_device(self, ceremony_id: str, *, device_id: int) -> None:
        c = t.ceremonies.c
        self.conn.execute(
            update(t.ceremonies).where(c.id == ceremony_id).values(device_id=device_id)
        )

    def count_send(self, ceremony_id: str, *, limit: int) -> bool:
        c = t.ceremonies.c
        result = self.conn.execute(
            update(t.ceremonies)
            .where(c.id == ceremony_id, c.sends < limit)
            .values(sends=c.sends + 1)
        )
        return result.rowcount == 1


#: a login and its ceremony in one statement (the ceremony's columns prefixed)
_CEREMONY_COLUMNS = [col.label(f"cm_{col.name}") for col in t.ceremonies.c]


class SqlLogins:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
    ) -> None:
        self.conn.execute(
            insert(t.logins).values(
                id=login_id,
                user_id=user_id,
                platform=platform,
                ceremony_id=ceremony_id,
                created_at=now,
                expires_at=expires_at,
                session_id=session_id,
                finished_at=now if session_id is not None else None,
            )
        )

    def get(self, login_id: str) -> LoginRow | None:
        lg, cm = t.logins, t.ceremonies
        row = self.conn.execute(
            select(lg, *_CEREMONY_COLUMNS)
            .select_from(lg.outerjoin(cm, cm.c.id == lg.c.ceremony_id))
            .where(lg.c.id == login_id)
        ).first()
        if row is None:
            return None
        ceremony = None
        if row.ceremony_id is not None:
            values = row._mapping
            ceremony = ceremony_row(
                SimpleNamespace(**{col.name: values[f"cm_{col.name}"] for col in cm.c})
            )
        return LoginRow(
            id=row.id,
            user_id=row.user_id,
            platform=row.platform,
            ceremony=ceremony,
            created_at=row.created_at,
            expires_at=row.expires_at,
            session_id=row.session_id,
        )

    def finish(self, login_id: str, *, session_id: int, now: datetime) -> bool:
        c = t.logins.c
        result = self.conn.execute(
            update(t.logins)
            .where(c.id == login_id, c.session_id.is_(None))
            .values(session_id=session_id, finished_at=now)
        )
        return result.rowcount == 1

    def with_challenges(
        self, login_ids: Sequence[str]
    ) -> dict[str, tuple[LoginRow, ChallengeRow | None, DeviceRow | None]]:
        lg, cm, ch, dv = t.logins, t.ceremonies, t.challenges, t.devices
        newer = ch.alias("newer")
        newest = (
            select(func.max(newer.c.id)).where(newer.c.ceremony_id == lg.c.ceremony_id)
        ).scalar_subquery()
        statement = (
            select(lg, *_CEREMONY_COLUMNS, *_CHALLENGE_COLUMNS, *_DEVICE_COLUMNS)
            .select_from(
                lg.outerjoin(cm, cm.c.id == lg.c.ceremony_id)
                .outerjoin(ch, ch.c.id == newest)
                .outerjoin(dv, dv.c.id == ch.c.device_id)
            )
            .where(lg.c.id.in_(bindparam("ids", expanding=True)))
        )
        found: dict[str, tuple[LoginRow, ChallengeRow | None, DeviceRow | None]] = {}
        for i in range(0, len(login_ids), _MANY):
            part = list(login_ids[i : i + _MANY])
            for row in self.conn.execute(statement, {"ids": part}):
                values = row._mapping
                challenge = device = None
                if values["ch_id"] is not None:
                    challenge = challenge_row(_prefixed(values, "ch_", ch))
                if values["dv_id"] is not None:
                    device = device_row(_prefixed(values, "dv_", dv))
                found[row.id] = (_login_row(row), challenge, device)
        return found


#: logins read by one statement of ``SqlLogins.with_challenges``
_MANY = 500
_CHALLENGE_COLUMNS = [col.label(f"ch_{col.name}") for col in t.challenges.c]
_DEVICE_COLUMNS = [col.label(f"dv_{col.name}") for col in t.devices.c]


def _prefixed(values: Any, prefix: str, table: Any) -> SimpleNamespace:
    return SimpleNamespace(**{col.name: values[f"{prefix}{col.name}"] for col in table.c})


def _login_row(row: Any) -> LoginRow:
    """A login row read with ``_CEREMONY_COLUMNS``."""
    ceremony = None
    if row.ceremony_id is not None:
        ceremony = ceremony_row(_prefixed(row._mapping, "cm_", t.ceremonies))
    return LoginRow(
        id=row.id,
        user_id=row.user_id,
        platform=row.platform,
        ceremony=ceremony,
        created_at=row.created_at,
        expires_at=row.expires_at,
        session_id=row.session_id,
    )


def challenge_row(row: Any) -> ChallengeRow:
    return ChallengeRow(
        id=row.id,
        ceremony_id=row.ceremony_id,
        device_id=row.device_id,
        prompt=json.loads(row.prompt),
        value=row.value,
        secret=row.secret,
        attempts=row.attempts,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class SqlChallenges:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
    ) -> int:
        row = self.conn.execute(
            insert(t.challenges)
            .values(
                ceremony_id=ceremony_id,
                device_id=device_id,
                prompt=json.dumps(prompt, sort_keys=True),
                value=value,
                secret=secret,
                created_at=now,
                expires_at=expires_at,
            )
            .returning(t.challenges.c.id)
        )
        return int(row.scalar_one())

    def current(self, ceremony_id: str) -> ChallengeRow | None:
        c = t.challenges.c
        row = self.conn.execute(
            select(t.challenges).where(c.ceremony_id == ceremony_id).order_by(c.id.desc()).limit(1)
        ).first()
        return None if row is None else challenge_row(row)

    def open_values(self, device_id: int, *, now: datetime) -> set[str]:
        c = t.challenges.c
        rows = self.conn.scalars(
            select(c.value).where(
                c.device_id == device_id,
                c.used_at.is_(None),
                c.expires_at > now,
                c.value.is_not(None),
            )
        )
        return {str(v) for v in rows}

    def take_attempt(self, challenge_id: int, *, now: datetime, limit: int) -> int | None:
        c = t.challenges.c
        value = self.conn.execute(
            update(t.challenges)
            .where(
                c.id == challenge_id, c.used_at.is_(None), c.expires_at > now, c.attempts < limit
            )
            .values(attempts=c.attempts + 1)
            .returning(c.attempts)
        ).scalar()
        return None if value is None else int(value)

    def consume(self, challenge_id: int, *, now: datetime) -> bool:
        c = t.challenges.c
        result = self.conn.execute(
            update(t.challenges)
            .where(c.id == challenge_id, c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    def retire(self, ceremony_id: str, *, now: datetime) -> None:
        c = t.challenges.c
        self.conn.execute(
            update(t.challenges)
            .where(c.ceremony_id == ceremony_id, c.used_at.is_(None))
            .values(used_at=now)
        )


class SqlSessions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
    ) -> int:
        row = self.conn.execute(
            insert(t.sessions)
            .values(
                token_hash=token_hash,
                user_id=user_id,
                device_id=device_id,
                access_level=access_level,
                tier_rank=tier_rank,
                tier_kind=tier_kind,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                idle_seconds=idle_seconds,
            )
            .returning(t.sessions.c.id)
        )
        return int(row.scalar_one())

    def by_token_hash(self, token_hash: str) -> SessionRow | None:
        s, d = t.sessions, t.devices
        row = self.conn.execute(
            select(s, d.c.state.label("device_state"))
            .outerjoin(d, d.c.id == s.c.device_id)
            .where(s.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return SessionRow(
            id=row.id,
            user_id=row.user_id,
            device_id=row.device_id,
            access_level=row.access_level,
            tier_rank=row.tier_rank,
            tier_kind=row.tier_kind,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            idle_seconds=row.idle_seconds,
            revoked_at=row.revoked_at,
            device_state=row.device_state,
        )

    def touch(self, session_id: int, *, now: datetime) -> None:
        self.conn.execute(
            update(t.sessions).where(t.sessions.c.id == session_id).values(last_seen_at=now)
        )

    def revoke(self, session_id: int, *, now: datetime) -> None:
        c = t.sessions.c
        self.conn.execute(
            update(t.sessions)
            .where(c.id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
