"""Tier 0 in a real browser (R-WD-4): a client who opted out and holds no device sees
the rank-0 limits and the note that the password confirms, then confirms a withdrawal
by typing the password into a masked field — in English and in Simplified Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import PASSWORD
from tests.e2e.browser_support import open_page, running, shot
from tests.e2e.live import serve
from tests.withdrawal_kit import load

pytestmark = pytest.mark.browser

WORDS = {
    "en-US": {
        "note": "Without a security device you confirm each withdrawal with your password",
        "password": "Password",
        "confirm": "Confirm withdrawal",
        "wrong": "Confirmation failed",
        "accepted": "The withdrawal was accepted",
    },
    "zh-CN": {
        "note": "没有安全设备时，您需输入密码确认每笔取款",
        "password": "密码",
        "confirm": "确认取款",
        "wrong": "确认失败",
        "accepted": "取款已受理",
    },
}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(
        tmp_path, lambda wired: load(wired, {"olga": []}, opted_out=frozenset({"olga"}))
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_R_WD_4_a_client_without_a_device_confirms_a_withdrawal_with_the_password(
    browser: Any, services: Services, locale: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[locale]
    with serve(create_app(services)) as server:
        problems: list[str] = []
        page = open_page(browser, locale, problems)
        page.goto(server + "/")
        page.locator("#username").fill("olga")
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(server + "/portal")
        page.goto(server + "/portal/withdraw")
        expect(page.locator("#daily-limit")).to_have_text("USD 50,000.00")
        expect(page.locator("#window-limit")).to_have_text("USD 100,000.00")
        expect(page.locator("#password-note")).to_contain_text(words["note"])
        page.locator("#amount").fill("50000.00")
        page.locator("#destination").fill("Chase ****1234")
        page.locator("form.withdraw-form button[type=submit]").click()

        expect(page.locator("#bound-amount")).to_have_text("USD 50,000.00")
        field = page.get_by_label(words["password"], exact=True)
        expect(field).to_have_attribute("type", "password")
        expect(field).to_have_attribute("autocomplete", "current-password")
        expect(page.locator("[data-prompt-type=password]")).to_be_visible()
        shot(page, f"withdraw-password-{locale}")
        field.fill("Wrong-Horse-9")
        page.get_by_role("button", name=words["confirm"]).click()
        expect(page.locator(".notice-error")).to_contain_text(words["wrong"])
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["confirm"]).click()

        expect(page.locator("#withdrawal")).to_have_attribute("data-status", "accepted")
        expect(page.locator("#outcome-accepted")).to_contain_text(words["accepted"])
        expect(page.locator("#left-today")).to_have_text("USD 0.00")
        shot(page, f"withdraw-password-accepted-{locale}")
        assert problems == []
