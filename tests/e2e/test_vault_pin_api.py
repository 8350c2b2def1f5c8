"""The soft key's server-assisted app PIN over HTTP (issue 12 §6, R-KEY-2,
docs/mobile-key-protocol.md "Server-assisted app PIN"): the server releases the vault's
share only for the right PIN proof, locks after 10 wrong proofs, and the recovery PIN
re-enables it.  SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, Brokerage
from tests.fakes import FakeClock
from tests.mobile_key_app import RECOVERY_PIN, TestApp, b64url

VERIFIER, SHARE, TOKEN = (secrets.token_bytes(32) for _ in range(3))
PIN_FIELDS = {
    "pin_verifier": b64url(VERIFIER),
    "server_share": b64url(SHARE),
    "unlock_token": b64url(TOKEN),
}


@pytest.fixture
def app(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    key = TestApp(clock)
    key.activate(api, services, extra=PIN_FIELDS)
    return key


def unlock(api: TestClient, app: TestApp, verifier: bytes, token: bytes = TOKEN) -> Any:
    body = {"unlock_token": b64url(token), "proof": b64url(verifier)}
    return api.post(f"/api/v1/key/apps/{app.app_id}/unlock", json=body)


def reset(api: TestClient, app: TestApp, recovery_pin: str) -> Any:
    body = {"unlock_token": b64url(TOKEN), "recovery_pin": recovery_pin}
    return api.post(f"/api/v1/key/apps/{app.app_id}/pin/reset", json=body)


def failures(services: Services, app: TestApp) -> int:
    sql = f"SELECT pin_failures FROM key_apps WHERE app_id = '{app.app_id}'"
    return int(scalar(url_of(services), sql))


def test_issue12_6_the_server_releases_the_share_only_for_the_right_pin_proof(
    api: TestClient, app: TestApp, services: Services
) -> None:
    wrong = unlock(api, app, secrets.token_bytes(32))
    assert wrong.status_code == 401 and wrong.json()["code"] == "app_pin_wrong"
    assert "server_share" not in wrong.json() and "9 tries left" in wrong.json()["message"]
    right = unlock(api, app, VERIFIER)
    assert right.status_code == 200 and right.json() == {"server_share": b64url(SHARE)}
    assert failures(services, app) == 0  # a right proof clears the count
    stored = scalar(url_of(services), "SELECT pin_verifier FROM key_apps")
    assert b64url(VERIFIER) not in str(stored)  # a keyed hash, not the verifier


def test_issue12_6_ten_wrong_pins_lock_it_and_R_KEY_2_the_recovery_pin_re_enables_it(
    api: TestClient, app: TestApp, services: Services
) -> None:
    codes = [unlock(api, app, secrets.token_bytes(32)).json()["code"] for _ in range(10)]
    assert codes == ["app_pin_wrong"] * 9 + ["app_pin_locked"]
    locked = unlock(api, app, VERIFIER)
    assert locked.status_code == 423 and locked.json()["code"] == "app_pin_locked"
    assert failures(services, app) == 10  # the right PIN was not even compared
    bad = reset(api, app, "n0pe!")
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
    assert unlock(api, app, VERIFIER).status_code == 423
    assert reset(api, app, RECOVERY_PIN).status_code == 204
    assert unlock(api, app, VERIFIER).json() == {"server_share": b64url(SHARE)}


def test_issue12_6_wrong_recovery_pins_end_at_twenty_failures_in_all(
    api: TestClient, app: TestApp, services: Services
) -> None:
    for _ in range(10):
        unlock(api, app, secrets.token_bytes(32))
    codes = [reset(api, app, "n0pe!").json()["code"] for _ in range(11)]
    assert codes == ["invalid_credentials"] * 10 + ["app_pin_locked"]
    assert reset(api, app, RECOVERY_PIN).status_code == 423


def test_issue12_6_only_the_holder_of_the_vault_file_may_spend_the_allowance(
    api: TestClient, app: TestApp, services: Services
) -> None:
    """Knowing the app id is not enough to lock somebody's key: the unlock token (in the
    vault file) must come with each try, and a wrong one is not counted."""
    for _ in range(12):
        got = unlock(api, app, secrets.token_bytes(32), token=secrets.token_bytes(32))
        assert got.status_code == 401 and got.json()["code"] == "key_signature_invalid"
    body = {"unlock_token": b64url(bytes(32)), "recovery_pin": RECOVERY_PIN}
    assert api.post(f"/api/v1/key/apps/{app.app_id}/pin/reset", json=body).status_code == 401
    assert failures(services, app) == 0
    assert unlock(api, app, VERIFIER).json() == {"server_share": b64url(SHARE)}


def test_issue12_6_bad_proofs_and_half_settings_are_refused_and_count_nothing(
    api: TestClient, app: TestApp, services: Services
) -> None:
    for proof in ("short", b64url(b"x" * 31), "!" * 43):
        body = {"unlock_token": b64url(TOKEN), "proof": proof}
        got = api.post(f"/api/v1/key/apps/{app.app_id}/unlock", json=body)
        assert got.status_code == 422 and got.json()["code"] == "invalid_request", proof
    assert failures(services, app) == 0
    half = app.call(
        api, "PUT", f"/api/v1/key/apps/{app.app_id}/pin", {"pin_verifier": b64url(VERIFIER)}
    )
    assert half.status_code == 422 and half.json()["code"] == "invalid_input"
    one_field = {"code": "0", "public_key": app.public_key, "recovery_pin": RECOVERY_PIN}
    lone = api.post(
        "/api/v1/key/activations/ka_x/complete", json=one_field | {"server_share": b64url(SHARE)}
    )
    assert lone.status_code == 422 and lone.json()["field"] == "pin_verifier"
    body = {"unlock_token": b64url(TOKEN), "proof": b64url(VERIFIER)}
    unknown = api.post("/api/v1/key/apps/app_nope/unlock", json=body)
    assert unknown.status_code == 401 and unknown.json()["code"] == "key_signature_invalid"


def test_issue12_6_an_app_without_a_verifier_registers_one_with_a_signed_call(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    old = TestApp(clock)
    old.activate(api, services)  # no pin fields: a first-format vault, or the web app
    before = unlock(api, old, VERIFIER)
    assert before.status_code == 409 and before.json()["code"] == "app_pin_not_set"
    unsigned = api.put(f"/api/v1/key/apps/{old.app_id}/pin", json=PIN_FIELDS)
    assert unsigned.status_code == 401
    done = old.call(api, "PUT", f"/api/v1/key/apps/{old.app_id}/pin", PIN_FIELDS)
    assert done.status_code == 204, done.text
    assert unlock(api, old, VERIFIER).json() == {"server_share": b64url(SHARE)}
