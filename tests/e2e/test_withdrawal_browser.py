"""The withdrawal pages in a real browser (Debian's chromium through Playwright): the
tier, limits and what is left (R-RESTRICT-1), the confirmation bound to amount and
destination (R-WD-4), and a refusal naming the rule and the amounts (R-WD-3)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS, PASSWORD
from tests.e2e.live import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serve
from tests.withdrawal_kit import ACCOUNT, load

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/portal.db",
        master_key=base64.b64encode(b"w" * 32).decode(),
        argon2_memory_kib=19456,
    )
    wired = bootstrap(settings, migrate=True)  # the real clock, like the browser's
    load(wired, {"petra": ["dsc_plus"], "tina": ["temporary_code"]})
    yield wired
    wired.database.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium (make test installs it): apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(page: Any, server: str, username: str, kind: str, services: Services) -> None:
    page.goto(server + "/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    prompt: dict[str, Any] = {
        "type": page.locator("section.verify").get_attribute("data-prompt-type")
    }
    if prompt["type"] == "challenge":
        prompt["challenge"] = page.locator("#challenge-code").inner_text().strip()
    page.locator("#response").fill(KINDS[kind].answer(prompt, datetime.now(UTC), services))
    page.locator("form.verify-form button[type=submit]").click()
    page.wait_for_url(server + "/portal")


def test_R_WD_4_a_withdrawal_is_confirmed_in_the_browser_with_its_amount_shown(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    with serve(create_app(services)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        log_in(page, server, "petra", "dsc_plus", services)
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
        expect(page.locator("#bound-amount")).to_have_text("USD 1234.50")
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
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        log_in(page, server, "tina", "temporary_code", services)
        page.goto(server + "/portal/withdraw")
        expect(page.locator("#daily-limit")).to_have_text("USD 50,000.00")
        page.get_by_label("金额(美元)").fill("50000.01")
        page.get_by_label("收款方(您的银行指令)").fill("招商银行 ****8888")
        page.get_by_role("button", name="继续").click()
        refusal = page.locator("#refusal")
        expect(refusal).to_have_attribute("data-code", "daily_limit_exceeded")
        expect(refusal).to_contain_text("单日取款限额")
        expect(page.locator("#refusal-today")).to_have_text("USD 50000.00")
        expect(page.locator("#refusal-window")).to_have_text("USD 100000.00")
        shot(page, "withdraw-refused-zh-CN")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
