"""``/api/v1/passkeys`` and a passkey's answer through ``/api/v1/logins`` as another
application calls them (in-process ASGI app, SQLite and PostgreSQL; the authenticator is
tests/webauthn_kit.py): each refusal has its stable code and stores nothing."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests import withdrawal_kit
from tests.devices import PASSWORD
from tests.webauthn_kit import SoftAuthenticator


def test_R_LOGIN_4_a_passkey_registered_through_the_api_answers_a_login(
    api: TestClient, services: Services
) -> None:
    withdrawal_kit.load(services, {"maya": ["sms"]})
    auth = withdrawal_kit.bearer(withdrawal_kit.session_token(services, "maya", "sms"))
    assert api.post("/api/v1/passkeys/registrations", json={}).status_code == 401

    key = SoftAuthenticator()
    started = api.post("/api/v1/passkeys/registrations", json={"label": "Phone"}, headers=auth)
    assert started.status_code == 201, started.json()
    body = started.json()
    options = body["options"]
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    path = f"/api/v1/passkeys/registrations/{body['registration_id']}"

    # refusals: a credential from another origin, then a body that is no credential
    bad = json.loads(key.create(options, origin="http://evil.example"))
    refused = api.post(path, json={"credential": bad}, headers=auth)
    assert refused.status_code == 422 and refused.json()["code"] == "passkey_rejected"
    nonsense = api.post(path, json={"credential": {"id": "x"}}, headers=auth)
    assert nonsense.status_code == 422 and nonsense.json()["code"] == "passkey_rejected"
    assert api.get("/api/v1/passkeys", headers=auth).json() == {"passkeys": []}

    done = api.post(path, json={"credential": json.loads(key.create(options))}, headers=auth)
    assert done.status_code == 201, done.json()
    device_id = done.json()["device_id"]
    again = api.post(path, json={"credential": json.loads(key.create(options))}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "passkey_ceremony_closed"
    listed = api.get("/api/v1/passkeys", headers=auth).json()["passkeys"]
    assert [(p["device_id"], p["label"]) for p in listed] == [(device_id, "Phone")]

    started_login = api.post("/api/v1/logins", json={"username": "maya", "password": PASSWORD})
    factor = started_login.json()["factor"]
    assert factor["kind"] == "passkey" and factor["prompt"]["type"] == "passkey"
    login_id = started_login.json()["login_id"]
    state = api.get(f"/api/v1/logins/{login_id}").json()
    assert state["factor"]["prompt"] == factor["prompt"]  # the RP ID survives the re-read
    wrong = api.post(
        f"/api/v1/logins/{login_id}/answer",
        json={"response": key.get(factor["prompt"]["challenge"], uv=False)},
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "login_failed"
    answered = api.post(
        f"/api/v1/logins/{login_id}/answer",
        json={"response": key.get(factor["prompt"]["challenge"])},
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["session"]["tier"] == {"rank": 2, "device_kind": "passkey"}

    gone = api.delete(f"/api/v1/passkeys/{device_id}", headers=auth)
    assert gone.status_code == 204
    missing = api.delete(f"/api/v1/passkeys/{device_id}", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "passkey_not_found"
