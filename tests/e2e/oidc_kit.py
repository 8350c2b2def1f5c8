"""What the OpenID Connect tests share: a relying party's side of the flow, written with
libraries that are not ours (Authlib's PKCE and token helpers, joserfc's verification)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet

from securelogin.service.context import Services
from securelogin.service.oidc import clients
from tests.e2e.portal_forms import play, submit_answer, submit_password
from tests.fakes import FakeClock

RP_CALLBACK = "https://rp.example/callback"
ISSUER = "http://testserver"


def register(services: Services, **kw: Any) -> clients.CreatedClient:
    kw.setdefault("redirect_uris", [RP_CALLBACK])
    return clients.create_client(services, name="Trading platform", **kw)


def pkce() -> tuple[str, str]:
    verifier = generate_token(64)
    return verifier, create_s256_code_challenge(verifier)


def auth_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": RP_CALLBACK,
        "scope": "openid profile",
        "state": "st-" + generate_token(10),
        "nonce": "n-" + generate_token(10),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(
    api: TestClient,
    services: Services,
    clock: FakeClock,
    params: dict[str, str],
    *,
    kind: str = "dsc_plus",
    username: str = "alice",
) -> httpx.Response:
    """The browser's trip: the authorization endpoint, the portal's login when it asks
    for one, back to the relying party; the last answer (a 303 to the callback)."""
    answer = api.get("/oauth/authorize", params=params, follow_redirects=False)
    if answer.status_code == 303 and answer.headers["location"] == "/":
        page = submit_password(api, username)
        back = submit_answer(api, page, play(kind, page, clock, services), follow_redirects=False)
        assert back.headers["location"] == "/oauth/authorize/resume"
        answer = api.get("/oauth/authorize/resume", follow_redirects=False)
    return answer


def location_of(answer: httpx.Response) -> str:
    """Where the browser goes next: a 303's Location, or the page that continues to the
    client after the portal's login (a meta refresh and a link)."""
    if answer.status_code == 303:
        return answer.headers["location"]
    assert answer.status_code == 200, answer.text
    found = re.search(r'<a id="continue" href="([^"]+)"', answer.text)
    assert found and f'content="0;url={found.group(1)}"' in answer.text
    return html.unescape(found.group(1))


def code_from(answer: httpx.Response, params: dict[str, str]) -> str:
    location = location_of(answer)
    assert location.startswith(RP_CALLBACK + "?")
    query = query_of(location)
    assert query["state"] == params["state"] and query["iss"] == ISSUER
    return query["code"]


def redeem(
    api: TestClient,
    client: clients.CreatedClient,
    code: str,
    verifier: str | None,
    *,
    secret: str | None = None,
    redirect_uri: str = RP_CALLBACK,
) -> httpx.Response:
    """The token request with HTTP Basic client authentication (RFC 6749 §2.3.1)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    password = secret if secret is not None else client.client_secret or ""
    return api.post("/oauth/token", data=data, auth=(client.client_id, password))


def verified_claims(
    id_token: str, jwks: dict[str, Any], *, audience: str, now: int, issuer: str = ISSUER
) -> dict[str, Any]:
    """joserfc checks the RS256 signature against the published JWKS; the claims the
    relying party must check (Core §3.1.3.7) are checked here."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims = dict(token.claims)
    jwt.JWTClaimsRegistry(
        now=now,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(claims)
    return claims
