"""Account closure in the console, in a real browser (R-CLOSE-1): an admin finds the
account, reads the preview, mistypes the confirmation (nothing happens), types the account
number and sees the closure report.  Debian's chromium through Playwright, against
uvicorn in a thread; screenshots in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securelogin.domain.operators import Role
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.operators import operators
from tests.dbutil import scalar, url_of
from tests.devices import CARD, SEED20, Brokerage
from tests.e2e.browser_support import console_log_in, running
from tests.e2e.live import SCREENSHOTS, serve
from tests.integration.test_operators import OP_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(
        tmp_path,
        Brokerage()
        .user(
            "otto",
            {"kind": "dsc", "serial": "DSC-OTTO", "secret_hex": SEED20.hex()},
            {"kind": "code_card", "serial": "SCC-OTTO", "values": CARD},
        )
        .load,
    )


def test_R_CLOSE_1_an_admin_closes_an_account_from_the_console(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    secret = operators.create_operator(
        services, username="ada", password=OP_PASSWORD, roles=frozenset({Role.ADMIN})
    ).secret_base32
    problems: list[str] = []
    with serve(create_app(services)) as server:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        console_log_in(page, server, services, "ada", secret)

        page.get_by_role("link", name="Account closure").first.click()
        page.get_by_label("Account number").fill("U7000001")
        page.get_by_role("button", name="Show what closing does").click()
        expect(page.get_by_role("heading", name="Closing account U7000001")).to_be_visible()
        expect(page.locator('tr[data-serial="DSC-OTTO"] .outcome')).to_contain_text(
            "To be returned"
        )
        expect(page.locator('tr[data-serial="SCC-OTTO"] .outcome')).to_have_text(
            "Shredded and deactivated"
        )
        page.screenshot(path=str(SCREENSHOTS / "console-closure-preview.png"), full_page=True)

        page.get_by_label("Type the account number U7000001 to confirm").fill("U7000002")
        page.get_by_role("button", name="Close account U7000001").click()
        expect(page.locator(".messages")).to_contain_text("does not match")
        assert scalar(url_of(services), "SELECT status FROM accounts WHERE id = 1") == "open"

        page.get_by_label("Type the account number U7000001 to confirm").fill("U7000001")
        page.get_by_role("button", name="Close account U7000001").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Account U7000001 closed")
        expect(page.locator(".closure-report .summary-returns")).to_have_text(
            "Devices to be returned: DSC-OTTO"
        )
        page.screenshot(path=str(SCREENSHOTS / "console-closure-report.png"), full_page=True)
        context.close()
    assert scalar(url_of(services), "SELECT status FROM accounts WHERE id = 1") == "closed"
    # the refused confirmation answers 422, which chromium reports; nothing else may appear
    refused = "Failed to load resource: the server responded with a status of 422"
    assert [p for p in problems if not p.startswith(refused)] == [], "no CSP violations"
    assert len(problems) <= 1
