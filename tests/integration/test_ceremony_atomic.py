"""One transaction per decision (issue 11): an approved withdrawal push and the booking
it triggers commit together or not at all.

A hook the test controls crashes the unit of work between the approval (already written
in it) and the booking; afterwards the push is either approved *and* the withdrawal
booked, or neither — 20 times, alternating crashes and clean approvals.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.errors import WithdrawalClosed
from securelogin.service import sessions
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.funds_ports import WithdrawalStatus
from tests.dbutil import scalar, url_of
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp
from tests.withdrawal_kit import ACCOUNT, load, session_token

ROUNDS = 20


class Crash(Exception):
    """The process dying between the approval and the booking."""


def test_R_WD_4_an_approved_push_and_its_booking_commit_together_or_not_at_all(
    api: TestClient, services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(services, {"maya": ["sms"]})
    session = sessions.authenticate(services, session_token(services, "maya", "sms"))
    key = TestApp(clock)
    key.activate(api, services, username="maya")
    with services.uow() as uow:
        app_row = uow.mobile_keys.app(key.app_id)
    assert app_row is not None
    book = withdrawal_confirm._book
    crash_now = {"on": False}

    def crashing_book(*args: Any, **kwargs: Any) -> withdrawal_confirm.ConfirmResult:
        if crash_now["on"]:
            raise Crash
        return book(*args, **kwargs)

    monkeypatch.setattr(withdrawal_confirm, "_book", crashing_book)
    for n in range(ROUNDS):
        started = withdrawals.request_withdrawal(
            services,
            session,
            withdrawals.parse_request(
                account=ACCOUNT,
                amount="10.00",
                destination="Chase ****1234",
                idempotency_key=f"crash-{n}",
                device_id=key.devices["maya"],
            ),
        )
        assert started.factor is not None and started.factor.prompt.number is not None
        [pending] = key.pushes(api)
        body = key.answer_body(pending, "approve", started.factor.prompt.number)
        crash_now["on"] = n % 2 == 0
        with contextlib.suppress(Crash):
            push.answer_push(services, app_row, push_id=pending["push_id"], **body)
        approved = scalar(
            url_of(services),
            "SELECT status FROM push_requests WHERE push_id = :p",
            p=pending["push_id"],
        )
        decided = withdrawals.withdrawal_status(services, session, started.withdrawal_id).status
        booked = scalar(
            url_of(services),
            "SELECT count(*) FROM ledger_entries WHERE reference = :w",
            w=started.withdrawal_id,
        )
        if crash_now["on"]:  # neither: the push still waits, nothing is booked
            assert (approved, decided, booked) == ("pending", "confirmation_required", 0)
            crash_now["on"] = False  # approving again now books it
            push.answer_push(services, app_row, push_id=pending["push_id"], **body)
            decided = withdrawals.withdrawal_status(services, session, started.withdrawal_id)
            assert decided.status is WithdrawalStatus.ACCEPTED
        else:  # both
            assert (approved, decided, booked) == ("approved", "accepted", 1)
    assert scalar(url_of(services), "SELECT count(*) FROM ledger_entries") >= ROUNDS


def test_R_WD_4_a_push_denied_on_the_key_refuses_the_withdrawal_in_the_same_commit(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    """The denial ends the ceremony, and the withdrawal's handler refuses the withdrawal
    with it: the waiting page moves on, nothing is booked, the fallback is closed."""
    load(services, {"maya": ["sms"]})
    session = sessions.authenticate(services, session_token(services, "maya", "sms"))
    key = TestApp(clock)
    key.activate(api, services, username="maya")
    started = withdrawals.request_withdrawal(
        services,
        session,
        withdrawals.parse_request(
            account=ACCOUNT,
            amount="10.00",
            destination="Chase ****1234",
            idempotency_key="denied",
            device_id=key.devices["maya"],
        ),
    )
    [pending] = key.pushes(api)
    assert key.answer(api, pending, decision="deny").status_code == 200
    refused = withdrawals.withdrawal_status(services, session, started.withdrawal_id)
    assert (refused.status, refused.reason) == (WithdrawalStatus.REFUSED, "confirmation_failed")
    booked = scalar(
        url_of(services),
        "SELECT count(*) FROM ledger_entries WHERE reference = :w",
        w=started.withdrawal_id,
    )
    assert booked == 0
    with pytest.raises(WithdrawalClosed):
        withdrawal_confirm.push_fallback(services, session, started.withdrawal_id)
