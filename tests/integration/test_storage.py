"""Storage on SQLite and PostgreSQL: migrations, the unit of work, the audit chain."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, select, text

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.engine import SqliteWriters, make_engine
from securelogin.bootstrap import bootstrap
from securelogin.domain.audit import AuditEvent
from securelogin.errors import IntegrityViolation, StorageBusy
from securelogin.service.audit import verify_chain
from securelogin.service.context import Services
from tests.conftest import make_settings
from tests.devices import Brokerage
from tests.fakes import FakeClock


def test_the_migrations_build_exactly_the_declared_schema(services: Services) -> None:
    engine = services.database.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(services: Services) -> None:
    services.database.upgrade()
    services.database.upgrade()


def test_a_unit_of_work_that_is_not_committed_writes_nothing(services: Services) -> None:
    with services.uow() as uow:
        uow.audit.record(AuditEvent(action="test", actor="t", subject="s"))
        uow.outbox.enqueue(channel="sms", to="+15551230001", text="hello")
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        assert conn.execute(select(t.outbox)).first() is None
        assert conn.execute(select(t.audit_events)).first() is None


def test_an_error_inside_a_unit_of_work_rolls_back(services: Services) -> None:
    with pytest.raises(RuntimeError), services.uow() as uow:
        uow.outbox.enqueue(channel="sms", to="+15551230001", text="hello")
        raise RuntimeError("boom")
    with services.uow() as uow:
        assert uow.connection.execute(select(t.outbox)).first() is None  # type: ignore[attr-defined]


def test_R_OPS_6_audit_events_are_chained_in_the_committing_transaction(
    services: Services,
) -> None:
    for i in range(3):
        with services.uow() as uow:
            uow.audit.record(AuditEvent(action="test", actor="t", subject=f"s{i}", data={"i": i}))
            uow.commit()
    assert verify_chain(services).events == 3
    with services.uow() as uow:
        rows = list(uow.audit.chain())
    assert [r.id for r in rows] == [1, 2, 3]
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


def test_R_OPS_6_an_event_that_does_not_extend_the_chain_leaves_the_head_where_it_was(
    services: Services,
) -> None:
    """The head follows an inserted event by a trigger (migration 0014) only when the
    event links to it: a row written past the chain (a forged link) leaves the head on the
    last good event, and the verification names the forged row."""
    with services.uow() as uow:
        uow.audit.record(AuditEvent(action="test", actor="t", subject="s0"))
        uow.commit()
    with services.uow() as uow:
        good = uow.audit.head()
    forged = {
        "id": good[0] + 1,
        "at": datetime(2026, 12, 7, tzinfo=UTC),
        "actor": "mallory",
        "action": "test",
        "subject": "s1",
        "data": "{}",
        "prev_hash": "f" * 64,  # not the head's hash
        "hash": "e" * 64,
    }
    with services.uow() as uow:
        uow.connection.execute(insert(t.audit_events), forged)  # type: ignore[attr-defined]
        uow.commit()
    with services.uow() as uow:
        assert uow.audit.head() == good
    with pytest.raises(IntegrityViolation) as found:
        verify_chain(services)
    assert found.value.first_bad_id == good[0] + 1


def test_a_sqlite_unit_of_work_holds_the_write_lock_from_its_first_moment(
    sqlite_url: str, clock: FakeClock
) -> None:
    """``BEGIN IMMEDIATE`` (the dialect's ``do_begin``, engine.py): a second writer
    cannot begin while a unit of work is open, even before its first statement."""
    services = bootstrap(make_settings(sqlite_url), clock=clock)
    path = sqlite_url.removeprefix("sqlite:///")
    try:
        with services.uow():
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # free again once the unit of work ended
        other.execute("ROLLBACK")
        other.close()
    finally:
        services.database.close()


def test_a_sqlite_process_queues_its_writers_on_a_lock_that_each_transaction_end_frees(
    tmp_path: Path,
) -> None:
    """``SqliteWriters`` (engine.py): held from ``BEGIN IMMEDIATE`` to the commit, the
    rollback or an error — and not freed by the pool's reset of another connection, nor
    left held by a ``BEGIN`` that SQLite refused (another process had the file)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    writers = engine.dialect.do_begin.__self__  # type: ignore[attr-defined]
    assert isinstance(writers, SqliteWriters)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert writers.lock.locked()
            with engine.connect() as other:  # its pool reset must not free the writer
                other.rollback()
            assert writers.lock.locked()
            conn.commit()
            assert not writers.lock.locked()
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            raise RuntimeError("boom")
        assert not writers.lock.locked()
        holder = sqlite3.connect(tmp_path / "writers.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's writer
        refused = engine.raw_connection()
        refused.driver_connection.execute("PRAGMA busy_timeout=10")  # type: ignore[union-attr]
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            writers.begin(refused)
        assert not writers.lock.locked()
        refused.close()
        holder.execute("ROLLBACK")
        holder.close()
    finally:
        engine.dispose()


def test_a_deadlock_is_a_stable_storage_busy_error_and_writes_nothing(
    pg_url: str, clock: FakeClock
) -> None:
    """Two units of work lock two accounts in opposite orders: PostgreSQL aborts one of
    them (deadlock).  The loser gets ``storage_busy`` (503, may retry) — never a raw
    driver error, which the HTTP layer would answer with a 500 — and its writes are gone."""
    services = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    try:
        Brokerage().user("ann").user("bob").load(services)
        with services.uow() as uow:
            first, second = (uow.accounts.by_number(n) for n in ("U7000001", "U7000002"))
        assert first is not None and second is not None
        before = outbox_rows(services)
        both_locked_one = threading.Barrier(2)

        def lock_in_order(ids: tuple[int, int], tag: str) -> str:
            try:
                with services.uow() as uow:
                    uow.funds.lock_account(ids[0])
                    uow.outbox.enqueue(channel="sms", to="+15551230001", text=tag)
                    both_locked_one.wait(timeout=10)
                    uow.funds.lock_account(ids[1])
                    uow.commit()
                return "committed"
            except StorageBusy as exc:
                assert exc.code == "storage_busy"
                return "busy"

        with ThreadPoolExecutor(2) as pool:
            results = sorted(
                pool.map(
                    lock_in_order,
                    [(first.id, second.id), (second.id, first.id)],
                    ["one", "two"],
                )
            )
        assert results == ["busy", "committed"]
        assert outbox_rows(services) == before + 1  # the loser's message was rolled back
    finally:
        services.database.close()


def outbox_rows(services: Services) -> int:
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())
