"""Every purpose's push confirmation behaves like the login's (issue 11): ``GET
/api/v1/withdrawals/{id}?wait=S`` long-polls until the push approval decides the
withdrawal, and the portal's withdrawal push page reloads itself (HTTP ``Refresh``) with
the same "check" and fallback controls as the login's push page."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.service.ceremony import push
from securelogin.service.context import Services
from tests.e2e.portal_forms import csrf_of
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp
from tests.withdrawal_kit import ACCOUNT, load, session_token


@pytest.fixture
def token(services: Services) -> str:
    """Maya's session, opened with her SMS device before the mobile key exists."""
    load(services, {"maya": ["sms"]})
    return session_token(services, "maya", "sms")


@pytest.fixture
def key(api: TestClient, services: Services, clock: FakeClock, token: str) -> TestApp:
    app = TestApp(clock)
    app.activate(api, services, username="maya")
    return app


def ask(api: TestClient, token: str, device: str, key: str = "w-1") -> dict[str, Any]:
    started = api.post(
        "/api/v1/withdrawals",
        json={"account": ACCOUNT, "amount": "25.00", "destination": "Chase ****1234"}
        | {"device_id": device},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    assert started.status_code == 201, started.json()
    body: dict[str, Any] = started.json()
    assert body["factor"]["prompt"]["type"] == "push"
    return body


def test_R_KEY_4_a_withdrawal_long_poll_wakes_when_its_push_is_approved(
    api: TestClient, services: Services, key: TestApp, token: str
) -> None:
    started = ask(api, token, key.devices["maya"])
    [pending] = key.pushes(api)
    body = key.answer_body(pending, "approve", started["factor"]["prompt"]["number"])
    with services.uow() as uow:
        app_row = uow.mobile_keys.app(key.app_id)
    assert app_row is not None
    # recorded without this process's HTTP layer, as another server process would
    threading.Timer(
        0.3, lambda: push.answer_push(services, app_row, push_id=pending["push_id"], **body)
    ).start()
    began = time.monotonic()
    state = api.get(
        f"/api/v1/withdrawals/{started['withdrawal_id']}",
        params={"wait": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert state.status_code == 200 and state.json()["status"] == "accepted"
    assert time.monotonic() - began < 3
    again = api.get(
        f"/api/v1/withdrawals/{started['withdrawal_id']}",
        params={"wait": 5},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.json()["status"] == "accepted"  # decided: answers at once
    too_long = api.get(
        f"/api/v1/withdrawals/{started['withdrawal_id']}",
        params={"wait": 61},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert too_long.status_code == 422


def test_R_LOGIN_5_the_withdrawal_push_page_refreshes_itself_with_the_login_page_controls(
    api: TestClient, services: Services, key: TestApp, token: str
) -> None:
    api.cookies.set("sl_session", token)
    home = api.get("/portal/withdraw")
    assert home.status_code == 200, home.text
    started = api.post(
        "/portal/withdraw",
        data={
            "csrf_token": csrf_of(home.text),
            "account": ACCOUNT,
            "amount": "25.00",
            "destination": "Chase ****1234",
            "idempotency_key": home.text.split('name="idempotency_key" value="')[1].split('"')[0],
        },
        follow_redirects=True,
    )
    assert started.status_code == 200
    assert started.headers.get("Refresh") == "2"
    for control in ('id="push-number"', 'id="push-check"', 'id="push-fallback"'):
        assert control in started.text
    [pending] = key.pushes(api)
    number = started.text.split('id="push-number"')[1].split(">")[1][:2]
    assert key.answer(api, pending, number=number).status_code == 200
    done = api.get(str(started.url))
    assert 'data-status="accepted"' in done.text and "Refresh" not in done.headers
