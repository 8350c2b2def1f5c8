"""The operator console in a real browser (SPEC §8, R-LOST-1, R-LOGIN-9).

A helpdesk operator logs in with password and TOTP, finds the caller's user, records the
identity check, reports the lost device and issues a temporary code; the client then
logs in to the Client Portal with that code, in a separate browser context.  Debian's
chromium through Playwright, against uvicorn in a thread (real clock, SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securelogin.domain import otp
from securelogin.domain.operators import Role
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.operators import operators
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.browser_support import running, shot
from tests.e2e.live import serve
from tests.integration.test_operators import OP_PASSWORD, seed_of

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, Brokerage().user("alice", KINDS["dsc"].device).load)


def test_R_LOST_1_an_operator_issues_a_temporary_code_and_the_client_logs_in_with_it(
    browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    secret = operators.create_operator(
        services, username="hannah", password=OP_PASSWORD, roles=frozenset({Role.HELPDESK})
    ).secret_base32
    problems: list[str] = []
    with serve(create_app(services)) as server:
        desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = desk.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(server + "/console")
        expect(page).to_have_url(server + "/console/login")
        page.get_by_label("Username").fill("hannah")
        page.get_by_label("Password").fill(OP_PASSWORD)
        shot(page, "console-login")
        page.get_by_role("button", name="Log In").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Authenticator code")
        step = otp.totp_counter(services.clock.now().timestamp(), 30)
        page.get_by_label("Code", exact=True).fill(otp.hotp(seed_of(secret), step, digits=6))
        page.get_by_role("button", name="OK").click()
        expect(page).to_have_url(server + "/console")
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, hannah")
        shot(page, "console-home")

        page.get_by_role("link", name="Helpdesk").first.click()
        page.get_by_label("Username", exact=True).fill("alice")
        page.get_by_role("button", name="Find").click()
        expect(page.get_by_role("heading", name="User alice")).to_be_visible()
        page.get_by_label("Call back to the phone number on record").check()
        page.get_by_label("Note (optional)").fill("called back, answered the questions")
        page.get_by_role("button", name="Record verification").click()
        expect(page.get_by_role("alert")).to_contain_text("The identity verification was recorded.")
        page.get_by_role("button", name="Lost").click()
        expect(page.get_by_role("alert")).to_contain_text("The device was reported")
        shot(page, "console-helpdesk")
        page.get_by_role("button", name="Issue temporary code").click()
        code = page.locator(".temporary-code").inner_text().strip()
        assert len(code) == 12 and code.isalpha() and code.isupper()
        shot(page, "console-temporary-code")
        desk.close()

        client = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        portal = client.new_page()
        portal.goto(server + "/")
        portal.get_by_label("Username").fill("alice")
        portal.get_by_label("Password").fill(PASSWORD)
        portal.get_by_role("button", name="Log In").click()
        expect(portal).to_have_url(server + "/login/verify")
        portal.get_by_label("Temporary code", exact=True).fill(code)
        portal.get_by_role("button", name="OK").click()
        expect(portal).to_have_url(server + "/portal")
        expect(portal.get_by_role("heading", level=1)).to_have_text("Welcome, alice")
        expect(portal.locator(".tier-kind")).to_have_text("Temporary Code")
        shot(portal, "portal-home-temporary-code")
        client.close()

        chinese = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        zh = chinese.new_page()
        zh.goto(server + "/console/login")
        expect(zh.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(zh.get_by_role("heading", level=1)).to_have_text("登录操作员控制台")
        shot(zh, "console-login-zh-CN")
        chinese.close()
    assert problems == [], "no console errors (e.g. CSP violations)"
