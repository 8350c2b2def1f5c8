"""The login contract over HTTP (SPEC §10.2) and the login rules R-LOGIN-1..11."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain import otp
from securelogin.service.context import Services
from tests.dbutil import execute, url_of
from tests.devices import KINDS, PASSWORD, SEED20, Brokerage
from tests.fakes import FakeClock


def start(api: TestClient, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return api.post("/api/v1/logins", json={"username": username, "password": password, **extra})


def totp_now(clock: FakeClock, offset_steps: int = 0) -> str:
    return otp.totp(SEED20, at=clock.now().timestamp() + 30 * offset_steps)


@pytest.fixture
def alice(services: Services) -> None:
    Brokerage().user("alice", KINDS["dsc"].device, KINDS["sms"].device).user(
        "olivia", KINDS["totp_app"].device | {}, opted_out=True
    ).user("trader", rights=("trade",), opted_out=True).load(services)


def test_a_dsc_login_over_http_gives_a_session_that_opens_me(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    started = start(api)
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "challenge" and body["factor"]["kind"] == "dsc"
    assert body["factor"]["prompt"] == {"type": "code"}
    answer = api.post(
        f"/api/v1/logins/{body['login_id']}/answer", json={"response": totp_now(clock)}
    )
    assert answer.status_code == 200
    session = answer.json()["session"]
    assert session["access_level"] == "full"
    assert session["tier"] == {"rank": 3, "device_kind": "dsc"}
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and me.json()["tier"]["rank"] == 3
    assert {d["kind"] for d in me.json()["devices"]} == {"dsc", "sms"}
    assert api.get(f"/api/v1/logins/{body['login_id']}").json()["status"] == "authenticated"
    api.delete("/api/v1/sessions/current", headers={"Authorization": f"Bearer {session['token']}"})
    gone = api.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert gone.status_code == 401 and gone.json()["code"] == "unauthenticated"


def test_R_LOGIN_1_unknown_user_and_wrong_password_get_the_same_answer(
    api: TestClient, alice: None
) -> None:
    unknown = start(api, username="nobody")
    wrong = start(api, password="Wrong-Password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["code"] == "invalid_credentials"
    assert unknown.json()["message"] == "Invalid username or password"


def test_R_LOGIN_3_the_tenth_wrong_password_still_answers_401_then_423_for_24_hours(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    for _ in range(10):
        assert start(api, password="Wrong-Password-1").status_code == 401
        clock.advance(minutes=1)
    locked = start(api)
    assert locked.status_code == 423 and locked.json()["code"] == "locked"
    clock.advance(hours=23, minutes=50)
    assert start(api).status_code == 423
    clock.advance(minutes=11)
    assert start(api).status_code == 201


def test_R_LOGIN_3_failures_spread_over_more_than_a_day_do_not_lock(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    for _ in range(9):
        assert start(api, password="Wrong-Password-1").status_code == 401
    clock.advance(hours=25)
    assert start(api, password="Wrong-Password-1").status_code == 401
    assert start(api).status_code == 201


def test_R_LOGIN_3_ten_wrong_second_factors_lock_the_login(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    for _ in range(10):
        login_id = start(api).json()["login_id"]
        failed = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "000000"})
        assert failed.status_code == 401 and failed.json()["code"] == "login_failed"
    assert start(api).status_code == 423


def test_R_LOGIN_3_asking_for_a_new_sms_does_not_reset_the_counter(
    api: TestClient, alice: None, services: Services
) -> None:
    sms_id = next(d["device_id"] for d in _devices(api, services) if d["kind"] == "sms")
    for _ in range(9):
        login_id = start(api, device_id=sms_id).json()["login_id"]
        api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "000000"})
    login_id = start(api, device_id=sms_id).json()["login_id"]
    assert api.post(f"/api/v1/logins/{login_id}/resend").status_code == 200
    api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "000000"})
    assert start(api).status_code == 423


def _devices(api: TestClient, services: Services) -> list[dict[str, Any]]:
    from securelogin.service.login_ports import DeviceRow

    with services.uow() as uow:
        user = uow.users.by_username("alice")
        assert user is not None
        rows: list[DeviceRow] = uow.device_access.of_user(user.id)
    return [{"device_id": r.public_id, "kind": r.kind} for r in rows]


def test_R_LOGIN_4_the_client_may_pick_another_active_device(
    api: TestClient, alice: None, services: Services
) -> None:
    sms_id = next(d["device_id"] for d in _devices(api, services) if d["kind"] == "sms")
    body = start(api, device_id=sms_id).json()
    assert body["factor"]["kind"] == "sms"
    assert body["factor"]["prompt"] == {"type": "sms", "sent_to": "+1•••••••89"}
    foreign = start(api, device_id="dev_0000000000000000")
    assert foreign.status_code == 422 and foreign.json()["code"] == "unknown_device"


def test_R_LOGIN_6_a_totp_code_is_accepted_in_its_step_and_the_previous_one_only(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    old = start(api).json()["login_id"]
    too_old = api.post(f"/api/v1/logins/{old}/answer", json={"response": totp_now(clock, -2)})
    assert too_old.status_code == 401
    previous = api.post(f"/api/v1/logins/{old}/answer", json={"response": totp_now(clock, -1)})
    assert previous.status_code == 200
    again = start(api).json()["login_id"]
    replay = api.post(f"/api/v1/logins/{again}/answer", json={"response": totp_now(clock, -1)})
    assert (replay.status_code, replay.json()["code"]) == (409, "already_used")
    assert (
        api.post(f"/api/v1/logins/{again}/answer", json={"response": totp_now(clock)}).status_code
        == 200
    )


def test_R_LOGIN_7_an_opted_out_user_trades_with_the_password_alone(
    api: TestClient, alice: None
) -> None:
    trading = start(api, username="olivia", platform="trading").json()
    assert trading["status"] == "authenticated"
    assert trading["session"]["access_level"] == "trading_password_only"
    assert trading["session"]["tier"] == {"rank": 0, "device_kind": None}
    portal = start(api, username="olivia", platform="portal").json()
    assert portal["status"] == "challenge" and portal["factor"]["kind"] == "totp_app"


def test_R_LOGIN_8_a_user_whose_accounts_are_all_closed_gets_documents_only(
    api: TestClient, alice: None, services: Services
) -> None:
    execute(url_of(services), "UPDATE accounts SET status = 'closed'")
    body = start(api).json()
    assert body["status"] == "authenticated"
    assert body["session"]["access_level"] == "documents_only"


def test_R_LOGIN_9_a_temporary_code_is_full_for_two_days_then_card_only_for_ten(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("tina", KINDS["temporary_code"].device).load(services)

    def level() -> Any:
        login_id = start(api, username="tina").json()["login_id"]
        answer = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "QWERTYUIOPAS"})
        return answer.json()["session"]["access_level"] if answer.status_code == 200 else None

    assert level() == "full"
    clock.advance(days=1, hours=23)
    assert level() == "full"
    clock.advance(hours=2)
    assert level() == "card_only"
    clock.advance(days=9, hours=22)
    assert level() == "card_only"
    clock.advance(hours=3)
    assert start(api, username="tina").status_code == 401


def test_R_LOGIN_9_a_full_temporary_session_does_not_outlive_the_two_days(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("tina", KINDS["temporary_code"].device).load(services)
    clock.advance(days=1, hours=20)
    login_id = start(api, username="tina").json()["login_id"]
    session = api.post(
        f"/api/v1/logins/{login_id}/answer", json={"response": "QWERTYUIOPAS"}
    ).json()["session"]
    assert session["access_level"] == "full"
    assert session["expires_at"].startswith("2026-11-25T15:00:00")


def test_R_LOGIN_10_failed_logins_never_say_which_factor_was_wrong(
    api: TestClient, alice: None
) -> None:
    wrong_password = start(api, password="Wrong-Password-1").json()["message"]
    login_id = start(api).json()["login_id"]
    wrong_code = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "000000"}).json()[
        "message"
    ]
    assert (wrong_password, wrong_code) == ("Invalid username or password", "Login failed")


def test_R_LOGIN_11_a_session_that_may_withdraw_ends_after_five_idle_minutes(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    login_id = start(api).json()["login_id"]
    token = api.post(
        f"/api/v1/logins/{login_id}/answer", json={"response": totp_now(clock)}
    ).json()["session"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    clock.advance(minutes=4)
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(minutes=4, seconds=59)
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(minutes=5)
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_R_LOGIN_11_any_session_ends_after_twelve_hours_and_each_login_gets_a_new_token(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    tokens = []
    for _ in range(2):
        started = start(api, username="trader", platform="trading").json()
        assert started["status"] == "authenticated"
        tokens.append(started["session"]["token"])
    assert tokens[0] != tokens[1]
    bearer = {"Authorization": f"Bearer {tokens[0]}"}
    clock.advance(hours=11, minutes=59)
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(minutes=2)
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


BAD_REQUESTS = [
    ("oversized username", {"username": "a" * 65, "password": PASSWORD}, 422, "invalid_request"),
    ("non-ASCII username", {"username": "ålice", "password": PASSWORD}, 401, "invalid_credentials"),
    ("empty password", {"username": "alice", "password": ""}, 422, "invalid_request"),
    ("10 kB password", {"username": "alice", "password": "x" * 10_240}, 422, "invalid_request"),
    (
        "unknown platform",
        {"username": "alice", "password": PASSWORD, "platform": "fax"},
        422,
        "invalid_request",
    ),
    (
        "extra field",
        {"username": "alice", "password": PASSWORD, "admin": True},
        422,
        "invalid_request",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "code"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_login_requests_get_a_problem_with_a_stable_code(
    api: TestClient, alice: None, case: str, body: dict[str, Any], status: int, code: str
) -> None:
    answer = api.post("/api/v1/logins", json=body)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.headers["content-type"] == "application/problem+json"


def test_malformed_json_and_wrong_content_types_are_problems(api: TestClient, alice: None) -> None:
    broken = api.post(
        "/api/v1/logins", content=b'{"username": ', headers={"content-type": "application/json"}
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "malformed_json")
    text = api.post(
        "/api/v1/logins", content=b"username=alice", headers={"content-type": "text/plain"}
    )
    assert text.status_code in (415, 422) and text.json()["code"] in (
        "unsupported_media_type",
        "invalid_request",
    )


def test_answers_to_unknown_expired_or_finished_logins_have_stable_codes(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    unknown = api.post("/api/v1/logins/lg_nope/answer", json={"response": "123456"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "login_not_found")
    login_id = start(api).json()["login_id"]
    clock.advance(minutes=4)
    expired = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": "123456"})
    assert (expired.status_code, expired.json()["code"]) == (410, "login_expired")
    assert api.get(f"/api/v1/logins/{login_id}").json()["status"] == "expired"
    login_id = start(api).json()["login_id"]
    api.post(f"/api/v1/logins/{login_id}/answer", json={"response": totp_now(clock)})
    closed = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": totp_now(clock)})
    assert (closed.status_code, closed.json()["code"]) == (409, "login_closed")
    empty = api.post(f"/api/v1/logins/{login_id}/answer", json={"response": ""})
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_request")


def test_R_LOGIN_11_revoking_a_device_ends_the_sessions_it_created(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    login_id = start(api).json()["login_id"]
    token = api.post(
        f"/api/v1/logins/{login_id}/answer", json={"response": totp_now(clock)}
    ).json()["session"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    execute(url_of(services), "UPDATE devices SET state = 'revoked' WHERE kind = 'dsc'")
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
