"""The withdrawal pages in a real browser (Debian's chromium through Playwright): the
tier, limits and what is left (R-RESTRICT-1), the confirmation bound to amount and
destination (R-WD-4), and a refusal naming the rule and the amounts (R-WD-3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS
from tests.e2e.browser_support import device_answer, log_in, open_page, running, shot
from tests.e2e.live import serve
from tests.withdrawal_kit import ACCOUNT, load

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(
        tmp_path, lambda wired: load(wired, {"petra": ["dsc_plus"], "tina": ["temporary_code"]})
    )


def test_R_WD_4_a_withdrawal_is_confirmed_in_the_browser_with_its_amount_shown(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    with serve(create_app(services)) as server:
        problems: list[str] = []
        page = open_page(browser, "en-US", problems)
        log_in(page, server, "petra", device_answer("dsc_plus", services))
        page.get_by_role("link", name="Withdraw funds").click()
        expect(page).to_have_url(server + "/portal/withdraw")
        expect(page.locator("#tier-rank")).to_have_text("Tier 4")
        expect(page.locator("#daily-limit")).to_have_text("Unlimited")
        expect(page.locator(f"tr[data-account={ACCOUNT}] .available")).to_have_text(
            "USD 1,000,000.00"
        )
        shot(page, "withdraw-overview")
        page.get_by_label("Amount (USD)").fill("1234.50")
        page.get_by_label("Destination (your bank instruction)").fill("Chase ****1234")
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the withdrawal")
        expect(page.locator("#bound-amount")).to_have_text("USD 1,234.50")
        expect(page.locator("#bound-destination")).to_have_text("Chase ****1234")
        challenge = page.locator("#challenge-code").inner_text().strip()
        shot(page, "withdraw-confirm-dsc_plus")
        response = KINDS["dsc_plus"].answer({"challenge": challenge}, datetime.now(UTC), services)
        page.locator("#response").fill(response)
        page.get_by_role("button", name="Confirm withdrawal").click()

        expect(page.locator("#withdrawal")).to_have_attribute("data-status", "accepted")
        expect(page.locator("#outcome-accepted")).to_contain_text("The withdrawal was accepted")
        shot(page, "withdraw-accepted")
        assert problems == []


def test_R_WD_3_a_refusal_names_the_rule_and_the_amounts_in_chinese(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    with serve(create_app(services)) as server:
        page = open_page(browser, "zh-CN", [])
        log_in(page, server, "tina", device_answer("temporary_code", services))
        page.goto(server + "/portal/withdraw")
        expect(page.locator("#daily-limit")).to_have_text("USD 50,000.00")
        page.get_by_label("金额（美元）").fill("50000.01")
        page.get_by_label("收款方（您的银行指令）").fill("招商银行 ****8888")
        page.get_by_role("button", name="继续").click()
        refusal = page.locator("#refusal")
        expect(refusal).to_have_attribute("data-code", "daily_limit_exceeded")
        expect(refusal).to_contain_text("单日取款限额")
        expect(page.locator("#refusal-today")).to_have_text("USD 50,000.00")
        expect(page.locator("#refusal-window")).to_have_text("USD 100,000.00")
        shot(page, "withdraw-refused-zh-CN")
