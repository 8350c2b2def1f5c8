"""The Client Portal side of the mobile key without JavaScript (R-LOGIN-4/5, R-KEY-1):
the push wait page with the number and "Click here if you do not receive the
notification", and activation by QR code from the security settings."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS, Brokerage
from tests.e2e.portal_forms import csrf_of, log_in, path_of, prompt_of, submit_password
from tests.fakes import FakeClock
from tests.mobile_key_app import RECOVERY_PIN, TestApp


@pytest.fixture
def browser(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        yield client


@pytest.fixture
def app(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    key = TestApp(clock)
    key.activate(api, services)
    return key


def number_on(html: str) -> str:
    found = re.search(r'id="push-number"[^>]*>(\d\d)<', html)
    assert found, "the push page shows the number to match"
    return found.group(1)


def test_R_LOGIN_4_the_push_page_shows_the_number_reloads_itself_and_logs_in_on_approval(
    api: TestClient, browser: TestClient, app: TestApp
) -> None:
    page = submit_password(browser)
    assert path_of(page) == "/login/verify" and prompt_of(page.text)["type"] == "push"
    assert page.headers["refresh"] == "2"  # no JavaScript needed
    assert "Click here if you do not receive the notification" in page.text
    number = number_on(page.text)
    [push] = app.pushes(api)
    still = browser.get("/login/verify")
    assert number_on(still.text) == number
    assert app.answer(api, push, number=number).status_code == 200
    home = browser.get("/login/verify")
    assert path_of(home) == "/portal" and "Welcome, alice" in home.text
    assert "Tier 2" in home.text


def test_R_LOGIN_5_the_fallback_link_turns_into_the_challenge_form(
    api: TestClient, browser: TestClient, app: TestApp
) -> None:
    page = submit_password(browser)
    shown = browser.post("/login/fallback", data={"csrf_token": csrf_of(page.text)})
    prompt = prompt_of(shown.text)
    assert prompt["type"] == "challenge" and len(prompt["challenge"]) == 6
    assert "Launch the Mobile Key app" in shown.text
    home = browser.post(
        "/login/verify",
        data={
            "response": app.respond("alice", prompt["challenge"]),
            "csrf_token": csrf_of(shown.text),
        },
    )
    assert path_of(home) == "/portal"


def test_R_KEY_4_a_denied_push_sends_the_browser_back_with_login_failed(
    api: TestClient, browser: TestClient, app: TestApp
) -> None:
    submit_password(browser)
    [push] = app.pushes(api)
    app.answer(api, push, decision="deny")
    back = browser.get("/login/verify")
    assert path_of(back).startswith("/") and "Login failed" in back.text


def test_R_KEY_1_the_security_settings_activate_a_mobile_key_by_qr_code(
    api: TestClient, browser: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    assert path_of(log_in(browser, "sms", clock, services)) == "/portal"
    page = browser.get("/portal/settings/mobile-key")
    assert "No Mobile Key is active" in page.text
    shown = browser.post("/portal/settings/mobile-key", data={"csrf_token": csrf_of(page.text)})
    assert "<svg" in shown.text and 'class="qr-code"' in shown.text
    link = re.search(r'id="activation-link">([^<]+)<', shown.text)
    assert link and link.group(1).startswith("securelogin-key://activate?server=")
    session = re.search(r"session=([\w-]+)", link.group(1))
    assert session
    key = TestApp(clock)
    done = api.post(
        f"/api/v1/key/activations/{session.group(1)}/complete",
        json={"public_key": key.public_key, "recovery_pin": RECOVERY_PIN},
    )
    assert done.status_code == 201 and done.json()["username"] == "alice"
    again = api.post(
        f"/api/v1/key/activations/{session.group(1)}/complete",
        json={"public_key": key.public_key, "recovery_pin": RECOVERY_PIN},
    )
    assert again.status_code == 404  # one-time
    assert "No Mobile Key is active" not in browser.get("/portal/settings/mobile-key").text


def test_R_KEY_1_the_activation_page_needs_a_session(browser: TestClient) -> None:
    assert path_of(browser.get("/portal/settings/mobile-key")) == "/"
