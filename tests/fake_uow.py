"""A unit of work in memory (cosmicpython's ``FakeUnitOfWork``): the same ports as
``adapters/db/uow.py``, so service-layer rules run without a database.

What it holds: operators and their console sessions (``OperatorRepository``), the audit
chain (``AuditLog``) and the notification outbox (``Outbox``) — everything the operator
use cases (``service/operators/operators.py``) touch.  A use case that reaches for another
repository gets an ``AttributeError`` naming it: run such tests on the ``services``
fixture (SQLite and PostgreSQL) instead.

Semantics follow the SQL adapters, and ``tests/contract/test_repositories.py`` runs the
same contract against both:

- a unit of work works on a copy of the store and publishes it only on ``commit``
  (rolled back by default; audit events are chained at commit, as ``SqlAuditLog`` does);
- units of work run one at a time (one lock, held from ``__enter__`` to ``__exit__``),
  like SQLite's ``BEGIN IMMEDIATE``; each guarded method is atomic as its single SQL
  statement is.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from securelogin.adapters.db.outbox import DELIVERED, ERROR_LENGTH, NEVER, UNDELIVERED
from securelogin.domain.audit import GENESIS_HASH, AuditEvent, ChainedEvent, link_hash
from securelogin.errors import Conflict
from securelogin.service.login_ports import FailureCounter, Lockout
from securelogin.service.operator_ports import OperatorRow, OperatorSessionRow
from securelogin.service.ports import Clock, OutboxMessage


@dataclass
class _Outgoing:
    message: OutboxMessage
    available_at: datetime


@dataclass
class FakeStore:
    """The "database": plain rows, copied into each unit of work."""

    operators: dict[int, OperatorRow] = field(default_factory=dict)
    operator_sessions: dict[int, tuple[str, OperatorSessionRow]] = field(default_factory=dict)
    audit: list[ChainedEvent] = field(default_factory=list)
    outbox: dict[int, _Outgoing] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        self.next_ids[table] = self.next_ids.get(table, 0) + 1
        return self.next_ids[table]


class FakeOperators:
    """``OperatorRepository`` in memory (adapters/db/operators.py ``SqlOperators``)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(
        self,
        *,
        username: str,
        password_hash: str,
        totp_secret: bytes,
        roles: frozenset[str],
        at: datetime,
    ) -> int:
        if self.by_username(username) is not None:
            raise Conflict(f"operator {username} already exists")
        new_id = self.store.new_id("operators")
        self.store.operators[new_id] = OperatorRow(
            id=new_id,
            username=username,
            password_hash=password_hash,
            totp_secret=totp_secret,
            roles=frozenset(roles),
            disabled=False,
            password_failures=0,
            password_failed_at=None,
            factor_failures=0,
            factor_failed_at=None,
            last_totp_step=None,
            created_at=at,
        )
        return new_id

    def by_username(self, username: str) -> OperatorRow | None:
        return next((o for o in self.store.operators.values() if o.username == username), None)

    def by_id(self, operator_id: int) -> OperatorRow | None:
        return self.store.operators.get(operator_id)

    def all(self) -> list[OperatorRow]:
        return sorted(self.store.operators.values(), key=lambda o: o.username)

    def _update(self, operator_id: int, **values: object) -> None:
        row = self.store.operators[operator_id]
        self.store.operators[operator_id] = replace(row, **values)  # type: ignore[arg-type]

    def set_disabled(self, operator_id: int, *, disabled: bool) -> bool:
        row = self.store.operators.get(operator_id)
        if row is None or row.disabled == disabled:
            return False
        self._update(operator_id, disabled=disabled)
        return True

    def set_totp_secret(self, operator_id: int, sealed: bytes) -> None:
        if operator_id in self.store.operators:
            self._update(operator_id, totp_secret=sealed)

    @staticmethod
    def _counter(row: OperatorRow, counter: FailureCounter) -> tuple[int, datetime | None]:
        if counter is FailureCounter.PASSWORD:
            return row.password_failures, row.password_failed_at
        return row.factor_failures, row.factor_failed_at

    def reserve_failure(
        self, operator_id: int, counter: FailureCounter, *, now: datetime, lockout: Lockout
    ) -> int | None:
        row = self.store.operators.get(operator_id)
        if row is None:
            return None
        for each in FailureCounter:
            failures, failed_at = self._counter(row, each)
            if failures >= lockout.threshold and failed_at and failed_at > lockout.window_start:
                return None
        failures, failed_at = self._counter(row, counter)
        stale = failed_at is None or failed_at <= lockout.window_start
        value = 1 if stale else failures + 1
        if counter is FailureCounter.PASSWORD:
            self._update(operator_id, password_failures=value, password_failed_at=now)
        else:
            self._update(operator_id, factor_failures=value, factor_failed_at=now)
        return value

    def clear_failures(self, operator_id: int, counter: FailureCounter) -> None:
        if operator_id not in self.store.operators:
            return
        if counter is FailureCounter.PASSWORD:
            self._update(operator_id, password_failures=0)
        else:
            self._update(operator_id, factor_failures=0)

    def advance_totp_step(self, operator_id: int, step: int) -> bool:
        row = self.store.operators.get(operator_id)
        if row is None or (row.last_totp_step is not None and row.last_totp_step >= step):
            return False
        self._update(operator_id, last_totp_step=step)
        return True

    def add_session(
        self,
        *,
        token_hash: str,
        operator_id: int,
        stage: str,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        if any(token == token_hash for token, _ in self.store.operator_sessions.values()):
            raise Conflict("token hash exists")  # the SQL table's unique constraint
        new_id = self.store.new_id("operator_sessions")
        self.store.operator_sessions[new_id] = (
            token_hash,
            OperatorSessionRow(
                id=new_id,
                operator_id=operator_id,
                stage=stage,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                revoked_at=None,
            ),
        )
        return new_id

    def session_by_token_hash(self, token_hash: str) -> OperatorSessionRow | None:
        found = (s for token, s in self.store.operator_sessions.values() if token == token_hash)
        return next(found, None)

    def _set_session(self, session_id: int, token: str | None = None, **values: object) -> None:
        old_token, row = self.store.operator_sessions[session_id]
        updated = replace(row, **values)  # type: ignore[arg-type]
        self.store.operator_sessions[session_id] = (token or old_token, updated)

    def promote_session(
        self, session_id: int, *, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        found = self.store.operator_sessions.get(session_id)
        if found is None or found[1].stage != "totp" or found[1].revoked_at is not None:
            return False
        self._set_session(
            session_id, token_hash, stage="active", last_seen_at=now, expires_at=expires_at
        )
        return True

    def touch_session(self, session_id: int, *, now: datetime) -> None:
        if session_id in self.store.operator_sessions:
            self._set_session(session_id, last_seen_at=now)

    def revoke_session(self, session_id: int, *, now: datetime) -> None:
        found = self.store.operator_sessions.get(session_id)
        if found is not None and found[1].revoked_at is None:
            self._set_session(session_id, revoked_at=now)

    def revoke_sessions_of(self, operator_id: int, *, now: datetime) -> int:
        ids = [
            sid
            for sid, (_, s) in self.store.operator_sessions.items()
            if s.operator_id == operator_id and s.revoked_at is None
        ]
        for sid in ids:
            self._set_session(sid, revoked_at=now)
        return len(ids)


class FakeAuditLog:
    """``AuditLog`` in memory: events wait for the commit, then are chained (R-OPS-6)."""

    def __init__(self, store: FakeStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.pending: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.pending.append(event)

    def flush(self) -> None:
        last_id, last_hash = self.head()
        for event in self.pending:
            last_id += 1
            at = self.clock.now()
            digest = link_hash(last_hash, last_id, at, event)
            self.store.audit.append(
                ChainedEvent(id=last_id, at=at, event=event, prev_hash=last_hash, hash=digest)
            )
            last_hash = digest
        self.pending.clear()

    def head(self) -> tuple[int, str]:
        if not self.store.audit:
            return 0, GENESIS_HASH
        last = self.store.audit[-1]
        return last.id, last.hash

    def chain(self) -> Iterator[ChainedEvent]:
        return iter(list(self.store.audit))


class FakeOutbox:
    """``Outbox`` in memory (adapters/db/outbox.py ``SqlOutbox``)."""

    def __init__(self, store: FakeStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def enqueue(self, *, channel: str, to: str, text: str) -> None:
        now = self.clock.now()
        new_id = self.store.new_id("outbox")
        message = OutboxMessage(
            id=new_id, channel=channel, to=to, text=text, created_at=now, sent_at=None, attempts=0
        )
        self.store.outbox[new_id] = _Outgoing(message, available_at=now)

    def claim_due(
        self,
        *,
        now: datetime,
        limit: int,
        lease_seconds: int,
        channels: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        due = [
            row
            for _, row in sorted(self.store.outbox.items())
            if row.message.sent_at is None
            and row.available_at <= now
            and (channels is None or row.message.channel in channels)
        ][:limit]
        for row in due:
            row.available_at = now + timedelta(seconds=lease_seconds)
        return [row.message for row in due]

    def mark_sent(self, message_id: int, *, now: datetime, keep_text: bool) -> None:
        row = self.store.outbox[message_id]
        text = row.message.text if keep_text else DELIVERED
        row.message = replace(row.message, sent_at=now, text=text)
        row.available_at = NEVER

    def mark_failed(
        self,
        message_id: int,
        *,
        error: str,
        retry_at: datetime | None,
        keep_text: bool = True,
    ) -> None:
        row = self.store.outbox[message_id]
        text = UNDELIVERED if retry_at is None and not keep_text else row.message.text
        row.message = replace(
            row.message,
            attempts=row.message.attempts + 1,
            last_error=error[:ERROR_LENGTH],
            text=text,
        )
        row.available_at = retry_at or NEVER

    def recent(
        self, *, to: str | None, limit: int, channels: Sequence[str] | None = None
    ) -> list[OutboxMessage]:
        rows = [
            row.message
            for _, row in sorted(self.store.outbox.items())
            if (to is None or row.message.to == to)
            and (channels is None or row.message.channel in channels)
        ]
        return rows[-limit:] if limit > 0 else []


class FakeUnitOfWork:
    """``with uow: …; uow.commit()`` on a :class:`FakeStore`; see the module docstring."""

    operators: FakeOperators
    audit: FakeAuditLog
    outbox: FakeOutbox

    def __init__(self, store: FakeStore, clock: Clock, lock: threading.Lock) -> None:
        self.store = store
        self.clock = clock
        self._lock = lock
        self._work: FakeStore | None = None
        self.committed = False

    def __enter__(self) -> Self:
        self._lock.acquire()
        work = copy.deepcopy(self.store)
        self._work = work
        self.operators = FakeOperators(work)
        self.audit = FakeAuditLog(work, self.clock)
        self.outbox = FakeOutbox(work, self.clock)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None
        self._lock.release()

    def __getattr__(self, name: str) -> object:
        raise AttributeError(
            f"FakeUnitOfWork has no in-memory `{name}`: test this use case on the "
            "`services` fixture (SQLite and PostgreSQL)"
        )

    def commit(self) -> None:
        if self._work is None:
            raise RuntimeError("unit of work used outside its with-block")
        self.audit.flush()
        self.store.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.committed = True


class FakeDatabase:
    """``Database`` of the fake: always answers, nothing to migrate."""

    def ping(self) -> None:
        return None

    def upgrade(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class FakeUnitOfWorkFactory:
    """``services.uow`` of the fake: every unit of work shares one store and one lock."""

    clock: Clock
    store: FakeStore = field(default_factory=FakeStore)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, self.clock, self.lock)
