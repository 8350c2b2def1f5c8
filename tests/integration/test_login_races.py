"""Races of R-LOGIN-3 and R-LOGIN-6 on PostgreSQL, across two real server processes.

Each race is also run in-process against a deliberately broken guard (a removed replay
guard here; the answer lock switched off in tests/integration/test_ceremony_races.py) to
show that the same check catches the broken code: a race test counts only if it fails
when the lock is removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from securelogin.adapters.db.logins import SqlDeviceAccess
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.domain.devices.registry import LEGACY_CARD_SUITE
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.dbutil import execute, scalar
from tests.devices import KINDS, PASSWORD, SEED20, Brokerage
from tests.e2e.cli import serving

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


@pytest.fixture
def two_servers(
    pg_url: str, pg_services: Services, cli_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, str]]:
    with serving(pg_url, cli_env, tmp_path) as first, serving(pg_url, cli_env, tmp_path) as second:
        yield first, second


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


def start_logins(base_urls: tuple[str, ...], n: int, device: str | None = None) -> list[dict]:
    body = {"username": "racer", "password": PASSWORD, "platform": "portal"}
    if device:
        body["device_id"] = device

    def one(i: int) -> dict:
        answer = httpx.post(base_urls[i % len(base_urls)] + "/api/v1/logins", json=body, timeout=60)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def fire(base_urls: tuple[str, ...], answers: list[tuple[str, str]]) -> list[int]:
    """Send every (login_id, response) at once, alternating between the servers."""

    def one(i: int) -> int:
        login_id, response = answers[i]
        return httpx.post(
            f"{base_urls[i % len(base_urls)]}/api/v1/logins/{login_id}/answer",
            json={"response": response},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(len(answers))))


def test_R_LOGIN_3_fifty_parallel_wrong_answers_with_five_left_evaluate_at_most_five(
    pg_url: str, two_servers: tuple[str, str]
) -> None:
    logins = start_logins(two_servers, PARALLEL)
    set_factor_failures(pg_url, 5)
    statuses = fire(two_servers, [(lg["login_id"], "00000000") for lg in logins])
    assert evaluations(pg_url) == 5
    assert sorted(statuses) == [401] * 5 + [423] * 45
    assert (
        httpx.post(
            two_servers[0] + "/api/v1/logins", json={"username": "racer", "password": PASSWORD}
        ).status_code
        == 423
    )


def test_R_LOGIN_6_fifty_parallel_submissions_of_one_totp_code_give_exactly_one_session(
    pg_url: str, two_servers: tuple[str, str], pg_services: Services
) -> None:
    dsc = device_id(pg_services, "dsc")
    logins = start_logins(two_servers, PARALLEL, device=dsc)
    code = otp.totp(SEED20, at=time.time())
    statuses = fire(two_servers, [(lg["login_id"], code) for lg in logins])
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 409}  # the copies are already used, not failures
    assert scalar(pg_url, "SELECT count(*) FROM sessions") == 1


def test_R_LOGIN_6_fifty_parallel_answers_to_one_challenge_give_exactly_one_session(
    pg_url: str, two_servers: tuple[str, str]
) -> None:
    (started,) = start_logins(two_servers, 1)
    response = otp.ocra(
        LEGACY_CARD_SUITE, SEED20, question=started["factor"]["prompt"]["challenge"]
    )
    statuses = fire(two_servers, [(started["login_id"], response)] * PARALLEL)
    assert statuses.count(200) == 1
    assert scalar(pg_url, "SELECT count(*) FROM sessions") == 1


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
