"""The web app's biometric unlock registered with the server (issue 15): the server
issues the challenge, verifies the platform credential's assertion itself and only then
releases the biometric share — in place of the PIN proof of the server-assisted unlock
(issue 12 §6).  Each refusal (no user verification, wrong origin, replayed challenge, a
sign count going back, a wrong unlock token) is a clear error that releases nothing.
In-process, SQLite and PostgreSQL; tests/webauthn_kit.py is the authenticator."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.devices import KINDS, Brokerage
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp, b64url
from tests.webauthn_kit import SoftAuthenticator

VERIFIER, SHARE, TOKEN, BIO_SHARE = (secrets.token_bytes(32) for _ in range(4))


@pytest.fixture
def app(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    key = TestApp(clock)
    extra = {
        "pin_verifier": b64url(VERIFIER),
        "server_share": b64url(SHARE),
        "unlock_token": b64url(TOKEN),
    }
    key.activate(api, services, extra=extra)
    return key


def enrol(api: TestClient, app: TestApp, authenticator: SoftAuthenticator) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/biometric"
    answer = app.call(api, "POST", path + "/registrations")
    assert answer.status_code == 201, answer.json()
    started = answer.json()
    options = started["options"]
    assert options["authenticatorSelection"]["authenticatorAttachment"] == "platform"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    body = {
        "credential": json.loads(authenticator.create(options)),
        "biometric_share": b64url(BIO_SHARE),
    }
    done = app.call(api, "POST", f"{path}/registrations/{started['ceremony_id']}", body)
    assert done.status_code == 204, done.json()


def challenge(api: TestClient, app: TestApp, token: bytes = TOKEN) -> Any:
    return api.post(
        f"/api/v1/key/apps/{app.app_id}/biometric/challenge",
        json={"unlock_token": b64url(token)},
    )


def unlock(api: TestClient, app: TestApp, ceremony_id: str, credential: str) -> Any:
    body = {
        "unlock_token": b64url(TOKEN),
        "ceremony_id": ceremony_id,
        "credential": json.loads(credential),
    }
    return api.post(f"/api/v1/key/apps/{app.app_id}/biometric/unlock", json=body)


def test_R_KEY_4_a_verified_assertion_releases_the_biometric_share_and_nothing_else_does(
    api: TestClient, app: TestApp
) -> None:
    phone = SoftAuthenticator()
    off = challenge(api, app)
    assert off.status_code == 409 and off.json()["code"] == "biometric_not_set"
    enrol(api, app, phone)
    assert challenge(api, app, secrets.token_bytes(32)).json()["code"] == "key_signature_invalid"

    refusals = (
        lambda c: phone.get(c, uv=False),
        lambda c: phone.get(c, origin="http://evil.example:8000"),
        lambda c: phone.get(c, rp_id="evil.example"),
        lambda c: SoftAuthenticator().get(c),
    )
    for bad in refusals:
        started = challenge(api, app).json()
        assert started["options"]["userVerification"] == "required"
        refused = unlock(api, app, started["ceremony_id"], bad(started["options"]["challenge"]))
        assert refused.status_code == 401 and refused.json()["code"] == "biometric_rejected"
        assert "biometric_share" not in refused.json()

    started = challenge(api, app).json()
    assertion = phone.get(started["options"]["challenge"])
    right = unlock(api, app, started["ceremony_id"], assertion)
    assert right.status_code == 200 and right.json() == {"biometric_share": b64url(BIO_SHARE)}
    replayed = unlock(api, app, started["ceremony_id"], assertion)
    assert replayed.status_code == 409 and replayed.json()["code"] == "passkey_ceremony_closed"

    # a clone: the count goes back — refused (and audited, like a passkey's)
    started = challenge(api, app).json()
    cloned = unlock(
        api, app, started["ceremony_id"], phone.get(started["options"]["challenge"], count=1)
    )
    assert cloned.status_code == 401 and cloned.json()["code"] == "biometric_rejected"

    # turned off: no challenge any more; the PIN proof still opens the vault
    assert app.call(api, "DELETE", f"/api/v1/key/apps/{app.app_id}/biometric").status_code == 204
    assert challenge(api, app).json()["code"] == "biometric_not_set"
    pin = api.post(
        f"/api/v1/key/apps/{app.app_id}/unlock",
        json={"unlock_token": b64url(TOKEN), "proof": b64url(VERIFIER)},
    )
    assert pin.status_code == 200 and pin.json() == {"server_share": b64url(SHARE)}
