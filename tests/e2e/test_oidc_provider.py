"""The OpenID Connect provider in process (issue 16 §1, SPEC §10.2a): the relying party's
side is Authlib's PKCE and joserfc's verification; the browser's side is the portal's
own login forms.  Every refusal is a standard OAuth error and issues nothing."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet

from securelogin.adapters.channels.backchannel import HttpBackchannel
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.oidc import keys
from tests.dbutil import execute, url_of
from tests.devices import KINDS, Brokerage
from tests.e2e.oidc_kit import (
    ISSUER,
    RP_CALLBACK,
    auth_params,
    authorize,
    code_from,
    location_of,
    pkce,
    query_of,
    redeem,
    register,
    verified_claims,
)
from tests.e2e.portal_forms import csrf_of, path_of, play, submit_answer, submit_password
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp


@pytest.fixture
def alice(services: Services) -> None:
    """alice holds a DSC+ (rank 4) and an SMS device (rank 1); dora only a DSC (rank 3)."""
    Brokerage().user("alice", KINDS["dsc_plus"].device, KINDS["sms"].device).user(
        "dora", KINDS["dsc"].device | {"serial": "T-DSC-2"}, phone=None
    ).load(services)


def _now(clock: FakeClock) -> int:
    return int(clock.now().timestamp())


def _assert_nothing_issued(answer: Any, error: str, status: int = 400) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert "access_token" not in body and "id_token" not in body
    assert answer.headers["cache-control"] == "no-store"


def test_SPEC_10_2a_code_flow_gives_an_id_token_whose_acr_is_the_device_tier(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    answer = redeem(api, rp, code, verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "openid profile"
    claims = verified_claims(
        tokens["id_token"], api.get("/oauth/jwks").json(), audience=rp.client_id, now=_now(clock)
    )
    assert claims["acr"] == "urn:securelogin:tier:4"
    assert set(claims["amr"]) == {"pwd", "hwk", "otp", "pin", "mfa"}
    assert claims["nonce"] == params["nonce"]
    assert claims["preferred_username"] == "alice"
    assert claims["sub"] != "alice" and len(claims["sub"]) == 32
    assert claims["auth_time"] <= claims["iat"]
    me = api.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {"sub": claims["sub"], "preferred_username": "alice"}
    # the same user through a second login keeps the same sub
    again = auth_params(rp.client_id, challenge, prompt="login")
    second = redeem(api, rp, code_from(authorize(api, services, clock, again), again), verifier)
    jwks = api.get("/oauth/jwks").json()
    claims2 = verified_claims(
        second.json()["id_token"], jwks, audience=rp.client_id, now=_now(clock)
    )
    assert claims2["sub"] == claims["sub"]


def test_SPEC_10_2a_discovery_describes_code_flow_with_pkce_and_the_tiers(api: TestClient) -> None:
    found = api.get("/.well-known/openid-configuration").json()
    assert found["issuer"] == ISSUER
    assert found["response_types_supported"] == ["code"]
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert found["acr_values_supported"] == [f"urn:securelogin:tier:{n}" for n in range(5)]
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ):
        assert found[key].startswith(ISSUER + "/oauth/")
        path = found[key].removeprefix(ISSUER)
        assert api.options(path).status_code != 404 or api.get(path).status_code != 404


def test_SPEC_10_2a_an_unregistered_redirect_uri_is_shown_never_redirected_to(
    api: TestClient, services: Services, alice: None
) -> None:
    rp = register(services)
    _, challenge = pkce()
    for uri in ("https://evil.example/callback", RP_CALLBACK + "/", RP_CALLBACK + "?x=1"):
        params = auth_params(rp.client_id, challenge) | {"redirect_uri": uri}
        answer = api.get("/oauth/authorize", params=params, follow_redirects=False)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "redirect_uri is not registered" in answer.text
    unknown = auth_params("slc_nobody", challenge)
    assert api.get("/oauth/authorize", params=unknown, follow_redirects=False).status_code == 400


def test_SPEC_10_2a_a_request_without_s256_pkce_is_refused_to_the_client(
    api: TestClient, services: Services, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    cases = [
        {k: v for k, v in auth_params(rp.client_id, challenge).items() if k != "code_challenge"},
        auth_params(rp.client_id, challenge) | {"code_challenge_method": "plain"},
        auth_params(rp.client_id, verifier) | {"code_challenge_method": "plain"},
    ]
    for params in cases:
        answer = api.get("/oauth/authorize", params=params, follow_redirects=False)
        assert answer.status_code == 303
        query = query_of(answer.headers["location"])
        assert query["error"] == "invalid_request" and query["state"] == params["state"]
        assert "code" not in query


def test_SPEC_10_2a_a_missing_or_wrong_pkce_verifier_gets_invalid_grant_and_burns_the_code(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    other, _ = pkce()
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    _assert_nothing_issued(redeem(api, rp, code, None), "invalid_grant")
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    _assert_nothing_issued(redeem(api, rp, code, other), "invalid_grant")
    # a failed redemption used the code up: the right verifier comes too late
    _assert_nothing_issued(redeem(api, rp, code, verifier), "invalid_grant")


def test_SPEC_10_2a_a_reused_code_is_refused_and_revokes_what_it_gave(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    first = redeem(api, rp, code, verifier)
    assert first.status_code == 200
    _assert_nothing_issued(redeem(api, rp, code, verifier), "invalid_grant")
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    answer = api.get("/oauth/userinfo", headers=bearer)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_SPEC_10_2a_an_expired_code_is_refused(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    clock.advance(seconds=61)
    _assert_nothing_issued(redeem(api, rp, code, verifier), "invalid_grant")


def test_SPEC_10_2a_a_wrong_client_secret_or_another_redirect_uri_issues_nothing(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services, redirect_uris=[RP_CALLBACK, "https://rp.example/other"])
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    wrong = redeem(api, rp, code, verifier, secret="slcs_" + "A" * 43)
    _assert_nothing_issued(wrong, "invalid_client", status=401)
    assert wrong.headers["www-authenticate"].startswith("Basic")
    # the wrong secret did not spend the code; another registered redirect URI does
    other = redeem(api, rp, code, verifier, redirect_uri="https://rp.example/other")
    _assert_nothing_issued(other, "invalid_grant")
    # a code is only for its own client
    second = register(services)
    params = auth_params(rp.client_id, challenge)
    code = code_from(authorize(api, services, clock, params), params)
    _assert_nothing_issued(redeem(api, second, code, verifier), "invalid_grant")


def test_SPEC_10_2a_the_nonce_is_echoed_so_a_relying_party_detects_a_mismatch(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    """Core §3.1.3.7 item 11: the relying party compares ``nonce`` with the one it sent;
    a code injected from another request carries that request's nonce."""
    rp = register(services)
    verifier, challenge = pkce()
    attacker = auth_params(rp.client_id, challenge, nonce="nonce-of-the-attacker")
    code = code_from(authorize(api, services, clock, attacker), attacker)
    tokens = redeem(api, rp, code, verifier).json()
    claims = verified_claims(
        tokens["id_token"], api.get("/oauth/jwks").json(), audience=rp.client_id, now=_now(clock)
    )
    assert claims["nonce"] == "nonce-of-the-attacker"
    # the relying party's library refuses it with its standard claim error
    victim = jwt.JWTClaimsRegistry(
        now=_now(clock), nonce={"essential": True, "value": "nonce-the-victim-sent"}
    )
    with pytest.raises(InvalidClaimError):
        victim.validate(claims)


def _portal_login_with_sms(api: TestClient, services: Services, clock: FakeClock) -> None:
    """alice logs in to the portal and picks her SMS device (R-LOGIN-4)."""
    page = submit_password(api)
    sms = re.search(r'value="([^"]+)">\s*<label[^>]*>\s*<span class="choice-name">SMS<', page.text)
    assert sms, "the device picker offers the SMS device"
    switched = api.post(
        "/login/device", data={"device_id": sms.group(1), "csrf_token": csrf_of(page.text)}
    )
    home = submit_answer(api, switched, play("sms", switched, clock, services))
    assert path_of(home) == "/portal" and "Tier 1" in home.text


def test_SPEC_10_2a_step_up_logs_in_again_with_a_device_of_the_asked_tier(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    jwks = api.get("/oauth/jwks").json()
    _portal_login_with_sms(api, services, clock)
    # the live tier-1 session answers a plain request at once …
    params = auth_params(rp.client_id, challenge)
    at_once = api.get("/oauth/authorize", params=params, follow_redirects=False)
    low = redeem(api, rp, code_from(at_once, params), verifier).json()
    claims = verified_claims(low["id_token"], jwks, audience=rp.client_id, now=_now(clock))
    assert claims["acr"] == "urn:securelogin:tier:1"
    assert set(claims["amr"]) == {"pwd", "sms", "otp", "mfa"}
    # … a request for tier 4 sends alice through the login again, on her DSC+
    clock.advance(seconds=30)
    up = auth_params(rp.client_id, challenge, acr_values="urn:securelogin:tier:4")
    answer = authorize(api, services, clock, up, kind="dsc_plus")
    high = redeem(api, rp, code_from(answer, up), verifier).json()
    claims = verified_claims(high["id_token"], jwks, audience=rp.client_id, now=_now(clock))
    assert claims["acr"] == "urn:securelogin:tier:4"
    assert claims["auth_time"] == _now(clock)
    # and the tier-4 session now answers a tier-4 request without a new login
    again = auth_params(rp.client_id, challenge, acr_values="urn:securelogin:tier:4")
    direct = api.get("/oauth/authorize", params=again, follow_redirects=False)
    assert direct.headers["location"].startswith(RP_CALLBACK + "?code=")


def test_SPEC_10_2a_step_up_beyond_every_device_of_the_user_is_unmet(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    _verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    code_from(authorize(api, services, clock, params, kind="dsc", username="dora"), params)
    for extra in (
        {"acr_values": "urn:securelogin:tier:4"},
        {"claims": '{"id_token":{"acr":{"essential":true,"values":["urn:securelogin:tier:4"]}}}'},
    ):
        up = auth_params(rp.client_id, challenge, **extra)
        answer = api.get("/oauth/authorize", params=up, follow_redirects=False)
        assert answer.status_code == 303
        query = query_of(answer.headers["location"])
        assert query["error"] == "unmet_authentication_requirements"
        assert query["state"] == up["state"] and "code" not in query
    # without a live session: dora logs in with her best device, which is not enough
    clock.advance(seconds=30)  # a new TOTP step (the first one was used, R-LOGIN-6)
    with TestClient(create_app(services)) as fresh:
        up = auth_params(rp.client_id, challenge, acr_values="urn:securelogin:tier:4")
        back = authorize(fresh, services, clock, up, kind="dsc", username="dora")
    query = query_of(location_of(back))
    assert query["error"] == "unmet_authentication_requirements" and "code" not in query


def test_SPEC_10_2a_revocation_and_introspection(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    access = redeem(
        api, rp, code_from(authorize(api, services, clock, params), params), verifier
    ).json()["access_token"]
    auth = (rp.client_id, rp.client_secret or "")
    seen = api.post("/oauth/introspect", data={"token": access}, auth=auth).json()
    assert seen["active"] is True and seen["acr"] == "urn:securelogin:tier:4"
    assert seen["username"] == "alice" and seen["client_id"] == rp.client_id
    assert api.post("/oauth/introspect", data={"token": access}).status_code == 401
    assert api.post("/oauth/revoke", data={"token": "unknown"}, auth=auth).status_code == 200
    assert api.post("/oauth/revoke", data={"token": access}, auth=auth).status_code == 200
    assert api.post("/oauth/introspect", data={"token": access}, auth=auth).json() == {
        "active": False
    }


def test_SPEC_10_2a_signing_keys_rotate_with_overlap_and_are_sealed_at_rest(
    services: Services, clock: FakeClock
) -> None:
    first = keys.signing_key(services)
    assert b"PRIVATE KEY" not in first.sealed_private
    clock.advance(days=31)
    second = keys.signing_key(services)
    assert second.kid != first.kid
    assert {k["kid"] for k in keys.published(services)} == {first.kid, second.kid}
    clock.advance(days=3)
    assert {k["kid"] for k in keys.published(services)} == {second.kid}
    assert keys.signing_key(services).kid == second.kid
    assert clock.now() - second.created_at == timedelta(days=3)


def test_SPEC_10_2a_withdrawals_answer_a_token_below_the_amounts_tier_as_rfc_9470_says(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    rp = register(services)
    verifier, challenge = pkce()
    _portal_login_with_sms(api, services, clock)
    params = auth_params(rp.client_id, challenge)
    at_once = api.get("/oauth/authorize", params=params, follow_redirects=False)
    access = redeem(api, rp, code_from(at_once, params), verifier).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    big = {"account": "U7000001", "amount": "2000000.00", "destination": "Bank of Test"}
    refused = api.post("/api/v1/withdrawals", json=big, headers=bearer | {"Idempotency-Key": "a"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "insufficient_user_authentication"
    challenge_header = refused.headers["www-authenticate"]
    assert challenge_header.startswith('Bearer error="insufficient_user_authentication"')
    assert 'acr_values="urn:securelogin:tier:4"' in challenge_header
    # within the tier-1 limits the token may ask; the confirmation follows R-WD-4 and
    # R-LIMIT-1 as for any bearer (the strongest device by default)
    small = big | {"amount": "60000.00"}
    started = api.post("/api/v1/withdrawals", json=small, headers=bearer | {"Idempotency-Key": "b"})
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "confirmation_required"
    assert started.json()["factor"]["kind"] == "dsc_plus"


def test_SPEC_10_2a_rp_initiated_logout_ends_the_session_and_sends_back_channel_logout(
    services: Services, clock: FakeClock, alice: None
) -> None:
    received: list[str] = []

    def relying_party(request: httpx.Request) -> httpx.Response:
        received.append(parse_qs(request.content.decode())["logout_token"][0])
        return httpx.Response(200)

    assert services.oidc is not None
    wired = dataclasses.replace(
        services,
        oidc=dataclasses.replace(
            services.oidc,
            backchannel=HttpBackchannel(timeout=5, transport=httpx.MockTransport(relying_party)),
        ),
    )
    rp = register(
        wired,
        post_logout_redirect_uris=["https://rp.example/bye"],
        backchannel_logout_uri="https://rp.example/backchannel",
    )
    verifier, challenge = pkce()
    with TestClient(create_app(wired)) as api:
        params = auth_params(rp.client_id, challenge)
        tokens = redeem(
            api, rp, code_from(authorize(api, wired, clock, params), params), verifier
        ).json()
        jwks = api.get("/oauth/jwks").json()
        id_claims = verified_claims(
            tokens["id_token"], jwks, audience=rp.client_id, now=_now(clock)
        )
        bad = api.get(
            "/oauth/logout",
            params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
            follow_redirects=False,
        )  # fmt: skip
        assert bad.status_code == 400 and not received
        answer = api.get(
            "/oauth/logout",
            params={
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": "https://rp.example/bye",
                "state": "s-1",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "https://rp.example/bye?state=s-1"
        assert api.get("/portal", follow_redirects=False).headers["location"] == "/"
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert api.get("/oauth/userinfo", headers=bearer).status_code == 401
    assert len(received) == 1
    logout_token = jwt.decode(received[0], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert logout_token.header["typ"] == "logout+jwt"
    claims = logout_token.claims
    assert claims["aud"] == rp.client_id and claims["iss"] == ISSUER
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims


def test_R_LOGIN_11_an_access_token_ends_with_the_login_behind_it(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    """The portal's Log Out ends the session's tokens; so does any other end of the
    session (here: the DSC+ that made it is lost, R-LOGIN-11)."""
    rp = register(services)
    verifier, challenge = pkce()

    def fresh_token() -> dict[str, str]:
        params = auth_params(rp.client_id, challenge, prompt="login")
        code = code_from(authorize(api, services, clock, params), params)
        access = redeem(api, rp, code, verifier).json()["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        assert api.get("/oauth/userinfo", headers=bearer).status_code == 200
        return bearer

    bearer = fresh_token()
    home = api.get("/portal")
    api.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert api.get("/oauth/userinfo", headers=bearer).status_code == 401
    bearer = fresh_token()
    execute(url_of(services), "UPDATE devices SET state = 'lost' WHERE kind = 'dsc_plus'")
    assert api.get("/oauth/userinfo", headers=bearer).status_code == 401


def test_SPEC_10_2a_the_mobile_keys_push_signs_in_through_the_portal_too(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    """R-KEY-4: the push wait page reloads itself; once the push is approved it goes on to
    the relying party, not to the portal's own page."""
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    key = TestApp(clock)
    key.activate(api, services)
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    with TestClient(create_app(services)) as browser:
        first = browser.get("/oauth/authorize", params=params, follow_redirects=False)
        assert first.headers["location"] == "/"
        page = submit_password(browser)
        assert path_of(page) == "/login/verify" and page.headers["refresh"] == "2"
        number = re.search(r'id="push-number"[^>]*>(\d\d)<', page.text)
        assert number
        [push] = key.pushes(api)
        assert key.answer(api, push, number=number.group(1)).status_code == 200
        reloaded = browser.get("/login/verify", follow_redirects=False)
        assert reloaded.headers["location"] == "/oauth/authorize/resume"
        back = browser.get("/oauth/authorize/resume")
    tokens = redeem(api, rp, code_from(back, params), verifier).json()
    claims = verified_claims(
        tokens["id_token"], api.get("/oauth/jwks").json(), audience=rp.client_id, now=_now(clock)
    )
    assert claims["acr"] == "urn:securelogin:tier:2"
    assert set(claims["amr"]) == {"pwd", "swk", "user", "pin", "mfa"}


def test_SPEC_10_2a_an_access_token_with_the_self_service_scope_drives_the_self_service_api(
    api: TestClient, services: Services, clock: FakeClock, alice: None
) -> None:
    """issue 16 §3: an application that signed the user in with OpenID Connect acts for
    them on the self-service calls when the user granted ``self_service`` (and only then),
    until the token is revoked."""
    rp = register(services)

    def token_for(scope: str) -> str:
        verifier, challenge = pkce()
        params = auth_params(rp.client_id, challenge, scope=scope)
        code = code_from(authorize(api, services, clock, params), params)
        answer = redeem(api, rp, code, verifier)
        assert answer.status_code == 200, answer.text
        assert answer.json()["scope"] == scope
        return str(answer.json()["access_token"])

    granted = {"Authorization": f"Bearer {token_for('openid self_service')}"}
    messages = api.get("/api/v1/messages", headers=granted)
    assert messages.status_code == 200, messages.text
    assert api.get("/api/v1/settings", headers=granted).status_code == 200
    profile_only = {"Authorization": f"Bearer {token_for('openid profile')}"}
    refused = api.get("/api/v1/messages", headers=profile_only)
    assert refused.status_code == 403 and refused.json()["code"] == "access_denied"
    assert "self_service" in refused.json()["message"]
    revoked = api.post(
        "/oauth/revoke",
        data={"token": granted["Authorization"].removeprefix("Bearer ")},
        auth=(rp.client_id, rp.client_secret or ""),
    )
    assert revoked.status_code == 200, revoked.text
    gone = api.get("/api/v1/messages", headers=granted)
    assert gone.status_code == 401 and gone.json()["code"] == "unauthenticated"
