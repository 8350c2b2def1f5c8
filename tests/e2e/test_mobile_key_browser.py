"""The mobile key in a real browser (Playwright + Debian's chromium): the push wait page
reloads itself until the push is approved through the app API (a test key pair), the
"Click here if you do not receive the notification" link turns into the challenge form,
and the security settings show an activation QR code (R-LOGIN-4/5, R-KEY-1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS, Brokerage
from tests.e2e.browser_support import enter_password, open_page, shot, wire
from tests.e2e.live import serve
from tests.mobile_key_app import TestApp

pytestmark = pytest.mark.browser

LABELS = ("Username", "Password", "Log In")


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    wired = wire(tmp_path)
    Brokerage().user("alice", KINDS["sms"].device).load(wired)
    yield wired
    wired.database.close()


@pytest.fixture
def live(services: Services) -> Iterator[tuple[str, httpx.Client, TestApp]]:
    with serve(create_app(services)) as url, httpx.Client(base_url=url, timeout=30) as api:
        app = TestApp(RealClock())  # type: ignore[arg-type]
        app.activate(api, services)  # type: ignore[arg-type]
        yield url, api, app


def approve_when_shown(page: Any, api: httpx.Client, app: TestApp) -> None:
    number = page.locator("#push-number").inner_text().strip()
    [push] = app.pushes(api)  # type: ignore[arg-type]
    assert number in push["choices"]
    assert app.answer(api, push, number=number).status_code == 200  # type: ignore[arg-type]


def test_R_LOGIN_4_the_push_page_logs_in_by_itself_once_the_push_is_approved(
    browser: Any, live: tuple[str, httpx.Client, TestApp]
) -> None:
    from playwright.sync_api import expect

    server, api, app = live
    problems: list[str] = []
    page = open_page(browser, "en-US", problems)
    enter_password(page, server, "alice", LABELS)
    expect(page).to_have_url(server + "/login/verify")
    expect(page.locator("section.verify")).to_have_attribute("data-prompt-type", "push")
    expect(page.locator("#push-number")).to_have_text(re.compile(r"^\d\d$"))
    shot(page, "login-mobile_key-push")
    approve_when_shown(page, api, app)
    expect(page).to_have_url(server + "/portal", timeout=10_000)  # the page's own refresh
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, alice")

    page.goto(server + "/portal/settings/mobile-key")
    expect(page.locator(".mobile-keys li")).to_have_count(1)
    page.get_by_role("button", name="Activate the Mobile Key by QR code").click()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    expect(page.locator("#activation-link")).to_contain_text("securelogin-key://activate?")
    shot(page, "settings-mobile-key-qr")
    assert problems == []


def test_R_LOGIN_5_the_fallback_link_shows_the_challenge_and_the_response_logs_in(
    browser: Any, live: tuple[str, httpx.Client, TestApp]
) -> None:
    from playwright.sync_api import expect

    server, _, app = live
    problems: list[str] = []
    page = open_page(browser, "zh-CN", problems)
    enter_password(page, server, "alice", ("用户名", "密码", "登录"))
    expect(page.locator("section.verify")).to_have_attribute("data-prompt-type", "push")
    page.get_by_role("button", name="如未收到通知，请点击此处").click()
    expect(page.locator("section.verify")).to_have_attribute("data-prompt-type", "challenge")
    challenge = page.locator("#challenge-code").inner_text().strip()
    shot(page, "login-mobile_key-fallback-zh")
    page.locator("#response").fill(app.respond("alice", challenge))
    page.locator("form.verify-form button[type=submit]").click()
    expect(page).to_have_url(server + "/portal")
    assert problems == []
