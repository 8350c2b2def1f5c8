"""The withdrawal's push page in a real browser (Playwright + Debian's chromium), as the
login's: approved from the mobile key while the portal waits, the page shows the accepted
withdrawal by itself — no "I have approved" click — in English and Chinese (issue 11)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from securelogin.entrypoints.api.app import create_app
from tests.e2e.browser_support import enter_password, open_page, running, shot
from tests.e2e.live import serve
from tests.mobile_key_app import TestApp
from tests.withdrawal_kit import load

pytestmark = pytest.mark.browser

#: login labels, withdrawal form labels and buttons, the accepted notice, per language
WORDS = {
    "en-US": {
        "login": ("Username", "Password", "Log In"),
        "amount": "Amount (USD)",
        "destination": "Destination (your bank instruction)",
        "continue": "Continue",
        "accepted": "The withdrawal was accepted",
    },
    "zh-CN": {
        "login": ("用户名", "密码", "登录"),
        "amount": "金额（美元）",
        "destination": "收款方（您的银行指令）",
        "continue": "继续",
        "accepted": "取款已受理",
    },
}


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, httpx.Client, TestApp]]:
    for services in running(tmp_path, lambda wired: load(wired, {"maya": ["sms"]})):
        with serve(create_app(services)) as url, httpx.Client(base_url=url, timeout=30) as api:
            app = TestApp(RealClock())  # type: ignore[arg-type]
            app.activate(api, services, username="maya")  # type: ignore[arg-type]
            yield url, api, app


def approve_shown_number(page: Any, api: httpx.Client, app: TestApp) -> None:
    """The person reads the number on the page and picks it in the app."""
    from playwright.sync_api import expect

    expect(page.locator("#push-number")).to_have_text(re.compile(r"^\d\d$"))
    number = page.locator("#push-number").inner_text().strip()
    [push] = app.pushes(api)  # type: ignore[arg-type]
    assert app.answer(api, push, number=number).status_code == 200  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", list(WORDS))
def test_R_WD_4_the_withdrawal_push_page_shows_the_accepted_result_by_itself(
    browser: Any, live: tuple[str, httpx.Client, TestApp], locale: str
) -> None:
    from playwright.sync_api import expect

    server, api, app = live
    words = WORDS[locale]
    problems: list[str] = []
    page = open_page(browser, locale, problems)
    enter_password(page, server, "maya", words["login"])  # type: ignore[arg-type]
    approve_shown_number(page, api, app)
    expect(page).to_have_url(server + "/portal", timeout=10_000)
    page.goto(server + "/portal/withdraw")
    page.get_by_label(words["amount"]).fill("250.00")  # type: ignore[arg-type]
    page.get_by_label(words["destination"]).fill("Chase ****1234")  # type: ignore[arg-type]
    page.get_by_role("button", name=words["continue"]).click()  # type: ignore[arg-type]
    expect(page.locator("#withdrawal")).to_have_attribute("data-status", "confirmation_required")
    expect(page.locator("#push-fallback")).to_be_visible()  # the login page's fallback
    shot(page, f"withdraw-push-wait-{locale}")
    approve_shown_number(page, api, app)
    # no click: the page's own refresh (every 2 s, as the login's push page) shows it
    expect(page.locator("#withdrawal")).to_have_attribute("data-status", "accepted", timeout=5_000)
    expect(page.locator("#outcome-accepted")).to_contain_text(words["accepted"])  # type: ignore[arg-type]
    shot(page, f"withdraw-push-accepted-{locale}")
    assert problems == []
