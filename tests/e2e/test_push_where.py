"""R-KEY-4 "who is logging in, from where, what for": a withdrawal's push names the client
address the server saw, like a login's — through the API and the portal's form.  SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.e2e.portal_forms import csrf_of, log_in, path_of
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp
from tests.withdrawal_kit import ACCOUNT, bearer, load, session_token

PHONE = "+15551230089"  # withdrawal_kit's users


@pytest.fixture
def browser(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        yield client


@pytest.fixture
def token(services: Services) -> str:
    load(services, {"maya": ["sms"]})
    return session_token(services, "maya", "sms")


def activate(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    app = TestApp(clock)
    app.activate(api, services, username="maya", phone=PHONE)
    return app


def test_R_KEY_4_a_withdrawal_push_from_the_api_names_the_client_address(
    api: TestClient, services: Services, clock: FakeClock, token: str
) -> None:
    app = activate(api, services, clock)
    started = api.post(
        "/api/v1/withdrawals",
        json={
            "account": ACCOUNT,
            "amount": "250.00",
            "destination": "Chase ****1234",
            "device_id": app.devices["maya"],
        },
        headers=bearer(token) | {"Idempotency-Key": "k-where"},
    )
    assert started.status_code == 201, started.json()
    assert started.json()["factor"]["prompt"]["type"] == "push"
    [pushed] = app.pushes(api)
    assert pushed["purpose"] == "withdrawal" and pushed["amount"] == "250.00"
    assert pushed["where"] == {"ip": "testclient", "platform": "portal"}  # TestClient's address


def test_R_KEY_4_a_withdrawal_push_from_the_portal_form_names_the_client_address(
    api: TestClient, browser: TestClient, services: Services, clock: FakeClock, token: str
) -> None:
    assert path_of(log_in(browser, "sms", clock, services, username="maya")) == "/portal"
    app = activate(api, services, clock)  # the strongest device: withdrawals go by push
    form = browser.get("/portal/withdraw")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key, "the withdrawal form carries its idempotency key"
    asked = browser.post(
        "/portal/withdraw",
        data={
            "csrf_token": csrf_of(form.text),
            "idempotency_key": key.group(1),
            "account": ACCOUNT,
            "amount": "125.00",
            "destination": "Chase ****1234",
        },
    )
    assert asked.status_code == 200 and path_of(asked).startswith("/portal/withdraw/wd_")
    [pushed] = app.pushes(api)
    assert pushed["purpose"] == "withdrawal" and pushed["amount"] == "125.00"
    assert pushed["where"]["ip"] == "testclient"
