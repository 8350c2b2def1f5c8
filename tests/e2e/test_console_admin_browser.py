"""The console's admin pages in a real browser, next to an open portal tab (issue 6).

An admin logs in to the console in the same browser where a Client Portal tab is already
open, creates an operator (the TOTP secret is shown once, with a QR code drawn as inline
SVG) — and the portal tab's login form still works afterwards: the console keeps a CSRF
cookie of its own.  Debian's chromium through Playwright, against uvicorn in a thread.
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
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.browser_support import console_log_in, running, shot
from tests.e2e.live import serve
from tests.integration.test_operators import OP_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, Brokerage().user("alice", KINDS["dsc"].device).load)


def test_R_OPS_1_an_admin_creates_an_operator_while_a_portal_tab_stays_usable(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    secret = operators.create_operator(
        services, username="ada", password=OP_PASSWORD, roles=frozenset({Role.ADMIN})
    ).secret_base32
    problems: list[str] = []
    with serve(create_app(services)) as server:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        portal = context.new_page()
        portal.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        portal.goto(server + "/")  # the portal tab, opened first and left open

        console = context.new_page()
        console.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        console_log_in(console, server, services, "ada", secret)
        console.get_by_role("link", name="Operators").first.click()
        expect(console.get_by_role("heading", name="Create an operator")).to_be_visible()
        console.get_by_label("Username").fill("olga")
        console.get_by_label("Password").fill(OP_PASSWORD)
        console.get_by_label("Helpdesk").check()
        console.get_by_role("button", name="Create operator").click()
        expect(console.get_by_role("heading", level=1)).to_have_text("Operator olga created")
        expect(console.locator("figure.qr-code svg")).to_be_visible()
        shown = console.locator(".totp-secret").inner_text().replace(" ", "")
        assert len(shown) == 32 and shown.isalnum()
        shot(console, "console-operator-created")
        console.get_by_role("link", name="Back to the operators").click()
        expect(console.locator('tr[data-username="olga"] .operator-state')).to_have_text("Active")
        shot(console, "console-operators")

        portal.bring_to_front()
        portal.get_by_label("Username").fill("alice")
        portal.get_by_label("Password").fill(PASSWORD)
        portal.get_by_role("button", name="Log In").click()
        expect(portal).to_have_url(server + "/login/verify")  # not "This form has expired"
        context.close()
    assert problems == [], "no console errors (e.g. CSP violations)"
