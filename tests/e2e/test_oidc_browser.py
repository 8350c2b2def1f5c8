"""An independent relying party signs a user in through the portal in Chromium
(issue 16 §1, SPEC §10.2a).

The relying party is Authlib's ``OAuth2Session`` (requests) with PKCE S256 and joserfc's
JWT verification — none of our code; its callback is a page of its own on another
loopback port.  The provider is the real app served by uvicorn, on the real clock (the
devices' TOTP and OCRA answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from joserfc import jwt
from joserfc.jwk import KeySet

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.oidc import clients
from tests.devices import KINDS, Brokerage
from tests.e2e.browser_support import device_answer, read_prompt, running, shot, type_answer
from tests.e2e.live import serve

pytestmark = pytest.mark.browser


def _users(services: Services) -> None:
    Brokerage().user("alice", KINDS["dsc"].device, KINDS["dsc_plus"].device).load(services)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, _users)


@pytest.fixture
def server(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider is on loopback http
    with serve(create_app(services)) as url:
        yield url


@pytest.fixture
def callbacks() -> Iterator[tuple[str, list[str]]]:
    """The relying party's own web page for the redirect: its URL and what reached it."""
    seen: list[str] = []
    app = FastAPI()

    @app.get("/callback", response_class=HTMLResponse)
    def callback(request: Request) -> str:
        seen.append(str(request.url))
        return "<h1>Signed in</h1>"

    with serve(app) as url:
        yield url + "/callback", seen


class RelyingParty:
    """The application: Authlib builds the request and redeems the code; the browser
    carries the user; joserfc checks the ID token against the provider's JWKS."""

    def __init__(
        self, server: str, services: Services, page: Any, callbacks: tuple[str, list[str]]
    ) -> None:
        self.callback, self.callbacks = callbacks
        made = clients.create_client(
            services, name="Trading platform", redirect_uris=[self.callback]
        )
        self.page = page
        self.session = OAuth2Session(
            made.client_id,
            made.client_secret,
            scope="openid profile",
            redirect_uri=self.callback,
            code_challenge_method="S256",
        )
        self.config = requests.get(f"{server}/.well-known/openid-configuration", timeout=10).json()

    def start(self, **extra: str) -> str:
        """Send the browser to the provider; returns the nonce."""
        self.verifier = generate_token(64)
        nonce = generate_token(16)
        url, self.state = self.session.create_authorization_url(
            self.config["authorization_endpoint"], code_verifier=self.verifier, nonce=nonce, **extra
        )
        self.page.goto(url)
        return nonce

    def finish(self, nonce: str) -> dict[str, Any]:
        """The callback's code for tokens; the ID token's verified claims."""
        self.page.wait_for_url(self.callback + "?**")
        token = self.session.fetch_token(
            self.config["token_endpoint"],
            authorization_response=self.callbacks[-1],
            code_verifier=self.verifier,
            state=self.state,
        )
        jwks = requests.get(self.config["jwks_uri"], timeout=10).json()
        claims = dict(jwt.decode(token["id_token"], KeySet.import_key_set(jwks)).claims)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.config["issuer"]},
            aud={"essential": True, "value": self.session.client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
        ).validate(claims)
        return claims


def _portal_login(page: Any, server: str, services: Services, kind: str | None = None) -> None:
    """The portal's own login form, as a person fills it; ``kind``: pick that device."""
    page.wait_for_url(server + "/")
    page.locator("#username").fill("alice")
    page.locator("#password").fill("Correct-Horse-7")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(server + "/login/verify")
    if kind is not None:
        page.get_by_text("Use another security device").first.click()
        page.get_by_label("Digital Security Card", exact=False).first.check()
        page.get_by_role("button", name="Use this device").click()
        page.wait_for_url(server + "/login/verify")
    prompt = read_prompt(page)
    type_answer(page, prompt, device_answer(kind or "dsc_plus", services)(prompt), None)
    page.locator("form.verify-form button[type=submit]").click()


def test_SPEC_10_2a_a_library_relying_party_signs_in_through_the_portal(
    browser: Any, server: str, services: Services, callbacks: tuple[str, list[str]]
) -> None:
    page = browser.new_page()
    rp = RelyingParty(server, services, page, callbacks)
    nonce = rp.start()
    shot(page, "oidc-login-form")
    _portal_login(page, server, services)
    claims = rp.finish(nonce)
    assert claims["acr"] == "urn:securelogin:tier:4"
    assert set(claims["amr"]) == {"pwd", "hwk", "otp", "pin", "mfa"}
    assert claims["preferred_username"] == "alice" and claims["sub"] != "alice"
    userinfo = rp.session.get(rp.config["userinfo_endpoint"], timeout=10).json()
    assert userinfo == {"sub": claims["sub"], "preferred_username": "alice"}
    # a second sign-in rides on the portal session: no form, straight back with a code
    nonce = rp.start()
    assert rp.finish(nonce)["auth_time"] == claims["auth_time"]


def test_SPEC_10_2a_step_up_in_the_browser_logs_in_again_with_a_tier_4_device(
    browser: Any, server: str, services: Services, callbacks: tuple[str, list[str]]
) -> None:
    page = browser.new_page()
    rp = RelyingParty(server, services, page, callbacks)
    nonce = rp.start()
    _portal_login(page, server, services, kind="dsc")  # picks the DSC: tier 3
    assert rp.finish(nonce)["acr"] == "urn:securelogin:tier:3"
    nonce = rp.start(acr_values="urn:securelogin:tier:4")
    _portal_login(page, server, services)  # the form again, inside the live session
    stepped = rp.finish(nonce)
    assert stepped["acr"] == "urn:securelogin:tier:4"
    assert "hwk" in stepped["amr"]
