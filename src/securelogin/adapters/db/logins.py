"""Repositories of the login flow.  Each guard is one conditional UPDATE, so that the
database — not a read in Python — decides races between processes (R-LOGIN-3, R-LOGIN-6).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
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
    LoginWithChallenge,
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


def _reserve_statement(counter: FailureCounter) -> Update:
    """Count one failure unless either counter is at the threshold within the window."""
    failures, failed_at = _COUNTERS[counter]
    window_start = bindparam("p_window_start", type_=failed_at.type)
    threshold = bindparam("p_threshold", type_=failures.type)
    stale = or_(failed_at.is_(None), failed_at <= window_start)
    locked = and_(failures >= threshold, failed_at > window_start)
    # Both counters lock the login: refuse while either is at the threshold.
    other, other_at = _COUNTERS[
        FailureCounter.FACTOR if counter is FailureCounter.PASSWORD else FailureCounter.PASSWORD
    ]
    other_locked = and_(other >= threshold, other_at > window_start)
    return (
        update(t.users)
        .where(t.users.c.id == bindparam("p_user_id"), ~locked, ~other_locked)
        .values({failures: case((stale, 1), else_=failures + 1), failed_at: bindparam("p_now")})
        .returning(failures)
    )


def _lock_statement(*, by_login: bool, lock: bool) -> Select[Any]:
    u = t.users.c
    who = (
        select(t.logins.c.user_id).where(t.logins.c.id == bindparam("p_login_id")).scalar_subquery()
        if by_login
        else bindparam("p_user_id")
    )
    statement = select(
        u.id,
        u.username,
        u.password_failures,
        u.password_failed_at,
        u.factor_failures,
        u.factor_failed_at,
    ).where(u.id == who)
    return statement.with_for_update(of=t.users) if lock else statement


# Statements of the hot paths are built once, with bind parameters (issue 14): building a
# SQLAlchemy construct per call cost about four times what executing it costs on SQLite.
_RESERVE = {counter: _reserve_statement(counter) for counter in FailureCounter}
_LOCK = {
    (by_login, lock): _lock_statement(by_login=by_login, lock=lock)
    for by_login in (False, True)
    for lock in (False, True)
}
_CLEAR = {
    counter: update(t.users).where(t.users.c.id == bindparam("p_user_id")).values({failures: 0})
    for counter, (failures, _) in _COUNTERS.items()
}


class SqlFailureCounters:
    def __init__(
        self, conn: Connection, *, locking: bool = True, unguarded_pause: float = 0.0
    ) -> None:
        self.conn = conn
        self.locking = locking
        #: tests only (adapters/faults.py): with the lock switched off, hold the read open
        self.unguarded_pause = unguarded_pause

    def reserve(
        self, user_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        value = self.conn.execute(
            _RESERVE[counter],
            {
                "p_user_id": user_id,
                "p_now": now,
                "p_threshold": lockout.threshold,
                "p_window_start": lockout.window_start,
            },
        ).scalar()
        return None if value is None else int(value)

    def lock(self, user_id: int) -> AnswerLock | None:
        statement = _LOCK[False, LOCKING and self.locking]
        return self._read(statement, {"p_user_id": user_id})

    def lock_by_login(self, login_id: str) -> AnswerLock | None:
        statement = _LOCK[True, LOCKING and self.locking]
        return self._read(statement, {"p_login_id": login_id})

    def _read(self, statement: Select[Any], params: dict[str, Any]) -> AnswerLock | None:
        row = self.conn.execute(statement, params).first()
        if self.unguarded_pause:
            time.sleep(self.unguarded_pause)
        return _answer_lock(row)

    def clear(self, user_id: int, counter: FailureCounter) -> None:
        self.conn.execute(_CLEAR[counter], {"p_user_id": user_id})


def _answer_lock(row: Any) -> AnswerLock | None:
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


_DEVICES_OF_USER = (
    select(t.devices)
    .join(t.device_users, t.device_users.c.device_id == t.devices.c.id)
    .where(t.device_users.c.user_id == bindparam("p_user_id"))
    .order_by(t.devices.c.id)
)
_DEVICE_BY_ID = select(t.devices).where(t.devices.c.id == bindparam("p_device_id"))
_ADVANCE_COUNTER = (
    update(t.devices)
    .where(
        t.devices.c.id == bindparam("p_device_id"),
        or_(
            t.devices.c.last_counter.is_(None),
            t.devices.c.last_counter < bindparam("p_counter", type_=Integer),
        ),
    )
    .values(last_counter=bindparam("p_counter", type_=Integer))
)


class SqlDeviceAccess:
    def __init__(self, conn: Connection, *, replay_guard: bool = True) -> None:
        self.conn = conn
        #: off only for a test's strict-xfail variant (adapters/faults.py)
        self.replay_guard = replay_guard

    def of_user(self, user_id: int) -> list[DeviceRow]:
        rows = self.conn.execute(_DEVICES_OF_USER, {"p_user_id": user_id})
        return [device_row(r) for r in rows]

    def by_id(self, device_id: int) -> DeviceRow | None:
        row = self.conn.execute(_DEVICE_BY_ID, {"p_device_id": device_id}).first()
        return None if row is None else device_row(row)

    def by_serial(self, serial: str) -> DeviceRow | None:
        row = self.conn.execute(select(t.devices).where(t.devices.c.serial == serial)).first()
        return None if row is None else device_row(row)

    def advance_counter(self, device_id: int, counter: int) -> bool:
        if not self.replay_guard:
            return True
        result = self.conn.execute(
            _ADVANCE_COUNTER, {"p_device_id": device_id, "p_counter": counter}
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


_ADD_CEREMONY = insert(t.ceremonies)
_CEREMONY_BY_ID = select(t.ceremonies).where(t.ceremonies.c.id == bindparam("p_id"))
_FINISH_CEREMONY = (
    update(t.ceremonies)
    .where(
        t.ceremonies.c.id == bindparam("p_id"),
        t.ceremonies.c.state == CeremonyState.CHALLENGE.value,
    )
    .values(
        state=bindparam("p_state", type_=String),
        outcome=bindparam("p_outcome", type_=String),
        finished_at=bindparam("p_now", type_=t.ceremonies.c.finished_at.type),
    )
)


class SqlCeremonies:
    """The ceremonies of every purpose (issue 11): each move out of ``challenge`` is one
    conditional UPDATE, so two processes finishing one ceremony cannot both succeed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, row: NewCeremony) -> None:
        self.conn.execute(
            _ADD_CEREMONY,
            {
                "id": row.id,
                "purpose": row.purpose.value,
                "subject": row.subject,
                "user_id": row.user_id,
                "device_id": row.device_id,
                "state": CeremonyState.CHALLENGE.value,
                "platform": row.platform,
                "client_ip": row.client_ip,
                "created_at": row.created_at,
                "expires_at": row.expires_at,
            },
        )

    def get(self, ceremony_id: str) -> CeremonyRow | None:
        row = self.conn.execute(_CEREMONY_BY_ID, {"p_id": ceremony_id}).first()
        return None if row is None else ceremony_row(row)

    def finish(
        self,
        ceremony_id: str,
        *,
        state: CeremonyState,
        outcome: CeremonyOutcome,
        now: datetime,
    ) -> bool:
        result = self.conn.execute(
            _FINISH_CEREMONY,
            {"p_id": ceremony_id, "p_state": state.value, "p_outcome": outcome.value, "p_now": now},
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


def _columns(table: Table, prefix: str) -> list[Any]:
    return [col.label(f"{prefix}{col.name}") for col in table.c]


class _Part:
    """The columns of one table inside a joined row, found by position (the table's
    columns in order, its key first)."""

    def __init__(self, table: Table, start: int) -> None:
        self.names = [col.name for col in table.c]
        self.start = start
        self.end = start + len(self.names)

    def of(self, row: Any) -> SimpleNamespace | None:
        """The table's row, or None when the outer join found none (its key is NULL)."""
        values = tuple(row)[self.start : self.end]
        if values[0] is None:
            return None
        return SimpleNamespace(**dict(zip(self.names, values, strict=True)))


#: the ceremony's columns, prefixed, beside a login's
_CEREMONY_COLUMNS = _columns(t.ceremonies, "cm_")
_LOGIN_WITH_CEREMONY = select(t.logins, *_CEREMONY_COLUMNS).select_from(
    t.logins.outerjoin(t.ceremonies, t.ceremonies.c.id == t.logins.c.ceremony_id)
)
_LOGIN_PART = _Part(t.logins, 0)
_CEREMONY_PART = _Part(t.ceremonies, _LOGIN_PART.end)
#: a login and its ceremony in one statement
_LOGIN_BY_ID = _LOGIN_WITH_CEREMONY.where(t.logins.c.id == bindparam("p_login_id"))


def _login_with_challenge() -> Select[Any]:
    """Logins, each with its ceremony, the ceremony's current (newest) challenge and that
    challenge's device, in one statement: what an answer and a login's state read (one
    login, :meth:`SqlLogins.get_with_challenge`) and the long-polls' first reads (many,
    :meth:`SqlLogins.with_challenges`)."""
    lg, cm, ch, d = t.logins, t.ceremonies, t.challenges, t.devices
    newer = ch.alias("newer")
    newest = (
        select(func.max(newer.c.id)).where(newer.c.ceremony_id == lg.c.ceremony_id)
    ).scalar_subquery()
    return select(lg, *_CEREMONY_COLUMNS, *_CHALLENGE_COLUMNS, *_DEVICE_COLUMNS).select_from(
        lg.outerjoin(cm, cm.c.id == lg.c.ceremony_id)
        .outerjoin(ch, ch.c.id == newest)
        .outerjoin(d, d.c.id == ch.c.device_id)
    )


_CHALLENGE_COLUMNS = _columns(t.challenges, "ch_")
_DEVICE_COLUMNS = _columns(t.devices, "dv_")
_LOGIN_WITH_CHALLENGE = _login_with_challenge().where(t.logins.c.id == bindparam("p_login_id"))
_LOGINS_WITH_CHALLENGES = _login_with_challenge().where(
    t.logins.c.id.in_(bindparam("ids", expanding=True))
)
_CHALLENGE_PART = _Part(t.challenges, _CEREMONY_PART.end)
_DEVICE_PART = _Part(t.devices, _CHALLENGE_PART.end)
_ADD_LOGIN = insert(t.logins)
_FINISH_LOGIN = (
    update(t.logins)
    .where(t.logins.c.id == bindparam("p_login_id"), t.logins.c.session_id.is_(None))
    .values(
        session_id=bindparam("p_session_id", type_=Integer),
        finished_at=bindparam("p_now", type_=t.logins.c.finished_at.type),
    )
)


def _login_row(row: Any) -> LoginRow:
    found = _CEREMONY_PART.of(row)
    return LoginRow(
        id=row.id,
        user_id=row.user_id,
        platform=row.platform,
        ceremony=None if found is None else ceremony_row(found),
        created_at=row.created_at,
        expires_at=row.expires_at,
        session_id=row.session_id,
    )


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
            _ADD_LOGIN,
            {
                "id": login_id,
                "user_id": user_id,
                "platform": platform,
                "ceremony_id": ceremony_id,
                "created_at": now,
                "expires_at": expires_at,
                "session_id": session_id,
                "finished_at": now if session_id is not None else None,
            },
        )

    def get(self, login_id: str) -> LoginRow | None:
        row = self.conn.execute(_LOGIN_BY_ID, {"p_login_id": login_id}).first()
        return None if row is None else _login_row(row)

    def get_with_challenge(self, login_id: str) -> LoginWithChallenge | None:
        row = self.conn.execute(_LOGIN_WITH_CHALLENGE, {"p_login_id": login_id}).first()
        return None if row is None else _with_challenge(row)

    def finish(self, login_id: str, *, session_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            _FINISH_LOGIN, {"p_login_id": login_id, "p_session_id": session_id, "p_now": now}
        )
        return result.rowcount == 1

    def with_challenges(
        self, login_ids: Sequence[str]
    ) -> dict[str, tuple[LoginRow, ChallengeRow | None, DeviceRow | None]]:
        found: dict[str, tuple[LoginRow, ChallengeRow | None, DeviceRow | None]] = {}
        for i in range(0, len(login_ids), _MANY):
            part = list(login_ids[i : i + _MANY])
            for row in self.conn.execute(_LOGINS_WITH_CHALLENGES, {"ids": part}):
                read = _with_challenge(row)
                found[row.id] = (read.login, read.challenge, read.device)
        return found


#: logins read by one statement of ``SqlLogins.with_challenges``
_MANY = 500


def _with_challenge(row: Any) -> LoginWithChallenge:
    challenge = _CHALLENGE_PART.of(row)
    device = _DEVICE_PART.of(row)
    return LoginWithChallenge(
        login=_login_row(row),
        challenge=None if challenge is None else challenge_row(challenge),
        device=None if device is None else device_row(device),
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


_ch = t.challenges.c
_ADD_CHALLENGE = insert(t.challenges).returning(_ch.id)
_CURRENT_CHALLENGE = (
    select(t.challenges)
    .where(_ch.ceremony_id == bindparam("p_ceremony_id"))
    .order_by(_ch.id.desc())
    .limit(1)
)
_OPEN_VALUES = select(_ch.value).where(
    _ch.device_id == bindparam("p_device_id"),
    _ch.used_at.is_(None),
    _ch.expires_at > bindparam("p_now"),
    _ch.value.is_not(None),
)
_TAKE_ATTEMPT = (
    update(t.challenges)
    .where(
        _ch.id == bindparam("p_id"),
        _ch.used_at.is_(None),
        _ch.expires_at > bindparam("p_now"),
        _ch.attempts < bindparam("p_limit", type_=Integer),
    )
    .values(attempts=_ch.attempts + 1)
    .returning(_ch.attempts)
)
_CONSUME = (
    update(t.challenges)
    .where(_ch.id == bindparam("p_id"), _ch.used_at.is_(None))
    .values(used_at=bindparam("p_now", type_=_ch.used_at.type))
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
            _ADD_CHALLENGE,
            {
                "ceremony_id": ceremony_id,
                "device_id": device_id,
                "prompt": json.dumps(prompt, sort_keys=True),
                "value": value,
                "secret": secret,
                "created_at": now,
                "expires_at": expires_at,
            },
        )
        return int(row.scalar_one())

    def current(self, ceremony_id: str) -> ChallengeRow | None:
        row = self.conn.execute(_CURRENT_CHALLENGE, {"p_ceremony_id": ceremony_id}).first()
        return None if row is None else challenge_row(row)

    def open_values(self, device_id: int, *, now: datetime) -> set[str]:
        rows = self.conn.scalars(_OPEN_VALUES, {"p_device_id": device_id, "p_now": now})
        return {str(v) for v in rows}

    def take_attempt(self, challenge_id: int, *, now: datetime, limit: int) -> int | None:
        value = self.conn.execute(
            _TAKE_ATTEMPT, {"p_id": challenge_id, "p_now": now, "p_limit": limit}
        ).scalar()
        return None if value is None else int(value)

    def consume(self, challenge_id: int, *, now: datetime) -> bool:
        result = self.conn.execute(_CONSUME, {"p_id": challenge_id, "p_now": now})
        return result.rowcount == 1

    def retire(self, ceremony_id: str, *, now: datetime) -> None:
        c = t.challenges.c
        self.conn.execute(
            update(t.challenges)
            .where(c.ceremony_id == ceremony_id, c.used_at.is_(None))
            .values(used_at=now)
        )


_s = t.sessions.c
_ADD_SESSION = insert(t.sessions).returning(_s.id)
_SESSION_BY_TOKEN = (
    select(t.sessions, t.devices.c.state.label("device_state"))
    .outerjoin(t.devices, t.devices.c.id == _s.device_id)
    .where(_s.token_hash == bindparam("p_token_hash"))
)
_TOUCH_SESSION = (
    update(t.sessions)
    .where(_s.id == bindparam("p_id"))
    .values(last_seen_at=bindparam("p_now", type_=_s.last_seen_at.type))
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
            _ADD_SESSION,
            {
                "token_hash": token_hash,
                "user_id": user_id,
                "device_id": device_id,
                "access_level": access_level,
                "tier_rank": tier_rank,
                "tier_kind": tier_kind,
                "created_at": now,
                "last_seen_at": now,
                "expires_at": expires_at,
                "idle_seconds": idle_seconds,
            },
        )
        return int(row.scalar_one())

    def by_token_hash(self, token_hash: str) -> SessionRow | None:
        row = self.conn.execute(_SESSION_BY_TOKEN, {"p_token_hash": token_hash}).first()
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
        self.conn.execute(_TOUCH_SESSION, {"p_id": session_id, "p_now": now})

    def revoke(self, session_id: int, *, now: datetime) -> None:
        c = t.sessions.c
        self.conn.execute(
            update(t.sessions)
            .where(c.id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
