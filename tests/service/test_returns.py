"""Returns and deposits (R-RETURN-1..4) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from securelogin.domain.operators import Operator, Role
from securelogin.domain.returns import RETURN_ADDRESSES, Region
from securelogin.errors import AccessDenied, InvalidInput, WrongState
from securelogin.service.context import Services
from securelogin.service.lifecycle import lifecycle, returns
from tests.dbutil import scalar, snapshot, url_of
from tests.fakes import FakeClock
from tests.lifecycle_kit import (
    LOGISTICS,
    SOFT_PIN,
    USER,
    current,
    device_id_of,
    device_state,
    dsc_plus_answer,
    log_in,
)
from tests.service.test_lifecycle import _shipped


def _active_replacement(services: Services, clock: FakeClock):
    session, shipped = _shipped(services, clock)
    prompt = lifecycle.replacement_prompt(services, session, shipped.request_id)
    lifecycle.activate_replacement(
        services, session, shipped.request_id, dsc_plus_answer(prompt.challenge)
    )
    grant = log_in(services, lambda p: dsc_plus_answer(p.challenge))
    return current(services, grant), device_id_of(services, USER, "dsc_plus")


def test_R_RETURN_1_return_shows_the_regional_address(services: Services, clock: FakeClock):
    session, device = _active_replacement(services, clock)
    started = returns.start_return(
        services, session, device_id=device, reason="damaged", region="japan"
    )
    assert device_state(services, device) == "return_pending"
    assert started.address is RETURN_ADDRESSES[Region.JAPAN]
    assert any("東京都" in line for line in started.address.local_lines)
    assert "Greenwich, CT 06830" in RETURN_ADDRESSES[Region.US_CANADA].lines
    with pytest.raises(WrongState):
        returns.start_return(services, session, device_id=device, reason="damaged")


def test_R_RETURN_1_unknown_reason_is_refused_and_nothing_is_written(
    services: Services, clock: FakeClock
):
    session, device = _active_replacement(services, clock)
    before = snapshot(url_of(services))
    for reason, region in (("bored", "us_canada"), ("damaged", "mars")):
        with pytest.raises(InvalidInput):
            returns.start_return(services, session, device_id=device, reason=reason, region=region)
    after = snapshot(url_of(services))
    assert after["devices"] == before["devices"] and after["device_returns"] == []


def test_R_RETURN_2_receipt_returns_the_device_and_releases_the_deposit(
    services: Services, clock: FakeClock
):
    session, device = _active_replacement(services, clock)
    returns.start_return(services, session, device_id=device, reason="consolidated")
    pending = returns.pending_returns(services, LOGISTICS)
    assert [p.device_public_id for p in pending] == [device]
    with pytest.raises(AccessDenied):
        returns.record_receipt(
            services,
            Operator(id=0, username="hank", roles=frozenset({Role.HELPDESK})),
            return_id=pending[0].id,
        )
    returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    assert device_state(services, device) == "returned"
    url = url_of(services)
    assert scalar(url, "SELECT state FROM account_holds") == "released"
    with pytest.raises(WrongState):  # a double decision
        returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    with pytest.raises(WrongState):  # an action on a returned device
        returns.start_return(services, session, device_id=device, reason="damaged")
    assert scalar(url, "SELECT count(*) FROM ledger_entries WHERE kind='device_deposit'") == 0


def test_R_RETURN_3_a_device_reported_lost_costs_its_deposit_at_the_report(
    services: Services, clock: FakeClock
):
    from securelogin.service.operators import helpdesk

    _session, device = _active_replacement(services, clock)
    url = url_of(services)
    balance = scalar(url, "SELECT balance_cents FROM accounts")
    with services.uow() as uow:
        hana = uow.operators.by_username("hana")
    from securelogin.service.operators.operators import as_operator

    assert hana is not None
    helpdesk.verify_identity(services, as_operator(hana), username=USER, method="callback")
    reported = helpdesk.mark_device(
        services, as_operator(hana), username=USER, device_id=device, state="lost"
    )
    assert reported.deposit_charged_cents == 2000
    assert scalar(url, "SELECT state FROM account_holds") == "charged"
    assert scalar(url, "SELECT balance_cents FROM accounts") == balance - 2000
    assert (
        scalar(url, "SELECT amount_cents FROM ledger_entries WHERE kind='device_deposit'") == -2000
    )
    with pytest.raises(WrongState):
        returns.take_deposit(services, LOGISTICS, device_id=device, reason="lost")


def test_R_RETURN_4_code_cards_are_shredded_not_returned(services: Services, clock: FakeClock):
    from tests.devices import CARD, Brokerage

    Brokerage().user("cara", {"kind": "code_card", "serial": "SCC-1", "values": CARD}).load(
        services
    )

    def card(prompt):
        first, second = prompt.indices
        return CARD[str(first)] + CARD[str(second)]

    session = current(services, log_in(services, card, username="cara"))
    device = device_id_of(services, "cara", "code_card")
    started = returns.start_return(services, session, device_id=device, reason="replaced")
    assert started.shredded and started.address is None
    assert device_state(services, device) == "revoked"
    assert scalar(url_of(services), "SELECT count(*) FROM device_returns") == 0
    assert SOFT_PIN
