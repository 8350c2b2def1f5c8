"""Storage on SQLite and PostgreSQL: migrations, the unit of work, the audit chain."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from securelogin.adapters.db import tables as t
from securelogin.domain.audit import AuditEvent
from securelogin.service.audit import verify_chain
from securelogin.service.context import Services


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
