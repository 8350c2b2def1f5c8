"""Issue 12 §6 on PostgreSQL: parallel wrong app PINs evaluate exactly the allowance of
10, because each proof is counted by one conditional UPDATE before it is compared.  The
strict-xfail variant swaps in a read-then-write counter to show the check catches it.
Also: migration 0009 upgrades a database that holds a mobile key (SQLite, PostgreSQL)."""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update

from securelogin.adapters.db import tables_mobile_key as k
from securelogin.adapters.db.migrate import upgrade
from securelogin.adapters.db.mobile_key import SqlMobileKeys
from securelogin.bootstrap import bootstrap
from securelogin.errors import AppPinNotSet, SecureLoginError
from securelogin.service.context import Services
from securelogin.service.login import key_pin
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.fakes import FakeClock

PARALLEL = 40
VERIFIER, SHARE, TOKEN = (secrets.token_bytes(32) for _ in range(3))


def wire(url: str, clock: FakeClock) -> Services:
    return bootstrap(make_settings(url), migrate=True, clock=clock)


def add_app(services: Services, app_id: str = "app_racer") -> None:
    with services.uow() as uow:
        ref = uow.mobile_keys.add_app(
            app_id=app_id,
            public_key=b"not used here",
            recovery_pin_hash=services.passwords.hash("k3y!"),
            push_provider=None,
            push_target=None,
            now=services.clock.now(),
        )
        setting = key_pin.PinSetting(verifier=VERIFIER, share=SHARE, token=TOKEN)
        uow.mobile_keys.set_pin(ref, key_pin.stored(services, app_id, setting))
        uow.commit()


@pytest.fixture
def pg_services(pg_url: str, clock: FakeClock) -> Iterator[Services]:
    wired = wire(pg_url, clock)
    add_app(wired)
    yield wired
    wired.database.close()


def guess_in_parallel(services: Services) -> list[str]:
    def one(_: int) -> str:
        try:
            key_pin.unlock(
                services,
                app_id="app_racer",
                token=key_pin_b64(TOKEN),
                proof=key_pin_b64(secrets.token_bytes(32)),
            )
        except SecureLoginError as exc:
            return exc.code
        return "unlocked"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def key_pin_b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def evaluated(pg_url: str) -> int:
    sql = "SELECT count(*) FROM audit_events WHERE action = 'mobile_key.app_pin_failed'"
    return int(str(scalar(pg_url, sql)))


def read_then_write(arrived: threading.Barrier) -> Callable[..., int | None]:
    """The broken counter: read, decide in Python, write.  Every guess reads before any
    writes (the barrier), as when they arrive together on a busy server: the check must
    catch it whatever the machine's load."""

    def take_pin_attempt(self: SqlMobileKeys, app_ref: int, *, limit: int) -> int | None:
        a = k.key_apps.c
        seen = int(self.conn.execute(select(a.pin_failures).where(a.id == app_ref)).scalar_one())
        if seen >= limit:
            return None
        # a guess that failed before reading breaks the barrier: the others go on
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=10)
        self.conn.execute(update(k.key_apps).where(a.id == app_ref).values(pin_failures=seen + 1))
        return seen + 1

    return take_pin_attempt


@pytest.mark.postgres
def test_issue12_6_forty_parallel_wrong_pins_evaluate_exactly_ten(
    pg_url: str, pg_services: Services
) -> None:
    codes = guess_in_parallel(pg_services)
    assert evaluated(pg_url) == 10
    assert sorted(codes) == sorted(["app_pin_wrong"] * 9 + ["app_pin_locked"] * 31)


@pytest.mark.postgres
@pytest.mark.xfail(
    strict=True, raises=AssertionError, reason="a read-then-write counter lets more guesses through"
)
def test_issue12_6_the_race_check_fails_against_a_read_then_write_counter(
    pg_url: str, pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        SqlMobileKeys, "take_pin_attempt", read_then_write(threading.Barrier(PARALLEL))
    )
    guess_in_parallel(pg_services)
    assert evaluated(pg_url) == 10


def upgrade_with_a_mobile_key(url: str, clock: FakeClock) -> None:
    engine = create_engine(url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO key_apps (app_id, public_key, state, recovery_pin_hash,"
                    " created_at) VALUES ('app_old', :key, 'active', 'x', :now)"
                ),
                {"key": b"old key", "now": clock.now().replace(tzinfo=None)},
            )
        upgrade(engine)
    finally:
        engine.dispose()
    services = wire(url, clock)
    try:
        with services.uow() as uow:
            app = uow.mobile_keys.app("app_old")
        assert app is not None and app.pin_failures == 0 and app.pin_verifier is None
        with pytest.raises(AppPinNotSet):  # the app registers its verifier on next unlock
            key_pin.unlock(
                services, app_id="app_old", token=key_pin_b64(TOKEN), proof=key_pin_b64(VERIFIER)
            )
    finally:
        services.database.close()


def test_issue12_6_migration_0009_upgrades_a_sqlite_database_with_a_mobile_key(
    tmp_path: Path, clock: FakeClock
) -> None:
    upgrade_with_a_mobile_key(f"sqlite:///{tmp_path / 'old.db'}", clock)


@pytest.mark.postgres
def test_issue12_6_migration_0009_upgrades_a_postgres_database_with_a_mobile_key(
    pg_empty_url: str, clock: FakeClock
) -> None:
    upgrade_with_a_mobile_key(pg_empty_url, clock)
