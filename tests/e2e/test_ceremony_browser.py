"""The withdrawal's push page in a real browser (Playwright + Debian's chromium), as the
login's: approved from the mobile key while the portal waits, the page shows the accepted
withdrawal by itself — no "I have approved" click — in English and Chinese (issue 11).
The share request's push page does the same when the owner approves on the mobile key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from securelogin.entrypoints.api.app import create_app
from tests.devices import PASSWORD
from tests.e2e.browser_support import (
    device_answer,
    enter_password,
    open_page,
    read_prompt,
    running,
    shot,
)
from tests.e2e.live import serve
from tests.integration import sharing_data
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
        "owner": "Device owner's username",
        "owner_password": "Device owner's password",
        "device": "Device ID (optional; the owner's most secure device by default)",
        "share_pending": "needs the approval of our Compliance department",
    },
    "zh-CN": {
        "login": ("用户名", "密码", "登录"),
        "amount": "金额（美元）",
        "destination": "收款方（您的银行指令）",
        "continue": "继续",
        "accepted": "取款已受理",
        "owner": "设备所有人的用户名",
        "owner_password": "设备所有人的密码",
        "device": "设备编号（可选；默认为所有人最安全的设备）",
        "share_pending": "需要合规部门批准",
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


@pytest.fixture
def sharing_live(tmp_path: Path) -> Iterator[tuple[str, httpx.Client, TestApp, Any]]:
    """alice holds a mobile key; twin (a trust with her identification data: compliance
    decides, so twin's session survives the owner's approval) logs in with a code card."""
    people = (
        sharing_data.user("alice", "E-A", "U1000001", sharing_data.sms()),
        sharing_data.user("twin", "E-T", "U2000001", sharing_data.code_card("SCC-T")),
    )
    for services in running(tmp_path, lambda wired: sharing_data.load(wired, *people)):
        with serve(create_app(services)) as url, httpx.Client(base_url=url, timeout=30) as api:
            app = TestApp(RealClock())  # type: ignore[arg-type]
            app.activate(api, services, username="alice")  # type: ignore[arg-type]
            yield url, api, app, services


@pytest.mark.parametrize("locale", list(WORDS))
def test_R_SHARE_1_the_share_push_page_shows_the_outcome_by_itself(
    browser: Any, sharing_live: tuple[str, httpx.Client, TestApp, Any], locale: str
) -> None:
    from playwright.sync_api import expect

    server, api, app, services = sharing_live
    words = WORDS[locale]
    problems: list[str] = []
    page = open_page(browser, locale, problems)
    enter_password(page, server, "twin", words["login"])  # type: ignore[arg-type]
    first, second = device_answer("code_card", services)(read_prompt(page)).split()
    page.locator("#response").fill(first)  # the card's two boxes, in any language
    page.locator("#response_2").fill(second)
    page.locator("form.verify-form button[type=submit]").click()
    expect(page).to_have_url(server + "/portal")
    page.goto(server + "/portal/settings/share")
    page.get_by_label(words["owner"]).fill("alice")
    page.get_by_label(words["owner_password"]).fill(PASSWORD)
    page.get_by_label(words["device"]).fill(app.devices["alice"])
    page.get_by_role("button", name=words["continue"]).click()  # type: ignore[arg-type]
    expect(page).to_have_url(re.compile(r"/portal/settings/share/sr_[0-9a-f]{24}$"))
    expect(page.locator("#push-fallback")).to_be_visible()  # the login page's fallback
    shot(page, f"share-push-wait-{locale}")
    approve_shown_number(page, api, app)
    # no click: the page's own refresh (every 2 s) shows the outcome
    expect(page).to_have_url(server + "/portal/settings?done=share_pending", timeout=5_000)
    expect(page.locator("body")).to_contain_text(words["share_pending"])  # type: ignore[arg-type]
    shot(page, f"share-push-decided-{locale}")
    assert problems == []
