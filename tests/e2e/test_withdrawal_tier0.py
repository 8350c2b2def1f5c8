"""Tier 0 (SPEC §2, R-WD-4, R-LIMIT-1): a client with no device — opted out, or every
device lost — withdraws within 50,000 a day and 100,000 in 5 business days, and confirms
by re-entering the password; a wrong password counts as a second-factor failure
(R-LOGIN-3).  Over HTTP, in process, on SQLite and PostgreSQL; the injected clock starts
on Monday 2026-11-23 10:00 New York."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.access import Platform
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.dbutil import execute, scalar, url_of
from tests.devices import PASSWORD
from tests.e2e.test_withdrawal_api import ask, confirm
from tests.withdrawal_kit import bearer, load, session_token

DESTINATION = "Chase ****1234"


def password_session(services: Services, username: str) -> str:
    """An opted-out user with no device logs in with the password alone (full access)."""
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.session is not None and started.session.tier.rank == 0
    return started.session.token


@pytest.fixture
def olga(services: Services) -> str:
    """Opted out, no device, USD 1,000,000 in the account."""
    load(services, {"olga": []}, opted_out=frozenset({"olga"}))
    return password_session(services, "olga")


def factor_failures(services: Services, username: str) -> int:
    value = scalar(
        url_of(services), "SELECT factor_failures FROM users WHERE username = :u", u=username
    )
    return int(str(value))


def restrictions(api: TestClient, token: str, username: str) -> Any:
    answer = api.get(f"/api/v1/users/{username}/restrictions", headers=bearer(token))
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_R_WD_4_a_user_without_a_device_confirms_with_the_password_within_rank_0(
    api: TestClient, services: Services, olga: str
) -> None:
    said = restrictions(api, olga, "olga")
    assert said["tier"]["rank"] == 0
    assert said["accounts"][0]["remaining"] == {"today": "50000.00", "window": "100000.00"}
    started = ask(api, olga, "50000.00")
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["factor"] == {
        "device_id": None,
        "kind": None,
        "prompt": {"type": "password", "amount": "50000.00", "destination": DESTINATION},
    }
    done = confirm(api, olga, body["withdrawal_id"], PASSWORD)
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "accepted"
    assert done.json()["remaining"] == {"today": "0.00", "window": "50000.00"}
    assert restrictions(api, olga, "olga")["accounts"][0]["remaining"] == done.json()["remaining"]
    audit = scalar(
        url_of(services),
        "SELECT count(*) FROM audit_events WHERE action = 'withdrawal.confirmed'"
        " AND data LIKE '%password%'",
    )
    assert audit == 1


def test_R_LIMIT_3_one_cent_above_the_rank_0_day_is_refused_with_what_remains(
    api: TestClient, olga: str
) -> None:
    refused = ask(api, olga, "50000.01")
    assert refused.status_code == 422
    assert refused.json()["code"] == "daily_limit_exceeded"
    assert refused.json()["remaining"] == {"today": "50000.00", "window": "100000.00"}
    assert refused.json()["message"] == "Daily withdrawal limit: USD 50,000.00 left today"


def test_R_WD_4_the_password_is_bound_to_its_withdrawal_and_used_once(
    api: TestClient, services: Services, olga: str
) -> None:
    first = ask(api, olga, "10.00", key="a").json()
    second = ask(api, olga, "20.00", key="b").json()
    assert confirm(api, olga, first["withdrawal_id"], PASSWORD).json()["status"] == "accepted"
    again = confirm(api, olga, first["withdrawal_id"], PASSWORD)
    assert again.status_code == 409 and again.json()["code"] == "withdrawal_closed"
    assert confirm(api, olga, second["withdrawal_id"], PASSWORD).json()["status"] == "accepted"
    assert factor_failures(services, "olga") == 0


def test_R_LOGIN_3_a_wrong_password_counts_and_ten_lock_the_user_like_wrong_codes(
    api: TestClient, services: Services, olga: str
) -> None:
    """Three answers per withdrawal (R-LOGIN-6); the 10th wrong one locks (R-LOGIN-3):
    the right password is then refused, at confirmation and at login, with 423."""
    ids = [ask(api, olga, "10.00", key=f"k{i}").json()["withdrawal_id"] for i in range(4)]
    answers = [confirm(api, olga, ids[n // 3], "Wrong-Horse-9") for n in range(10)]
    assert [a.status_code for a in answers] == [401] * 10
    assert {a.json()["code"] for a in answers} == {"confirmation_failed"}
    assert factor_failures(services, "olga") == 10
    assert (
        api.get(f"/api/v1/withdrawals/{ids[0]}", headers=bearer(olga)).json()
        | {
            "status": "refused",
            "reason": "confirmation_failed",
        }
        == api.get(f"/api/v1/withdrawals/{ids[0]}", headers=bearer(olga)).json()
    )
    locked = confirm(api, olga, ids[3], PASSWORD)
    assert locked.status_code == 423 and locked.json()["code"] == "locked"
    relogin = api.post(
        "/api/v1/logins", json={"username": "olga", "password": PASSWORD, "platform": "portal"}
    )
    assert relogin.status_code == 423
    password_failures = scalar(
        url_of(services), "SELECT password_failures FROM users WHERE username = 'olga'"
    )
    assert password_failures == 0  # counted as a second factor, separately (R-LOGIN-3)


def test_R_LOGIN_3_the_right_password_ends_the_run_of_failures(
    api: TestClient, services: Services, olga: str
) -> None:
    first = ask(api, olga, "10.00", key="a").json()["withdrawal_id"]
    assert confirm(api, olga, first, "Wrong-Horse-9").status_code == 401
    assert factor_failures(services, "olga") == 1
    assert confirm(api, olga, first, PASSWORD).json()["status"] == "accepted"
    assert factor_failures(services, "olga") == 0


def test_R_LIMIT_1_an_opted_out_user_whose_devices_are_all_lost_withdraws_with_the_password(
    api: TestClient, services: Services
) -> None:
    load(services, {"lena": ["dsc", "code_card"]}, opted_out=frozenset({"lena"}))
    execute(url_of(services), "UPDATE devices SET state = 'lost'")
    token = password_session(services, "lena")
    said = restrictions(api, token, "lena")
    assert said["tier"] == {"rank": 0, "device_kind": None}
    body = ask(api, token, "50000.00").json()
    assert body["factor"]["prompt"]["type"] == "password"
    assert confirm(api, token, body["withdrawal_id"], PASSWORD).json()["status"] == "accepted"


def test_R_LIMIT_1_an_opted_out_user_with_a_device_still_confirms_with_it_at_rank_0(
    api: TestClient, services: Services
) -> None:
    """Opted out (R-OPT-2): rank 0 limits, whatever the device — which still confirms."""
    load(services, {"otto": ["dsc_plus"]}, opted_out=frozenset({"otto"}))
    token = session_token(services, "otto", "dsc_plus")
    body = ask(api, token, "50000.00").json()
    assert body["factor"]["kind"] == "dsc_plus"
    assert body["factor"]["prompt"]["type"] == "challenge"
    assert confirm(api, token, body["withdrawal_id"], PASSWORD).status_code == 401


def test_R_WD_4_bad_password_answers_are_refused_with_a_stable_code_and_never_500(
    api: TestClient, services: Services, olga: str
) -> None:
    withdrawal_id = ask(api, olga, "10.00").json()["withdrawal_id"]
    for body in ({"response": ""}, {"response": "x" * 8193}, {"response": 12}, {}):
        answer = api.post(
            f"/api/v1/withdrawals/{withdrawal_id}/confirm", json=body, headers=bearer(olga)
        )
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "invalid_request"
    assert factor_failures(services, "olga") == 0
