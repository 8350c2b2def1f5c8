"""R-RETURN-3 at the helpdesk: a device reported lost or stolen costs its deposit at once,
in the same transaction as the report; a damaged one keeps its hold until logistics
decides on receipt.  On SQLite and PostgreSQL, through the real replacement story (the
deposit hold is placed by the replacement request and tied to the shipped DSC+)."""

from __future__ import annotations

import pytest

from securelogin.domain.operators import Operator
from securelogin.errors import DeviceNotActive
from securelogin.service.context import Services
from securelogin.service.lifecycle import returns
from securelogin.service.operators import helpdesk
from securelogin.service.operators.operators import as_operator
from tests.dbutil import scalar, snapshot, url_of
from tests.fakes import FakeClock
from tests.lifecycle_kit import LOGISTICS, USER, device_state
from tests.service.test_returns import _active_replacement

HOLD = "SELECT state FROM account_holds"
DEPOSIT_ROWS = "SELECT count(*) FROM ledger_entries WHERE kind = 'device_deposit'"


def _hana(services: Services) -> Operator:
    """The helpdesk operator of the story, with a fresh identity check of the user."""
    with services.uow() as uow:
        row = uow.operators.by_username("hana")
    assert row is not None
    hana = as_operator(row)
    helpdesk.verify_identity(services, hana, username=USER, method="callback")
    return hana


def _money(services: Services) -> tuple[int, int, int]:
    """(balance, held, available) of the account carrying the deposit."""
    with services.uow() as uow:
        funds = uow.funds.funds(1)
    return funds.balance_cents, funds.held_cents, funds.available_cents


def _outbox(services: Services) -> list[tuple[str, str]]:
    """Every message, SMS and e-mail bodies opened (they are sealed at rest)."""
    with services.uow() as uow:
        return [(m.channel, m.text) for m in uow.outbox.recent(to=None, limit=1000)]


@pytest.mark.parametrize("state", ["stolen", "lost"])
def test_R_RETURN_3_a_device_reported_stolen_or_lost_costs_its_deposit_at_once(
    services: Services, clock: FakeClock, state: str
) -> None:
    _session, device = _active_replacement(services, clock)
    hana = _hana(services)
    balance, held, available = _money(services)
    assert held == 2000 and scalar(url_of(services), HOLD) == "held"

    reported = helpdesk.mark_device(services, hana, username=USER, device_id=device, state=state)

    assert reported.deposit_charged_cents == 2000 and reported.state == state
    assert device_state(services, device) == state
    url = url_of(services)
    assert scalar(url, HOLD) == "charged"
    assert scalar(url, DEPOSIT_ROWS) == 1
    assert scalar(url, "SELECT amount_cents FROM ledger_entries WHERE kind='device_deposit'") == (
        -2000
    )
    assert state in str(
        scalar(url, "SELECT reference FROM ledger_entries WHERE kind='device_deposit'")
    )
    # the money leaves the account: the balance is lower and the hold no longer reserves it
    # (available funds were already reduced by the hold, so they stay as they were)
    assert _money(services) == (balance - 2000, 0, available)
    with services.uow() as uow:
        actions = [(e.event.action, e.event.actor) for e in uow.audit.chain()]
    assert ("deposit.charged", "operator:hana") in actions
    assert (f"helpdesk.device_{state}", "operator:hana") in actions
    told = [(c, text) for c, text in _outbox(services) if "deposit" in text]
    assert {c for c, _ in told} == {"portal", "sms"}
    assert all(f"reported {state}" in text and "USD 20.00" in text for _, text in told)


def test_R_RETURN_3_reporting_a_device_twice_is_refused_and_charges_once(
    services: Services, clock: FakeClock
) -> None:
    _session, device = _active_replacement(services, clock)
    hana = _hana(services)
    helpdesk.mark_device(services, hana, username=USER, device_id=device, state="stolen")
    before = snapshot(url_of(services))
    for again in ("stolen", "lost", "damaged"):
        with pytest.raises(DeviceNotActive) as refused:
            helpdesk.mark_device(services, hana, username=USER, device_id=device, state=again)
        assert refused.value.code == "device_not_active"
    assert snapshot(url_of(services)) == before
    assert scalar(url_of(services), DEPOSIT_ROWS) == 1
    # nor can logistics take it a second time
    with pytest.raises(Exception) as twice:
        returns.take_deposit(services, LOGISTICS, device_id=device, reason="stolen")
    assert getattr(twice.value, "code", None) == "wrong_state"


def test_R_RETURN_3_a_device_reported_damaged_keeps_its_hold_and_receipt_releases_it(
    services: Services, clock: FakeClock
) -> None:
    session, device = _active_replacement(services, clock)
    hana = _hana(services)
    money = _money(services)

    reported = helpdesk.mark_device(
        services, hana, username=USER, device_id=device, state="damaged"
    )

    assert reported.deposit_charged_cents == 0
    url = url_of(services)
    assert scalar(url, HOLD) == "held" and scalar(url, DEPOSIT_ROWS) == 0
    assert _money(services) == money
    # ordinary damage: the user sends it back, logistics receives it, the hold is released
    returns.start_return(services, session, device_id=device, reason="damaged")
    pending = returns.pending_returns(services, LOGISTICS)
    done = returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    assert done.state == "received" and device_state(services, device) == "returned"
    assert scalar(url, HOLD) == "released" and scalar(url, DEPOSIT_ROWS) == 0


def test_R_RETURN_3_intentional_damage_recorded_by_logistics_costs_the_deposit(
    services: Services, clock: FakeClock
) -> None:
    session, device = _active_replacement(services, clock)
    hana = _hana(services)
    helpdesk.mark_device(services, hana, username=USER, device_id=device, state="damaged")
    returns.start_return(services, session, device_id=device, reason="damaged")
    balance, _held, _available = _money(services)
    # logistics opens the parcel, finds the damage intentional: the deposit is taken …
    charged = returns.take_deposit(
        services, LOGISTICS, device_id=device, reason="intentionally_damaged"
    )
    assert charged == 2000
    url = url_of(services)
    assert scalar(url, HOLD) == "charged" and _money(services)[0] == balance - 2000
    assert "intentionally_damaged" in str(
        scalar(url, "SELECT reference FROM ledger_entries WHERE kind='device_deposit'")
    )
    # … and the receipt then releases nothing (the hold is settled exactly once)
    pending = returns.pending_returns(services, LOGISTICS)
    returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    assert scalar(url, HOLD) == "charged" and scalar(url, DEPOSIT_ROWS) == 1


def test_R_RETURN_3_a_device_without_a_hold_costs_nothing_when_reported_stolen(
    services: Services, clock: FakeClock
) -> None:
    from tests.lifecycle_kit import lose_device

    story = lose_device(services)  # an imported DSC+: no deposit was ever held for it
    assert device_state(services, story.lost_device_id) == "lost"
    url = url_of(services)
    assert scalar(url, "SELECT count(*) FROM account_holds") == 0
    assert scalar(url, DEPOSIT_ROWS) == 0
    assert not [text for _c, text in _outbox(services) if "deposit" in text]
