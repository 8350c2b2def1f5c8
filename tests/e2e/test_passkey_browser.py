"""Passkeys in the portal with Chromium's virtual authenticator (issue 16 §2): added from
the security settings after a login with SMS, then the second factor of a login and of a
withdrawal (whose page shows the amount and destination the challenge is derived from,
R-WD-4), then removed — which ends the session it opened.  WebAuthn needs a domain as RP
ID: the portal is opened on ``localhost``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from securelogin.adapters.security.webauthn import PyWebAuthnRelyingParty
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests import withdrawal_kit
from tests.devices import PASSWORD
from tests.e2e.browser_support import device_answer, log_in, open_page, running, shot
from tests.e2e.live import serve

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, lambda s: withdrawal_kit.load(s, {"maya": ["sms"]}))


@pytest.fixture
def server(services: Services) -> Iterator[str]:
    with serve(create_app(services)) as url:
        local = url.replace("127.0.0.1", "localhost")
        # the origin the browser will send: this test's port (settings name it in production)
        cast(PyWebAuthnRelyingParty, services.webauthn).origins.append(local)
        yield local


def virtual_authenticator(page: Any) -> tuple[Any, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, str(found["authenticatorId"])


def test_R_WD_4_a_passkey_is_added_logs_in_confirms_a_withdrawal_and_is_removed(
    browser: Any, server: str, services: Services
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = open_page(browser, "en-US", problems)
    cdp, authenticator = virtual_authenticator(page)

    # added after a login with an existing device (SMS)
    log_in(page, server, "maya", device_answer("sms", services))
    page.goto(server + "/portal/settings")
    page.get_by_role("link", name="Passkeys").click()
    expect(page.locator("#passkeys-none")).to_be_visible()
    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(server + "/portal/settings/passkeys?done=added")
    expect(page.locator("#passkeys .passkey-label")).to_have_text(["Work laptop"])
    shot(page, "passkeys-added-en")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["rpId"] == "localhost" and credential["isResidentCredential"]

    # a new login: the passkey is the strongest device (rank 2) and answers by itself
    page.context.clear_cookies()
    page.goto(server + "/")
    page.locator("#username").fill("maya")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("section.verify")).to_have_attribute("data-prompt-type", "passkey")
    shot(page, "passkey-login-en")
    page.locator("form.verify-form button[type=submit]").click()
    expect(page).to_have_url(server + "/portal")
    signed = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert signed["credentials"][0]["signCount"] >= 1

    # a withdrawal confirmed with the passkey: the page shows what the challenge binds
    page.goto(server + "/portal/withdraw")
    page.get_by_label("Amount (USD)").fill("250.00")
    page.get_by_label("Destination (your bank instruction)").fill("Chase ****1234")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#withdrawal")).to_have_attribute("data-status", "confirmation_required")
    expect(page.locator(".verify")).to_have_attribute("data-prompt-type", "passkey")
    expect(page.locator("#bound-amount")).to_contain_text("250.00")
    expect(page.locator("#bound-destination")).to_have_text("Chase ****1234")
    shot(page, "passkey-withdrawal-en")
    page.get_by_role("button", name="Confirm withdrawal").click()
    expect(page.locator("#withdrawal")).to_have_attribute("data-status", "accepted")

    # the authenticator cannot verify the person: nothing is sent, the page says why
    page.goto(server + "/portal/withdraw")
    page.get_by_label("Amount (USD)").fill("10.00")
    page.get_by_label("Destination (your bank instruction)").fill("Chase ****1234")
    page.get_by_role("button", name="Continue").click()
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    page.get_by_role("button", name="Confirm withdrawal").click()
    expect(page.locator("#passkey-error")).to_have_text(
        "Your browser did not create or use a passkey."
    )
    expect(page.locator("#withdrawal")).to_have_attribute("data-status", "confirmation_required")

    # removed: it stops working, and the session it opened ends with it
    page.goto(server + "/portal/settings/passkeys")
    page.get_by_role("button", name="Remove: Work laptop").click()
    expect(page).to_have_url(server + "/?notice=session_ended")
    assert [p for p in problems if "passkey" not in p.lower()] == []
