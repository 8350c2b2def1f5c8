"""The lost-device story, rule by rule (SPEC §5.4, R-LOGIN-9, R-OPS-4/5), on SQLite and
PostgreSQL, with the clock moved by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from securelogin.domain.access import AccessLevel
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.errors import AccessDenied, InvalidSoftPin, WrongState
from securelogin.service import messages
from securelogin.service.context import Services
from securelogin.service.lifecycle import jobs, lifecycle, replacement
from securelogin.service.lifecycle.lifecycle import WrongActivationAnswer
from tests.dbutil import scalar, snapshot, url_of
from tests.fakes import FakeClock
from tests.lifecycle_kit import (
    LOGISTICS,
    NEW_SERIAL,
    SOFT_PIN,
    USER,
    card_answer,
    current,
    device_id_of,
    device_state,
    dsc_plus_answer,
    log_in,
    lose_device,
    stock_dsc_plus,
)


def _temp_login(services: Services, code: str):
    return log_in(services, lambda prompt: code)


def _online_card(services: Services, clock: FakeClock):
    story = lose_device(services)
    grant = _temp_login(services, story.temporary_code)
    session = current(services, grant)
    card = lifecycle.request_online_card(services, session)
    lifecycle.activate_online_card(
        services, session, card.device_id, card_answer(card.values, card.prompt.indices)
    )
    return story, grant, card


def test_R_LOGIN_9_temporary_code_is_card_only_on_day_3(services: Services, clock: FakeClock):
    story = lose_device(services)
    assert _temp_login(services, story.temporary_code).access_level is AccessLevel.FULL
    clock.advance(days=3)
    grant = _temp_login(services, story.temporary_code)
    assert grant.access_level is AccessLevel.CARD_ONLY
    card = lifecycle.request_online_card(services, current(services, grant))
    assert card.prompt.indices is not None and len(card.values) == 200


def test_R_LOST_2_online_card_lifts_tier_and_retires_the_temporary_code(
    services: Services, clock: FakeClock
):
    _story, grant, card = _online_card(services, clock)
    session = current(services, grant)  # the same browser session continues on the card
    assert session.access_level is AccessLevel.FULL
    assert session.tier.device_kind is DeviceKind.ONLINE_CODE_CARD and session.tier.rank == 1
    assert device_state(services, card.device_id) == "active"
    assert card.expires_at == clock.now().replace(microsecond=0) + (card.expires_at - clock.now())
    assert (card.expires_at - clock.now()).days == 21
    temp = device_id_of(services, USER, "temporary_code")
    assert device_state(services, temp) == "replaced"
    # the next login asks for the card, never the temporary code
    again = log_in(services, lambda prompt: card_answer(card.values, prompt.indices))
    assert again.tier.device_kind is DeviceKind.ONLINE_CODE_CARD


def test_R_LOST_2_wrong_card_answer_is_refused_and_card_stays_pending(
    services: Services, clock: FakeClock
):
    story = lose_device(services)
    session = current(services, _temp_login(services, story.temporary_code))
    card = lifecycle.request_online_card(services, session)
    with pytest.raises(WrongActivationAnswer) as caught:
        lifecycle.activate_online_card(services, session, card.device_id, "AAAAAA")
    assert caught.value.code == "wrong_answer"
    assert device_state(services, card.device_id) == "pending_activation"


def test_R_LOST_2_only_a_temporary_code_login_gets_an_online_card(
    services: Services, clock: FakeClock
):
    _story, grant, _card = _online_card(services, clock)
    with pytest.raises(AccessDenied):
        lifecycle.request_online_card(services, current(services, grant))


def _requested(services: Services, clock: FakeClock):
    _story, grant, _card = _online_card(services, clock)
    session = current(services, grant)
    draft = replacement.draft_replacement(
        services, session, address="1 Main St\nSpringfield", pin=SOFT_PIN
    )
    return session, replacement.confirm_replacement(services, session, draft.request_id)


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", ""])
def test_R_LOST_3_soft_pin_must_be_four_digits_and_nothing_is_written(
    services: Services, clock: FakeClock, pin: str
):
    _story, grant, _card = _online_card(services, clock)
    session = current(services, grant)
    before = snapshot(url_of(services))
    with pytest.raises(InvalidSoftPin) as caught:
        replacement.draft_replacement(services, session, address="1 Main St", pin=pin)
    assert caught.value.code == "invalid_soft_pin"
    after = snapshot(url_of(services))
    after.pop("sessions", None), before.pop("sessions", None)  # last_seen_at moves
    assert after == before


def test_R_LOST_3_confirm_places_the_deposit_hold_and_skips_thanksgiving(
    services: Services, clock: FakeClock
):
    clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # Wednesday before Thanksgiving
    session, done = _requested(services, clock)
    assert done.state == "requested"
    # Thu 26 is a NYSE holiday: 2 business days after Wed 25 are Fri 27 and Mon 30
    assert done.estimated_ship_date == date(2026, 11, 30)
    url = url_of(services)
    assert scalar(url, "SELECT count(*) FROM account_holds WHERE state='held'") == 1
    assert scalar(url, "SELECT amount_cents FROM account_holds") == 2000
    assert "1234" not in str(snapshot(url)["replacement_requests"])
    with pytest.raises(WrongState) as caught:
        replacement.confirm_replacement(services, session, done.request_id)
    assert caught.value.code == "wrong_state"
    assert scalar(url, "SELECT count(*) FROM account_holds") == 1


def test_R_LOST_3_refuses_when_funds_do_not_cover_the_deposit(services: Services, clock: FakeClock):
    from tests.dbutil import execute

    _story, grant, _card = _online_card(services, clock)
    session = current(services, grant)
    execute(url_of(services), "UPDATE accounts SET balance_cents = 1999")
    draft = replacement.draft_replacement(services, session, address="1 Main St", pin=SOFT_PIN)
    with pytest.raises(Exception) as caught:
        replacement.confirm_replacement(services, session, draft.request_id)
    assert getattr(caught.value, "code", None) == "deposit_not_covered"
    assert scalar(url_of(services), "SELECT count(*) FROM account_holds") == 0


def _shipped(services: Services, clock: FakeClock):
    session, done = _requested(services, clock)
    stock_dsc_plus(services)
    replacement.assign_device(services, LOGISTICS, request_id=done.request_id, serial=NEW_SERIAL)
    shipped = replacement.ship(services, LOGISTICS, request_id=done.request_id)
    return session, shipped


def test_R_LOST_4_user_activates_the_shipped_dsc_plus_with_the_soft_pin(
    services: Services, clock: FakeClock
):
    session, shipped = _shipped(services, clock)
    assert shipped.state == "shipped" and shipped.serial == NEW_SERIAL
    new_device = device_id_of(services, USER, "dsc_plus")
    assert device_state(services, new_device) == "shipped"
    prompt = lifecycle.replacement_prompt(services, session, shipped.request_id)
    with pytest.raises(WrongActivationAnswer):  # the manufacturer's PIN is not the soft PIN
        lifecycle.activate_replacement(
            services, session, shipped.request_id, dsc_plus_answer(prompt.challenge, "0000")
        )
    prompt = lifecycle.replacement_prompt(services, session, shipped.request_id)
    lifecycle.activate_replacement(
        services, session, shipped.request_id, dsc_plus_answer(prompt.challenge)
    )
    assert device_state(services, new_device) == "active"
    with services.uow() as uow:
        kinds = {(d.kind, d.state) for d in uow.lifecycle.devices_of(session.user_id)}
    assert ("dsc_plus", "lost") in kinds  # the replaced lost device stays lost
    assert ("online_code_card", "replaced") in kinds
    # the login now asks the new DSC+
    grant = log_in(services, lambda p: dsc_plus_answer(p.challenge))
    assert grant.tier.rank == 4


def test_R_OPS_3_logistics_role_is_required_and_double_shipping_is_refused(
    services: Services, clock: FakeClock
):
    from securelogin.domain.operators import Operator, Role

    _session, done = _requested(services, clock)
    stock_dsc_plus(services)
    helper = Operator(id=0, username="hank", roles=frozenset({Role.HELPDESK}))
    with pytest.raises(AccessDenied):
        replacement.assign_device(services, helper, request_id=done.request_id, serial=NEW_SERIAL)
    with pytest.raises(Exception) as caught:
        replacement.assign_device(services, LOGISTICS, request_id=done.request_id, serial="NOPE")
    assert getattr(caught.value, "code", None) == "not_in_stock"
    replacement.assign_device(services, LOGISTICS, request_id=done.request_id, serial=NEW_SERIAL)
    replacement.ship(services, LOGISTICS, request_id=done.request_id)
    with pytest.raises(WrongState):
        replacement.ship(services, LOGISTICS, request_id=done.request_id)


def test_R_LOST_4_reminder_on_day_18_then_auto_activation_on_day_21(
    services: Services, clock: FakeClock
):
    session, _shipped_request = _shipped(services, clock)
    new_device = device_id_of(services, USER, "dsc_plus")
    clock.advance(days=17, hours=23)
    assert jobs.run_once(services).reminded == 0
    clock.advance(hours=1)  # day 18
    report = jobs.run_once(services)
    assert report.reminded == 1 and report.activated == 0
    assert jobs.run_once(services).reminded == 0  # exactly once
    inbox = messages.inbox(services, session)
    assert any("activates on" in m.subject for m in inbox.messages)
    clock.advance(days=3)  # day 21
    assert jobs.run_once(services).activated == 1
    assert device_state(services, new_device) == "active"
    assert jobs.run_once(services).activated == 0


def _fresh(services: Services):
    grant = log_in(services, lambda p: dsc_plus_answer(p.challenge))
    return current(services, grant)


def test_R_OPS_4_temporary_devices_expire(services: Services, clock: FakeClock):
    story = lose_device(services)
    temp = device_id_of(services, USER, "temporary_code")
    clock.advance(days=11, hours=23)
    assert jobs.run_once(services).expired == 0
    clock.advance(hours=1)
    assert jobs.run_once(services).expired == 1
    assert device_state(services, temp) == "expired"
    assert story.temporary_code


def test_R_OPS_4_online_card_expires_after_21_days(services: Services, clock: FakeClock):
    _story, _grant, card = _online_card(services, clock)
    clock.advance(days=21)
    assert jobs.run_once(services).expired == 1
    assert device_state(services, card.device_id) == "expired"


def test_R_OPS_4_expired_challenges_are_cleaned_up(services: Services, clock: FakeClock):
    story = lose_device(services)
    _temp_login(services, story.temporary_code)
    url = url_of(services)
    assert scalar(url, "SELECT count(*) FROM challenges") >= 1
    clock.advance(days=2)
    jobs.run_once(services)
    assert scalar(url, "SELECT count(*) FROM challenges") == 0


def test_R_OPS_5_message_centre_lists_messages_and_counts_unread(
    services: Services, clock: FakeClock
):
    session, _shipped_request = _shipped(services, clock)
    assert messages.deliver_portal(services) == 1  # "has shipped"
    assert messages.deliver_portal(services) == 0
    inbox = messages.inbox(services, session)
    assert inbox.unread == 1 and "has shipped" in inbox.messages[0].subject
    messages.mark_all_read(services, session)
    assert messages.unread_count(services, session) == 0


def test_R_LOST_3_deposit_and_ship_days_come_from_the_settings(sqlite_url: str, clock: FakeClock):
    from securelogin.bootstrap import bootstrap
    from tests.conftest import make_settings

    wired = bootstrap(
        make_settings(sqlite_url, device_deposit_cents=500, ship_business_days=5),
        migrate=True,
        clock=clock,
    )
    try:
        _session, done = _requested(wired, clock)
        assert scalar(url_of(wired), "SELECT amount_cents FROM account_holds") == 500
        # Mon 23 Nov + 5 business days, Thanksgiving skipped: Tue 1 Dec
        assert done.deposit == 5 and done.estimated_ship_date == date(2026, 12, 1)
    finally:
        wired.database.close()
