"""R-LIMIT-5 on PostgreSQL: what is read under an account's lock includes what the
lock's previous holder wrote.

Under READ COMMITTED a statement that waits for a row lock returns the locked row's
newest version, but reads every other table as of the moment it started — before the
wait.  So funds read in the *same* statement as the lock (a subquery over
``account_holds`` beside ``FOR UPDATE``) miss a hold placed by the transaction the lock
waited for.  ``lock_account`` therefore locks in one statement and reads in the next.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from securelogin.bootstrap import bootstrap
from securelogin.service.funds_ports import Funds
from tests.conftest import make_settings
from tests.devices import Brokerage
from tests.fakes import FakeClock

pytestmark = pytest.mark.postgres


def blocked_reader(url: str) -> None:
    """Wait until a session of this database waits for a row lock."""
    deadline = time.monotonic() + 10
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.01)
    raise AssertionError("the reader never waited for the lock")


def test_R_LIMIT_5_funds_read_under_the_lock_include_a_hold_placed_by_its_last_holder(
    pg_url: str, clock: FakeClock
) -> None:
    services = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    try:
        Brokerage().user("ann").load(services)
        with services.uow() as uow:
            account = uow.accounts.by_number("U7000001")
            assert account is not None
            before = uow.funds.funds(account.id)
        holding = threading.Event()

        def place_hold() -> None:
            with services.uow() as uow:
                uow.funds.lock_account(account.id)
                uow.deposits.add_hold(
                    account_id=account.id, amount_cents=12_345, reason="test", now=clock.now()
                )
                holding.set()
                blocked_reader(pg_url)  # commit only once the reader waits for the lock
                uow.commit()

        def read_under_lock() -> Funds:
            assert holding.wait(timeout=10)
            with services.uow() as uow:
                return uow.funds.lock_account(account.id)  # waits for place_hold's commit

        with ThreadPoolExecutor(2) as pool:
            placed = pool.submit(place_hold)
            read = pool.submit(read_under_lock)
            placed.result(timeout=30)
            funds = read.result(timeout=30)
        assert funds.held_cents == before.held_cents + 12_345
        assert funds.available_cents == before.available_cents - 12_345
    finally:
        services.database.close()
