"""The mobile key over HTTP (R-KEY-1..5, R-LOGIN-4/5, docs/mobile-key-protocol.md) with a
real P-256 test key pair; runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock
from tests.mobile_key_app import RECOVERY_PIN, TestApp, last_sms


@pytest.fixture
def users(services: Services) -> None:
    Brokerage().user("alice", KINDS["sms"].device).user("bob", phone="+15551230077").load(services)


@pytest.fixture
def app(api: TestClient, services: Services, users: None, clock: FakeClock) -> TestApp:
    key = TestApp(clock)
    key.activate(api, services)
    return key


def start(api: TestClient, username: str = "alice") -> Any:
    got = api.post(
        "/api/v1/logins", json={"username": username, "password": PASSWORD, "platform": "portal"}
    )
    assert got.status_code == 201, got.json()
    return got.json()


def count(services: Services, table: str) -> int:
    return int(scalar(url_of(services), f"SELECT count(*) FROM {table}"))


def test_R_KEY_1_activation_registers_the_key_and_the_login_asks_for_a_push(
    api: TestClient, app: TestApp, services: Services
) -> None:
    assert app.app_id.startswith("app_") and app.secrets["alice"]
    login = start(api)
    assert login["factor"]["kind"] == "mobile_key"
    prompt = login["factor"]["prompt"]
    assert prompt["type"] == "push" and len(prompt["number"]) == 2
    [push] = app.pushes(api)
    assert push["username"] == "alice" and push["purpose"] == "login"
    # who, from where (the login request's address; TestClient calls itself "testclient")
    assert push["who"] == "alice"
    assert push["where"] == {"ip": "testclient", "platform": "portal"}
    assert prompt["number"] in push["choices"] and len(set(push["choices"])) == 3
    approved = app.answer(api, push, number=prompt["number"])
    assert approved.status_code == 200 and approved.json() == {"status": "approved"}
    state = api.get(f"/api/v1/logins/{login['login_id']}").json()
    assert state["status"] == "authenticated"
    assert state["session"]["tier"] == {"rank": 2, "device_kind": "mobile_key"}
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {state['session']['token']}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    again = api.get(f"/api/v1/logins/{login['login_id']}").json()
    assert again["status"] == "authenticated" and again.get("session") is None  # handed once


def test_R_KEY_1_the_phone_on_record_is_preselected_and_a_new_number_needs_its_country(
    api: TestClient, services: Services, users: None
) -> None:
    started = api.post("/api/v1/key/activations", json={"username": "alice", "password": PASSWORD})
    body = started.json()
    assert [p["preselected"] for p in body["phones"]] == [True]
    assert body["phones"][0]["masked"] == "+1•••••••89"
    url = f"/api/v1/key/activations/{body['activation_id']}/code"
    wrong_country = api.post(url, json={"phone": "+4915112345678", "country": "US"})
    assert wrong_country.status_code == 422 and wrong_country.json()["code"] == "invalid_input"
    added = api.post(url, json={"phone": "+4915112345678", "country": "DE"})
    assert added.status_code == 200 and added.json() == {"sent_to": "+4•••••••78"}
    assert last_sms(services, "+4915112345678")[:6].isdigit()


def test_R_KEY_1_wrong_activation_codes_count_and_the_third_ends_the_activation(
    api: TestClient, services: Services, users: None, clock: FakeClock
) -> None:
    key = TestApp(clock)
    body = api.post(
        "/api/v1/key/activations", json={"username": "alice", "password": PASSWORD}
    ).json()
    act = body["activation_id"]
    api.post(
        f"/api/v1/key/activations/{act}/code", json={"phone_id": body["phones"][0]["phone_id"]}
    )
    right = last_sms(services)[:6]
    wrong = "000000" if right != "000000" else "111111"
    complete = f"/api/v1/key/activations/{act}/complete"
    payload = {"public_key": key.public_key, "recovery_pin": RECOVERY_PIN}
    for _ in range(3):
        failed = api.post(complete, json=payload | {"code": wrong})
        assert failed.status_code == 401 and failed.json()["code"] == "activation_failed"
    assert scalar(url_of(services), "SELECT factor_failures FROM users WHERE username='alice'") == 3
    ended = api.post(complete, json=payload | {"code": right})
    assert ended.status_code == 404 and ended.json()["code"] == "activation_not_found"
    assert count(services, "key_apps") == 0


def test_R_KEY_2_bad_recovery_pins_are_refused_and_nothing_is_written(
    api: TestClient, services: Services, users: None, clock: FakeClock
) -> None:
    key = TestApp(clock)
    body = api.post(
        "/api/v1/key/activations", json={"username": "alice", "password": PASSWORD}
    ).json()
    act = body["activation_id"]
    api.post(
        f"/api/v1/key/activations/{act}/code", json={"phone_id": body["phones"][0]["phone_id"]}
    )
    code = last_sms(services)[:6]
    for pin in ("12", "1234567", "0089", "0001", "ab c"):  # short, long, phone, SSN, space
        refused = api.post(
            f"/api/v1/key/activations/{act}/complete",
            json={"code": code, "public_key": key.public_key, "recovery_pin": pin},
        )
        assert refused.status_code == 422, pin
        assert refused.json()["code"] == "recovery_pin_rejected"
    bad_key = api.post(
        f"/api/v1/key/activations/{act}/complete",
        json={"code": code, "public_key": "AAAA", "recovery_pin": RECOVERY_PIN},
    )
    assert bad_key.status_code == 422 and bad_key.json()["code"] == "invalid_input"
    assert count(services, "key_apps") == 0 and count(services, "key_recovery_pins") == 0
    assert scalar(url_of(services), "SELECT attempts FROM key_activations") == 0


def test_R_KEY_2_re_enabling_after_an_uninstall_needs_the_recovery_pin_set_then(
    api: TestClient, app: TestApp, services: Services, clock: FakeClock
) -> None:
    reinstalled = TestApp(clock)
    body = api.post(
        "/api/v1/key/activations", json={"username": "alice", "password": PASSWORD}
    ).json()
    act = body["activation_id"]
    api.post(
        f"/api/v1/key/activations/{act}/code", json={"phone_id": body["phones"][0]["phone_id"]}
    )
    code = last_sms(services)[:6]
    url = f"/api/v1/key/activations/{act}/complete"
    other = api.post(
        url, json={"code": code, "public_key": reinstalled.public_key, "recovery_pin": "zz9!"}
    )
    assert other.status_code == 401 and other.json()["code"] == "invalid_credentials"
    done = api.post(
        url, json={"code": code, "public_key": reinstalled.public_key, "recovery_pin": RECOVERY_PIN}
    )
    assert done.status_code == 201
    reinstalled.remember(done.json())
    # R-KEY-3: the old installation is deactivated and can no longer sign calls
    old = app.call(api, "GET", f"/api/v1/key/apps/{app.app_id}")
    assert old.status_code == 401 and old.json()["code"] == "key_signature_invalid"
    state = reinstalled.call(api, "GET", f"/api/v1/key/apps/{reinstalled.app_id}").json()
    assert state["users"] == [
        {"username": "alice", "device_id": reinstalled.devices["alice"], "state": "active"}
    ]


def test_R_KEY_3_one_app_holds_several_usernames_with_the_recovery_pin(
    api: TestClient, app: TestApp, services: Services
) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/users"
    bad = app.call(
        api, "POST", path, {"username": "bob", "password": PASSWORD, "recovery_pin": "nope1"}
    )
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
    added = app.call(
        api, "POST", path, {"username": "bob", "password": PASSWORD, "recovery_pin": RECOVERY_PIN}
    )
    assert added.status_code == 201, added.json()
    app.remember(added.json())
    listed = app.call(api, "GET", f"/api/v1/key/apps/{app.app_id}").json()
    assert [u["username"] for u in listed["users"]] == ["alice", "bob"]
    login = start(api, "bob")
    [push] = app.pushes(api)
    assert push["username"] == "bob"
    assert app.answer(api, push, number=login["factor"]["prompt"]["number"]).status_code == 200


def test_R_KEY_3_activating_on_a_new_phone_deactivates_the_old_one_and_its_pushes(
    api: TestClient, app: TestApp, services: Services, clock: FakeClock
) -> None:
    login = start(api)
    [push] = app.pushes(api)
    newer = TestApp(clock)
    newer.activate(api, services)
    assert scalar(url_of(services), "SELECT status FROM push_requests") == "withdrawn"
    assert (
        scalar(
            url_of(services), f"SELECT state FROM devices WHERE public_id='{app.devices['alice']}'"
        )
        == "replaced"
    )
    gone = app.answer(api, push, number=login["factor"]["prompt"]["number"])
    assert gone.status_code == 401  # the old app cannot sign any more


def test_R_KEY_4_signed_calls_refuse_bad_signatures_stale_times_and_unknown_apps(
    api: TestClient, app: TestApp
) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/pushes"
    assert api.get(path, headers=app.headers("GET", path)).status_code == 200
    stale = api.get(path, headers=app.headers("GET", path, skew=-121))
    assert stale.status_code == 401 and stale.json()["code"] == "key_signature_invalid"
    other_path = api.get(path, headers=app.headers("GET", path + "?wait=1"))
    assert other_path.status_code == 401
    forged = app.headers("GET", path) | {"X-SL-Signature": TestApp(app.clock).sign(b"x")}
    assert api.get(path, headers=forged).status_code == 401
    unknown = app.headers("GET", path) | {"X-SL-App": "app_unknown"}
    assert api.get(path, headers=unknown).json()["code"] == "key_signature_invalid"
    assert api.get(path).json()["code"] == "key_signature_invalid"


def test_R_KEY_4_a_wrong_number_closes_the_push_counts_a_failure_and_resend_sends_another(
    api: TestClient, app: TestApp, services: Services
) -> None:
    login = start(api)
    number = login["factor"]["prompt"]["number"]
    [push] = app.pushes(api)
    wrong = next(c for c in push["choices"] if c != number)
    mismatch = app.answer(api, push, number=wrong)
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "number_mismatch"
    assert scalar(url_of(services), "SELECT factor_failures FROM users WHERE username='alice'") == 1
    closed = app.answer(api, push, number=number)
    assert closed.status_code == 409 and closed.json()["code"] == "push_closed"
    lid = login["login_id"]
    for _ in range(2):  # at most 3 pushes per login, the first included
        again = api.post(f"/api/v1/logins/{lid}/resend")
        assert again.status_code == 200 and again.json()["prompt"]["type"] == "push"
    fourth = api.post(f"/api/v1/logins/{lid}/resend")
    assert fourth.status_code == 429 and fourth.json()["code"] == "too_many_codes"
    [latest] = app.pushes(api)
    assert app.answer(api, latest, number=again.json()["prompt"]["number"]).status_code == 200
    assert api.get(f"/api/v1/logins/{lid}").json()["status"] == "authenticated"


def test_R_KEY_4_a_tampered_answer_signature_is_refused_and_the_push_stays_open(
    api: TestClient, app: TestApp
) -> None:
    login = start(api)
    [push] = app.pushes(api)
    body = app.answer_body(push, "approve", login["factor"]["prompt"]["number"])
    body["number"] = next(c for c in push["choices"] if c != body["number"])
    tampered = app.call(api, "POST", f"/api/v1/key/pushes/{push['push_id']}/answer", body)
    assert tampered.status_code == 401 and tampered.json()["code"] == "key_signature_invalid"
    assert app.pushes(api) == [push]


def test_R_KEY_4_deny_not_me_denies_the_login_mutes_pushes_for_20_minutes_and_alerts(
    api: TestClient, app: TestApp, services: Services, clock: FakeClock
) -> None:
    login = start(api)
    [push] = app.pushes(api)
    denied = app.answer(api, push, decision="deny", not_me=True)
    assert denied.status_code == 200 and denied.json() == {"status": "denied"}
    assert api.get(f"/api/v1/logins/{login['login_id']}").json()["status"] == "denied"
    assert scalar(
        url_of(services), "SELECT count(*) FROM audit_events WHERE action='alert.push_not_me'"
    )
    assert "not me" in last_sms(services)
    muted = start(api)
    assert muted["factor"]["prompt"]["type"] == "challenge"  # no push while muted
    assert app.pushes(api) == []
    clock.advance(minutes=20, seconds=1)
    assert start(api)["factor"]["prompt"]["type"] == "push"


def test_R_LOGIN_5_fallback_gives_a_challenge_and_push_and_fallback_both_stay_valid(
    api: TestClient, app: TestApp
) -> None:
    login = start(api)
    lid = login["login_id"]
    fallback = api.post(f"/api/v1/logins/{lid}/fallback")
    assert fallback.status_code == 200
    challenge = fallback.json()["prompt"]
    assert challenge["type"] == "challenge" and len(challenge["challenge"]) == 6
    [push] = app.pushes(api)  # the push is still there
    answered = api.post(
        f"/api/v1/logins/{lid}/answer",
        json={"response": app.respond("alice", challenge["challenge"])},
    )
    assert answered.status_code == 200
    assert answered.json()["session"]["tier"]["device_kind"] == "mobile_key"
    late = app.answer(api, push, number=login["factor"]["prompt"]["number"])
    assert late.status_code == 409 and late.json()["code"] == "push_closed"


def test_R_LOGIN_5_an_approved_push_wins_over_a_pending_fallback(
    api: TestClient, app: TestApp
) -> None:
    login = start(api)
    lid = login["login_id"]
    challenge = api.post(f"/api/v1/logins/{lid}/fallback").json()["prompt"]["challenge"]
    [push] = app.pushes(api)
    assert app.answer(api, push, number=login["factor"]["prompt"]["number"]).status_code == 200
    late = api.post(
        f"/api/v1/logins/{lid}/answer", json={"response": app.respond("alice", challenge)}
    )
    assert late.status_code == 409 and late.json()["code"] == "login_closed"


def test_R_LOGIN_5_a_push_expires_with_its_login(
    api: TestClient, app: TestApp, clock: FakeClock
) -> None:
    login = start(api)
    [push] = app.pushes(api)
    clock.advance(minutes=3, seconds=1)
    assert app.pushes(api) == []
    late = app.answer(api, push, number=login["factor"]["prompt"]["number"])
    assert late.status_code == 409 and late.json()["code"] == "push_closed"
    assert api.get(f"/api/v1/logins/{login['login_id']}").json()["status"] == "expired"


def test_a_fallback_for_a_login_without_a_mobile_key_is_refused(
    api: TestClient, services: Services, users: None
) -> None:
    login = start(api)  # alice has only SMS here
    refused = api.post(f"/api/v1/logins/{login['login_id']}/fallback")
    assert refused.status_code == 409 and refused.json()["code"] == "login_closed"
    assert api.post("/api/v1/logins/lg_nope/fallback").json()["code"] == "login_not_found"


def test_R_WD_4_a_withdrawal_push_carries_amount_and_destination_and_confirms_on_approval(
    api: TestClient, app: TestApp, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from securelogin.domain.devices.base import Binding
    from securelogin.service.ceremony import factors
    from securelogin.service.ceremony.outcomes import Approval, Purpose

    confirmed: list[tuple[str, object]] = []

    def booked(services: Services, uow: object, approval: Approval) -> None:
        confirmed.append((approval.subject, approval.device_id))

    monkeypatch.setitem(services.on_approval, Purpose.WITHDRAWAL, booked)  # type: ignore[index]
    now = services.clock.now()
    with services.uow() as uow:
        user = uow.users.by_username("alice")
        assert user is not None
        device = next(d for d in uow.device_access.of_user(user.id) if d.kind == "mobile_key")
        _, factor = factors.open_ceremony(
            services,
            uow,
            purpose=Purpose.WITHDRAWAL,
            subject="wd_test",
            user_id=user.id,
            device=device,
            expires_at=now + timedelta(minutes=3),
            now=now,
            platform="portal",
            binding=Binding(amount="1234.56", destination="Chase ••••1234", nonce=b"n" * 16),
        )
        uow.commit()
    assert factor.prompt.type.value == "push" and factor.prompt.amount == "1234.56"
    [push] = app.pushes(api)
    assert push["purpose"] == "withdrawal"
    assert (push["amount"], push["destination"]) == ("1234.56", "Chase ••••1234")
    assert app.answer(api, push, number=factor.prompt.number).status_code == 200
    assert confirmed == [("wd_test", device.id)]


def test_R_KEY_4_a_long_poll_wakes_when_another_process_approves_the_push(
    api: TestClient, app: TestApp, services: Services
) -> None:
    """The approval is recorded without this process's HTTP layer (as another server
    process would): the shared poller finds it in the database."""
    import threading
    import time

    from securelogin.service.ceremony import push

    login = start(api)
    [pending] = app.pushes(api)
    body = app.answer_body(pending, "approve", login["factor"]["prompt"]["number"])
    with services.uow() as uow:
        app_row = uow.mobile_keys.app(app.app_id)
    assert app_row is not None
    threading.Timer(
        0.3, lambda: push.answer_push(services, app_row, push_id=pending["push_id"], **body)
    ).start()
    began = time.monotonic()
    state = api.get(f"/api/v1/logins/{login['login_id']}", params={"wait": 10}).json()
    assert state["status"] == "authenticated" and state["session"]["token"]
    assert time.monotonic() - began < 3


def test_R_KEY_4_the_pull_channel_long_polls_until_a_push_arrives(
    api: TestClient, app: TestApp, services: Services
) -> None:
    import threading

    from securelogin.domain.access import Platform
    from securelogin.service.login import login as logins

    threading.Timer(
        0.3,
        lambda: logins.start_login(
            services, username="alice", password=PASSWORD, platform=Platform.PORTAL
        ),
    ).start()
    [pushed] = app.pushes(api, wait=10)
    assert pushed["username"] == "alice"
