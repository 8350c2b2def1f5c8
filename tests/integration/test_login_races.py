"""Races of R-LOGIN-3 and R-LOGIN-6 on PostgreSQL, in-process: the real counter holds, and
the same check catches a deliberately broken guard (a removed replay guard here; the
answer lock switched off in tests/integration/test_ceremony_races.py) — a race test
counts only if it fails when the lock is removed.

The same races across real server processes (fifty wrong answers, copies of one code,
fifty answers to one challenge) run on the three nodes of
tests/integration/test_ceremony_two_servers.py, which starts its servers once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from securelogin.adapters.db.logins import SqlDeviceAccess
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.dbutil import execute, scalar
from tests.devices import KINDS, PASSWORD, SEED20, Brokerage

pytestmark = pytest.mark.postgres
PARALLEL = 50


@pytest.fixture
def pg_services(pg_url: str, clock: object) -> Iterator[Services]:
    from securelogin.bootstrap import bootstrap
    from tests.conftest import make_settings

    wired = bootstrap(make_settings(pg_url), migrate=True)
    Brokerage().user("racer", KINDS["platinum_card"].device, KINDS["dsc"].device).load(wired)
    yield wired
    wired.database.close()


def evaluations(pg_url: str) -> int:
    """Wrong answers that reached the device check (each writes one audit event)."""
    value = scalar(pg_url, "SELECT count(*) FROM audit_events WHERE action = 'login.factor_failed'")
    return int(str(value))


def set_factor_failures(pg_url: str, n: int) -> None:
    execute(
        pg_url,
        "UPDATE users SET factor_failures = :n, factor_failed_at = now() WHERE username = 'racer'",
        n=n,
    )


def device_id(services: Services, kind: str) -> str:
    with services.uow() as uow:
        user = uow.users.by_username("racer")
        assert user is not None
        return next(r.public_id for r in uow.device_access.of_user(user.id) if r.kind == kind)


# --- the same checks catch broken guards ---------------------------------------------------


def in_process(services: Services, answers: list[tuple[str, str]]) -> list[str]:
    def one(pair: tuple[str, str]) -> str:
        try:
            login.answer_login(services, *pair)
        except SecureLoginError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, answers))


def service_logins(services: Services, n: int, device: str | None = None) -> list[str]:
    return [
        login.start_login(
            services,
            username="racer",
            password=PASSWORD,
            platform=Platform.PORTAL,
            device_id=device,
        ).login_id
        for _ in range(n)
    ]


def test_R_LOGIN_3_the_real_counter_holds_in_process_too(
    pg_url: str, pg_services: Services
) -> None:
    ids = service_logins(pg_services, PARALLEL)
    set_factor_failures(pg_url, 5)
    in_process(pg_services, [(i, "00000000") for i in ids])
    assert evaluations(pg_url) == 5


def always(value: bool) -> Callable[..., bool]:
    return lambda *args, **kwargs: value


def test_R_LOGIN_6_the_race_check_fails_without_the_replay_guard(
    pg_url: str, pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = service_logins(pg_services, PARALLEL, device=device_id(pg_services, "dsc"))
    monkeypatch.setattr(SqlDeviceAccess, "advance_counter", always(True))
    code = otp.totp(SEED20, at=time.time())
    results = in_process(pg_services, [(i, code) for i in ids])
    assert results.count("ok") > 1  # the check above would have failed
