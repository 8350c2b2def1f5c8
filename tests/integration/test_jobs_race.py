"""R-OPS-4 on PostgreSQL: two workers, each with its own Services (own engine and
connections), run the background jobs at the same moment over the same due devices.
Each device is reminded once and auto-activated once.

The workers meet at a barrier right after reading the list of due requests, so both
always hold the same list before either writes.  The same race is also run with the
guards removed (an unconditional ``UPDATE``): it must then fail (xfail strict), which
shows that the test catches a missing guard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.lifecycle import SqlLifecycle
from securelogin.adapters.db.replacements import SqlReplacementRequests
from securelogin.adapters.db.tables_lifecycle import replacement_requests
from securelogin.bootstrap import bootstrap
from securelogin.domain.access import AccessLevel
from securelogin.service.lifecycle import jobs, replacement
from securelogin.service.sessions import CurrentSession, Tier
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.devices import Brokerage
from tests.fakes import FakeClock
from tests.lifecycle_kit import LOGISTICS, SOFT_PIN, stock_dsc_plus

pytestmark = pytest.mark.postgres
USERS = 6


@pytest.fixture
def shipped(pg_url: str, clock: FakeClock) -> Iterator[str]:
    """``USERS`` users, each with a replacement DSC+ shipped at the same time."""
    services = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    broker = Brokerage()
    for n in range(USERS):
        broker.user(f"worker{n}")
    broker.load(services)
    for n in range(USERS):
        with services.uow() as uow:
            user = uow.users.by_username(f"worker{n}")
        assert user is not None
        session = CurrentSession(
            session_id=0,
            user_id=user.id,
            access_level=AccessLevel.FULL,
            tier=Tier(rank=1, device_kind=None),
            expires_at=clock.now() + timedelta(hours=1),
        )
        draft = replacement.draft_replacement(services, session, address="Main St", pin=SOFT_PIN)
        replacement.confirm_replacement(services, session, draft.request_id)
        stock_dsc_plus(services, serial=f"RACE-{n}")
        replacement.assign_device(
            services, LOGISTICS, request_id=draft.request_id, serial=f"RACE-{n}"
        )
        replacement.ship(services, LOGISTICS, request_id=draft.request_id)
    services.database.close()
    clock.advance(days=21)
    yield pg_url


def _race(pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    barrier = threading.Barrier(2, timeout=30)
    listed = SqlReplacementRequests.shipped_before

    def listed_then_wait(
        self: SqlReplacementRequests, cutoff: datetime, *, unreminded: bool
    ) -> Any:
        rows = listed(self, cutoff, unreminded=unreminded)
        barrier.wait()  # both workers hold the same list before either writes
        return rows

    monkeypatch.setattr(SqlReplacementRequests, "shipped_before", listed_then_wait)

    def worker() -> tuple[int, int]:
        services = bootstrap(make_settings(pg_url), migrate=False, clock=clock)
        try:
            return jobs.send_reminders(services), jobs.auto_activate(services)
        finally:
            services.database.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(worker), pool.submit(worker)]]
    assert sum(r[0] for r in results) == USERS, results
    assert sum(r[1] for r in results) == USERS, results
    count: Callable[[str], int] = lambda sql: int(str(scalar(pg_url, sql)))  # noqa: E731
    assert count("SELECT count(*) FROM audit_events WHERE action='replacement.reminded'") == USERS
    assert count("SELECT count(*) FROM audit_events WHERE action='device.activated'") == USERS
    reminders = "SELECT count(*) FROM outbox WHERE channel='portal' AND body LIKE '%activates on%'"
    assert count(reminders) == USERS
    active = "SELECT count(*) FROM devices WHERE state='active' AND serial LIKE 'RACE-%'"
    assert count(active) == USERS


def test_R_OPS_4_two_workers_activate_each_device_exactly_once(
    shipped: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _race(shipped, clock, monkeypatch)


def _unguarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guards removed: the writes no longer check the state they move from."""

    def mark_reminded(self: SqlReplacementRequests, request_id: int, *, now: datetime) -> bool:
        self.conn.execute(
            update(replacement_requests)
            .where(replacement_requests.c.id == request_id)
            .values(reminded_at=now)
        )
        return True

    def move_device(
        self: SqlLifecycle, device_id: int, *, frm: Any, to: str, **values: Any
    ) -> bool:
        self.conn.execute(
            update(t.devices).where(t.devices.c.id == device_id).values(state=to, **values)
        )
        return True

    monkeypatch.setattr(SqlReplacementRequests, "mark_reminded", mark_reminded)
    monkeypatch.setattr(SqlLifecycle, "move_device", move_device)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="no guard: duplicates")
def test_R_OPS_4_race_test_fails_without_the_conditional_updates(
    shipped: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unguarded(monkeypatch)
    _race(shipped, clock, monkeypatch)
