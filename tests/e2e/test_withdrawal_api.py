"""Withdrawals over HTTP (SPEC §10.2) and the rules R-WD-1..4, R-LIMIT-1..4, R-RESTRICT-1,
on SQLite and PostgreSQL, with the injected clock (Monday 2026-11-23 10:00 New York)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain import otp
from securelogin.domain.devices.registry import MOBILE_KEY_SUITE
from securelogin.errors import UnknownWithdrawal, WithdrawalClosed
from securelogin.service.context import Services
from securelogin.service.funds import service_keys, withdrawal_confirm
from securelogin.service.notifications import recent_messages
from securelogin.service.ports import NewDevice
from tests.dbutil import execute, scalar, url_of
from tests.devices import SEED32
from tests.fakes import FakeClock
from tests.withdrawal_kit import ACCOUNT, answer, bearer, load, session_token


def ask(api: TestClient, token: str, amount: Any, *, key: str = "k-1", **extra: Any) -> Any:
    body = {"account": ACCOUNT, "amount": amount, "destination": "Chase ****1234", **extra}
    headers = bearer(token) | {"Idempotency-Key": key}
    return api.post("/api/v1/withdrawals", json=body, headers=headers)


def confirm(api: TestClient, token: str, withdrawal_id: str, response: str) -> Any:
    return api.post(
        f"/api/v1/withdrawals/{withdrawal_id}/confirm",
        json={"response": response},
        headers=bearer(token),
    )


def withdraw(
    api: TestClient, services: Services, token: str, kind: str, amount: str, key: str
) -> Any:
    started = ask(api, token, amount, key=key)
    assert started.status_code == 201, started.json()
    body = started.json()
    return confirm(
        api, token, body["withdrawal_id"], answer(services, kind, body["factor"]["prompt"])
    )


def count(services: Services, table: str) -> int:
    return int(str(scalar(url_of(services), f"SELECT count(*) FROM {table}")))


def balance(services: Services) -> int:
    value = scalar(
        url_of(services), f"SELECT balance_cents FROM accounts WHERE number = '{ACCOUNT}'"
    )
    return int(str(value))


@pytest.fixture
def plus(services: Services) -> str:
    load(services, {"petra": ["dsc_plus", "code_card"]})
    return session_token(services, "petra", "dsc_plus")


@pytest.fixture
def temp(services: Services) -> str:
    load(services, {"tom": ["temporary_code"]}, cash="500000.00")
    return session_token(services, "tom", "temporary_code")


def test_R_WD_4_a_withdrawal_is_confirmed_with_a_challenge_bound_to_it(
    api: TestClient, services: Services, plus: str
) -> None:
    started = ask(api, plus, "1234.50")
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["status"] == "confirmation_required"
    assert body["factor"]["kind"] == "dsc_plus"
    prompt = body["factor"]["prompt"]
    assert prompt["type"] == "challenge" and len(prompt["challenge"]) == 6
    assert prompt["amount"] == "1234.50" and prompt["destination"] == "Chase ****1234"
    done = confirm(api, plus, body["withdrawal_id"], answer(services, "dsc_plus", prompt))
    assert done.status_code == 200
    assert done.json() == {
        "withdrawal_id": body["withdrawal_id"],
        "status": "accepted",
        "reason": None,
        "remaining": {"today": None, "window": None},
    }
    assert balance(services) == 100_000_000 - 123_450
    shown = api.get(f"/api/v1/withdrawals/{body['withdrawal_id']}", headers=bearer(plus))
    assert shown.json()["status"] == "accepted" and shown.json()["business_day"] == "2026-11-23"
    ledger = scalar(
        url_of(services), "SELECT amount_cents FROM ledger_entries WHERE kind = 'withdrawal'"
    )
    assert int(str(ledger)) == -123_450
    for action in ("withdrawal.requested", "withdrawal.confirmed"):
        assert count(services, f"audit_events WHERE action = '{action}'") == 1
    again = confirm(api, plus, body["withdrawal_id"], answer(services, "dsc_plus", prompt))
    assert again.status_code == 409 and again.json()["code"] == "withdrawal_closed"


def test_R_WD_4_a_confirmation_for_one_withdrawal_never_confirms_another(
    api: TestClient, services: Services, plus: str
) -> None:
    first = ask(api, plus, "100.00", key="a").json()
    second = ask(api, plus, "100.01", key="b").json()
    assert first["factor"]["prompt"]["challenge"] != second["factor"]["prompt"]["challenge"]
    wrong = confirm(
        api, plus, second["withdrawal_id"], answer(services, "dsc_plus", first["factor"]["prompt"])
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "confirmation_failed"
    assert count(services, "ledger_entries WHERE kind = 'withdrawal'") == 0


def test_R_WD_4_code_cards_get_fresh_indices_and_the_prompt_names_the_withdrawal(
    api: TestClient, services: Services, plus: str
) -> None:
    started = ask(api, plus, "50.00", device_id=_device_of(api, plus, "code_card")).json()
    prompt = started["factor"]["prompt"]
    assert prompt["type"] == "card" and prompt["amount"] == "50.00"
    done = confirm(api, plus, started["withdrawal_id"], answer(services, "code_card", prompt))
    assert done.json()["status"] == "accepted"
    # R-LIMIT-1: the picked card's lower limits apply
    assert done.json()["remaining"] == {"today": "199950.00", "window": "599950.00"}


def test_R_WD_4_the_sms_names_amount_and_destination(api: TestClient, services: Services) -> None:
    load(services, {"sam": ["sms"]})
    token = session_token(services, "sam", "sms")
    started = ask(api, token, "75.25").json()
    assert started["factor"]["prompt"]["type"] == "sms"
    text = recent_messages(services, to="+15551230089", limit=1)[-1].text
    assert "USD 75.25" in text and "Chase ****1234" in text
    done = confirm(api, token, started["withdrawal_id"], text.split()[0])
    assert done.json()["status"] == "accepted"


def _device_of(api: TestClient, token: str, kind: str) -> str:
    devices = api.get("/api/v1/me", headers=bearer(token)).json()["devices"]
    return str(next(d["device_id"] for d in devices if d["kind"] == kind))


def test_R_WD_1_the_same_key_and_body_give_the_same_answer_and_one_row(
    api: TestClient, services: Services, plus: str
) -> None:
    answers = [ask(api, plus, "10.00", key="same") for _ in range(5)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["withdrawal_id"] for a in answers}) == 1
    assert len({a.json()["factor"]["prompt"]["challenge"] for a in answers}) == 1
    assert count(services, "withdrawals") == 1
    other = ask(api, plus, "10.01", key="same")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    body = answers[0].json()
    confirm(
        api, plus, body["withdrawal_id"], answer(services, "dsc_plus", body["factor"]["prompt"])
    )
    after = ask(api, plus, "10.00", key="same")
    assert after.status_code == 201 and after.json()["status"] == "accepted"
    assert count(services, "ledger_entries WHERE kind = 'withdrawal'") == 1


def test_R_LIMIT_3_the_daily_limit_refuses_at_once_with_what_remains(
    api: TestClient, services: Services, temp: str
) -> None:
    assert withdraw(api, services, temp, "temporary_code", "30000.00", "a").json()["remaining"] == {
        "today": "20000.00",
        "window": "70000.00",
    }
    refused = ask(api, temp, "20000.01", key="b")
    assert refused.status_code == 422
    assert refused.json()["code"] == "daily_limit_exceeded"
    assert refused.json()["remaining"] == {"today": "20000.00", "window": "70000.00"}
    # the refusal is the key's answer from then on; nothing was booked
    assert ask(api, temp, "20000.01", key="b").json()["code"] == "daily_limit_exceeded"
    assert withdraw(api, services, temp, "temporary_code", "20000.00", "c").json()["status"] == (
        "accepted"
    )


def test_R_LIMIT_4_the_window_spans_five_business_days_and_skips_thanksgiving(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    load(services, {"cara": ["code_card"]})

    def card_withdraw(amount: str, key: str) -> Any:
        return withdraw(api, services, session_token(services, "cara", "code_card"),
                        "code_card", amount, key)  # fmt: skip

    # Mon 11-23, Tue 11-24, Wed 11-25: 200k each = the 600k window of a code card
    for day, key in ((23, "a"), (24, "b"), (25, "c")):
        clock.set(datetime(2026, 11, day, 15, tzinfo=UTC))
        assert card_withdraw("200000.00", key).json()["status"] == "accepted"
    # Thanksgiving (11-26) belongs to Friday 11-27, whose window 11-21..27 is full
    clock.set(datetime(2026, 11, 26, 15, tzinfo=UTC))
    token = session_token(services, "cara", "code_card")
    refused = ask(api, token, "0.01", key="d")
    assert refused.status_code == 422 and refused.json()["code"] == "five_day_limit_exceeded"
    assert refused.json()["remaining"] == {"today": "200000.00", "window": "0.00"}
    # Monday 11-30: window 11-23,24,25,27,30 — still full (Thanksgiving is skipped)
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    token = session_token(services, "cara", "code_card")
    assert ask(api, token, "0.01", key="e").json()["code"] == "five_day_limit_exceeded"
    # Tuesday 12-01: Monday 11-23 left the window, 200k free again
    clock.set(datetime(2026, 12, 1, 15, tzinfo=UTC))
    assert card_withdraw("200000.00", "f").json()["remaining"] == {
        "today": "0.00",
        "window": "0.00",
    }


def test_R_LIMIT_2_a_weekend_withdrawal_counts_on_monday(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    load(services, {"cara": ["code_card"]})
    clock.set(datetime(2026, 11, 28, 15, tzinfo=UTC))  # Saturday
    token = session_token(services, "cara", "code_card")
    withdraw(api, services, token, "code_card", "150000.00", "a")
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))  # Monday
    token = session_token(services, "cara", "code_card")
    refused = ask(api, token, "50000.01", key="b")
    assert refused.json()["code"] == "daily_limit_exceeded"
    assert refused.json()["remaining"]["today"] == "50000.00"


def test_R_WD_2_available_funds_are_balance_minus_held_deposits(
    api: TestClient, services: Services, plus: str
) -> None:
    execute(
        url_of(services),
        "INSERT INTO account_holds (account_id, amount_cents, reason, state, created_at) "
        "SELECT id, 99900000, 'device_deposit', 'held', '2026-11-23 00:00:00' FROM accounts",
    )
    refused = ask(api, plus, "1000.01")
    assert refused.status_code == 422 and refused.json()["code"] == "insufficient_funds"
    assert refused.json()["remaining"] == {"today": None, "window": None}
    assert "USD 1,000.00 available" in refused.json()["message"]  # domain.money.format_usd


def test_R_LIMIT_5_confirm_checks_again_and_refuses_when_another_got_there_first(
    api: TestClient, services: Services, temp: str
) -> None:
    first = ask(api, temp, "30000.00", key="a").json()
    second = ask(api, temp, "30000.00", key="b").json()  # both pass the pre-check
    code = answer(services, "temporary_code", {})
    assert confirm(api, temp, first["withdrawal_id"], code).json()["status"] == "accepted"
    late = confirm(api, temp, second["withdrawal_id"], code)
    assert late.status_code == 200
    assert late.json() == {
        "withdrawal_id": second["withdrawal_id"],
        "status": "refused",
        "reason": "daily_limit_exceeded",
        "remaining": {"today": "20000.00", "window": "70000.00"},
    }
    assert count(services, "ledger_entries WHERE kind = 'withdrawal'") == 1


def test_R_LIMIT_1_opted_out_users_withdraw_at_rank_0_whatever_they_hold(
    api: TestClient, services: Services
) -> None:
    load(services, {"otto": ["dsc_plus"]}, opted_out=frozenset({"otto"}))
    token = session_token(services, "otto", "dsc_plus")
    refused = ask(api, token, "50000.01")
    assert refused.json()["code"] == "daily_limit_exceeded"
    assert refused.json()["remaining"] == {"today": "50000.00", "window": "100000.00"}


def test_a_withdrawal_expires_with_the_login_expiry(
    api: TestClient, services: Services, plus: str, clock: FakeClock
) -> None:
    body = ask(api, plus, "10.00").json()
    clock.advance(seconds=181)
    late = confirm(
        api, plus, body["withdrawal_id"], answer(services, "dsc_plus", body["factor"]["prompt"])
    )
    assert late.status_code == 410 and late.json()["code"] == "withdrawal_expired"
    replay = ask(api, plus, "10.00")  # the same key: the same withdrawal, now expired
    assert replay.json()["status"] == "expired" and replay.json()["factor"] is None
    assert (
        api.get(f"/api/v1/withdrawals/{body['withdrawal_id']}", headers=bearer(plus)).json()[
            "status"
        ]
        == "expired"
    )


def test_R_LOGIN_6_three_wrong_answers_refuse_the_withdrawal(
    api: TestClient, services: Services, plus: str
) -> None:
    body = ask(api, plus, "10.00").json()
    for _ in range(3):
        wrong = confirm(api, plus, body["withdrawal_id"], "00000000")
        assert wrong.status_code == 401 and wrong.json()["code"] == "confirmation_failed"
    right = answer(services, "dsc_plus", body["factor"]["prompt"])
    assert confirm(api, plus, body["withdrawal_id"], right).json()["code"] == "withdrawal_closed"
    shown = api.get(f"/api/v1/withdrawals/{body['withdrawal_id']}", headers=bearer(plus)).json()
    assert shown["status"] == "refused" and shown["reason"] == "confirmation_failed"


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ("-5.00", "amount"),
        ("0", "amount"),
        ("0.00", "amount"),
        ("0.001", "amount"),
        ("1e30", "amount"),
        ("99999999999999999999", "amount"),
        ("ten dollars", "amount"),
        ("NaN", "amount"),
        ("", "amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_stable_code_and_nothing_written(
    api: TestClient, services: Services, plus: str, amount: str, field: str
) -> None:
    before = (count(services, "withdrawals"), count(services, "ledger_entries"))
    refused = ask(api, plus, amount)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_input" and refused.json()["field"] == field
    assert (count(services, "withdrawals"), count(services, "ledger_entries")) == before


def test_bad_requests_never_write_and_never_500(
    api: TestClient, services: Services, plus: str
) -> None:
    before = (count(services, "withdrawals"), count(services, "ledger_entries"))
    no_key = api.post(
        "/api/v1/withdrawals",
        json={"account": ACCOUNT, "amount": "1.00", "destination": "x"},
        headers=bearer(plus),
    )
    assert no_key.status_code == 422 and no_key.json()["field"] == "idempotency_key"
    assert ask(api, plus, "1.00", destination="x" * 65).json()["code"] == "invalid_request"
    assert ask(api, plus, "1.00", destination="a\nb").json()["field"] == "destination"
    assert ask(api, plus, 0.001).status_code == 422
    unknown = ask(api, plus, "1.00", account="U9999999")
    assert unknown.status_code == 404 and unknown.json()["code"] == "account_not_found"
    anonymous = api.post(
        "/api/v1/withdrawals",
        json={"account": ACCOUNT, "amount": "1.00", "destination": "x"},
        headers={"Idempotency-Key": "z"},
    )
    assert anonymous.status_code == 401
    assert (count(services, "withdrawals"), count(services, "ledger_entries")) == before


def test_no_withdraw_right_and_closed_accounts_are_refused(
    api: TestClient, services: Services
) -> None:
    load(
        services,
        {"vera": ["dsc_plus"]},
        rights={"vera": ["trade"]},
    )
    token = session_token(services, "vera", "dsc_plus")
    no_right = ask(api, token, "1.00")
    assert no_right.status_code == 403 and no_right.json()["code"] == "no_withdraw_right"
    execute(url_of(services), "UPDATE grants SET rights = 'trade withdraw'")
    execute(url_of(services), "UPDATE accounts SET status = 'closed'")
    closed = ask(api, token, "1.00")
    assert closed.status_code == 409 and closed.json()["code"] == "account_closed"
    assert count(services, "withdrawals") == 0


def test_R_RESTRICT_1_a_service_key_or_the_own_session_reads_the_restrictions(
    api: TestClient, services: Services
) -> None:
    load(services, {"petra": ["dsc"], "otto": ["sms"]}, opted_out=frozenset({"otto"}))
    key = service_keys.create_service_key(services, "trading-platform")
    petra = api.get("/api/v1/users/petra/restrictions", headers=bearer(key))
    assert petra.status_code == 200
    assert petra.json() == {
        "username": "petra",
        "sls_participant": True,
        "tier": {"rank": 3, "device_kind": "dsc"},
        "may_trade_pink_sheets": True,
        "limits": {"daily": "1000000.00", "five_day": "1500000.00"},
        "accounts": [
            {
                "account": ACCOUNT,
                "available": "1000000.00",
                "remaining": {"today": "1000000.00", "window": "1500000.00"},
            }
        ],
    }
    otto = api.get("/api/v1/users/otto/restrictions", headers=bearer(key)).json()
    assert otto["sls_participant"] is False and otto["may_trade_pink_sheets"] is False
    assert otto["tier"]["rank"] == 0 and otto["limits"] == {
        "daily": "50000.00",
        "five_day": "100000.00",
    }
    own = session_token(services, "petra", "dsc")
    assert api.get("/api/v1/users/petra/restrictions", headers=bearer(own)).status_code == 200
    other = api.get("/api/v1/users/otto/restrictions", headers=bearer(own))
    assert other.status_code == 403
    assert api.get("/api/v1/users/petra/restrictions").status_code == 401
    forged = api.get("/api/v1/users/petra/restrictions", headers=bearer("slk_" + "A" * 43))
    assert forged.status_code == 401
    service_keys.revoke_service_key(services, "trading-platform")
    assert api.get("/api/v1/users/petra/restrictions", headers=bearer(key)).status_code == 401
    stored = scalar(url_of(services), "SELECT key_hash FROM service_keys")
    assert key not in str(stored) and len(str(stored)) == 64


def _give_mobile_key(services: Services, username: str) -> str:
    """An active mobile key with a known OCRA secret and no app (so no push can go)."""
    with services.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        public_id = "dv_mobile_test"
        uow.devices.add(
            NewDevice(
                public_id=public_id,
                kind="mobile_key",
                owner_id=user.id,
                state="active",
                secret=services.box.seal(SEED32, context=f"device:{public_id}"),
                origin="test",
            ),
            at=services.clock.now(),
        )
        uow.commit()
    execute(url_of(services), "UPDATE devices SET activated_at = created_at")
    return public_id


def test_R_WD_4_a_mobile_key_without_push_confirms_with_its_bound_ocra_fallback(
    api: TestClient, services: Services
) -> None:
    load(services, {"maya": ["sms"]})
    token = session_token(services, "maya", "sms")
    device = _give_mobile_key(services, "maya")
    started = ask(api, token, "2500.00", device_id=device).json()
    prompt = started["factor"]["prompt"]
    assert started["factor"]["kind"] == "mobile_key" and prompt["type"] == "challenge"
    assert prompt["amount"] == "2500.00" and prompt["destination"] == "Chase ****1234"
    again = api.post(
        f"/api/v1/withdrawals/{started['withdrawal_id']}/fallback", headers=bearer(token)
    )
    assert again.status_code == 200
    fresh = again.json()["prompt"]
    assert fresh["type"] == "challenge" and fresh["amount"] == "2500.00"
    response = otp.ocra(MOBILE_KEY_SUITE, SEED32, question=fresh["challenge"])
    done = confirm(api, token, started["withdrawal_id"], response)
    assert done.json()["status"] == "accepted"
    assert done.json()["remaining"] == {"today": "997500.00", "window": "997500.00"}


def test_R_WD_4_confirmed_by_push_books_like_a_correct_answer_once(
    api: TestClient, services: Services
) -> None:
    load(services, {"maya": ["sms"]})
    token = session_token(services, "maya", "sms")
    device = _give_mobile_key(services, "maya")
    started = ask(api, token, "100.00", device_id=device).json()
    wid = started["withdrawal_id"]
    with pytest.raises(UnknownWithdrawal):
        withdrawal_confirm.confirmed_by_push(services, wid, "dv_other")
    result = withdrawal_confirm.confirmed_by_push(services, wid, device)
    assert result.status == "accepted" and result.withdrawal_id == wid
    # the confirmation's ceremony ended as approved, in the same commit as the booking
    state = scalar(
        url_of(services),
        "SELECT c.state || ':' || c.outcome FROM ceremonies c"
        " JOIN withdrawals w ON w.ceremony_id = c.id WHERE w.id = :w",
        w=wid,
    )
    assert state == "authenticated:approved"
    response = otp.ocra(MOBILE_KEY_SUITE, SEED32, question=started["factor"]["prompt"]["challenge"])
    assert (
        confirm(api, token, started["withdrawal_id"], response).json()["code"]
        == "withdrawal_closed"
    )
    with pytest.raises(WithdrawalClosed):
        withdrawal_confirm.confirmed_by_push(services, started["withdrawal_id"], device)
    assert count(services, "ledger_entries WHERE kind = 'withdrawal'") == 1
