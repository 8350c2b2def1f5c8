"""R-LOGIN-6 for pushes on PostgreSQL across two real server processes: fifty parallel
approvals of one push (half to each server) give exactly one approval and one session.

The same check run against a push whose guards were removed (an unconditional close and
unconditional ceremony and login finishes) sees several sessions: the race test counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from securelogin.adapters.db.logins import SqlCeremonies, SqlLogins
from securelogin.adapters.db.mobile_key import SqlMobileKeys
from securelogin.domain.access import Platform
from securelogin.errors import SecureLoginError
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.dbutil import scalar
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.cli import serving
from tests.mobile_key_app import TestApp

pytestmark = pytest.mark.postgres
PARALLEL = 50


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def pg_services(pg_url: str) -> Iterator[Services]:
    from securelogin.bootstrap import bootstrap
    from tests.conftest import make_settings

    wired = bootstrap(make_settings(pg_url), migrate=True)
    Brokerage().user("alice", KINDS["sms"].device).load(wired)
    yield wired
    wired.database.close()


@pytest.fixture
def two_servers(
    pg_url: str, pg_services: Services, cli_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, str]]:
    with serving(pg_url, cli_env, tmp_path) as first, serving(pg_url, cli_env, tmp_path) as second:
        yield first, second


def activated(base: str, services: Services) -> tuple[TestApp, httpx.Client]:
    client = httpx.Client(base_url=base, timeout=60)
    app = TestApp(RealClock())  # type: ignore[arg-type]
    app.activate(client, services)  # type: ignore[arg-type]
    return app, client


def test_R_LOGIN_6_fifty_parallel_approvals_of_one_push_on_two_servers_give_one_session(
    pg_url: str, pg_services: Services, two_servers: tuple[str, str]
) -> None:
    app, client = activated(two_servers[0], pg_services)
    started = client.post(
        "/api/v1/logins", json={"username": "alice", "password": PASSWORD, "platform": "portal"}
    ).json()
    [pending] = app.pushes(client)  # type: ignore[arg-type]
    body = app.answer_body(pending, "approve", started["factor"]["prompt"]["number"])
    clients = [httpx.Client(base_url=b, timeout=60) for b in two_servers]

    def one(i: int) -> int:
        return app.call(  # type: ignore[no-any-return]
            clients[i % 2], "POST", f"/api/v1/key/pushes/{pending['push_id']}/answer", body
        ).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        codes = list(pool.map(one, range(PARALLEL)))
    for c in clients:
        c.close()
    assert codes.count(200) == 1 and codes.count(409) == PARALLEL - 1
    assert scalar(pg_url, "SELECT count(*) FROM sessions") == 1
    state = client.get(f"/api/v1/logins/{started['login_id']}").json()
    client.close()
    assert state["status"] == "authenticated" and state["session"]["token"]


def approvals_in_process(services: Services) -> list[str]:
    started = login.start_login(
        services, username="alice", password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None
    with services.uow() as uow:
        app_row = uow.mobile_keys.app_of_device(
            next(d.id for d in uow.device_access.of_user(1) if d.kind == "mobile_key")
        )
    assert app_row is not None
    [pending] = push.pending(services, app_row)
    return [started.factor.prompt.number or "", str(pending["push_id"]), app_row.app_id]


def fire_in_process(services: Services, app: TestApp, number: str, push_id: str) -> list[str]:
    with services.uow() as uow:
        app_row = uow.mobile_keys.app(app.app_id)
    assert app_row is not None
    [pending] = push.pending(services, app_row)
    body = app.answer_body(pending, "approve", number)

    def one(_: int) -> str:
        try:
            push.answer_push(services, app_row, push_id=push_id, **body)
        except SecureLoginError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def slow_always(value: bool) -> Callable[..., bool]:
    def broken(*args: Any, **kwargs: Any) -> bool:
        time.sleep(0.02)  # a slow process between its read and its write
        return value

    return broken


def test_R_LOGIN_6_the_push_race_check_fails_without_the_single_use_guard(
    pg_url: str, pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from securelogin.entrypoints.api.app import create_app

    with TestClient(create_app(pg_services)) as api:
        app = TestApp(RealClock())  # type: ignore[arg-type]
        app.activate(api, pg_services)
    number, push_id, _ = approvals_in_process(pg_services)
    monkeypatch.setattr(SqlMobileKeys, "close_push", slow_always(True))
    monkeypatch.setattr(SqlCeremonies, "finish", slow_always(True))
    monkeypatch.setattr(SqlLogins, "finish", slow_always(True))
    results = fire_in_process(pg_services, app, number, push_id)
    assert results.count("ok") > 1  # the check of the test above would have failed
    assert int(str(scalar(pg_url, "SELECT count(*) FROM sessions"))) > 1


def test_R_LOGIN_6_the_real_push_guard_holds_in_process_too(
    pg_url: str, pg_services: Services
) -> None:
    from fastapi.testclient import TestClient

    from securelogin.entrypoints.api.app import create_app

    with TestClient(create_app(pg_services)) as api:
        app = TestApp(RealClock())  # type: ignore[arg-type]
        app.activate(api, pg_services)
    number, push_id, _ = approvals_in_process(pg_services)
    results = fire_in_process(pg_services, app, number, push_id)
    assert results.count("ok") == 1
    assert int(str(scalar(pg_url, "SELECT count(*) FROM sessions"))) == 1
