"""Opting out with a signed waiver and opting back in, on SQLite and PostgreSQL (SPEC
§5.1, R-OPT-1..3; R-LOGIN-7)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from securelogin.adapters.db.tables_sharing import opt_outs
from securelogin.bootstrap import bootstrap
from securelogin.domain.access import AccessLevel, Platform
from securelogin.domain.ceremony import CeremonyState
from securelogin.domain.devices.base import PromptType
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.optout import OptInChoice, waiver, waiver_digest
from securelogin.errors import (
    AlreadyOptedOut,
    NotOptedOut,
    NotPrimaryUser,
    OptOutClosed,
    OptOutDisabled,
    ReauthenticationFailed,
    UnknownOptOut,
    WaiverNotSigned,
)
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.context import Services
from securelogin.service.lifecycle import settings
from securelogin.service.login import login
from tests.conftest import make_settings
from tests.dbutil import scalar, snapshot, url_of
from tests.devices import KINDS
from tests.fakes import FakeClock
from tests.integration.sharing_data import PASSWORD, devices_of, dsc, load, user, user_id

DIGEST = waiver("en").digest


def opted_out(services: Services, name: str) -> bool:
    return bool(scalar(url_of(services), f"SELECT opted_out FROM users WHERE username='{name}'"))


def start(services: Services, name: str, **kw: object) -> settings.OptOutStarted:
    args: dict[str, object] = {"accept": True, "waiver_digest": DIGEST}
    args.update(kw)
    return settings.start_opt_out(services, user_id=user_id(services, name), **args)  # type: ignore[arg-type]


def right_answer(services: Services, started: settings.OptOutStarted) -> str:
    """alice's DSC (TOTP) answer, or the password when the prompt asks for it."""
    prompt = started.factor.prompt
    if prompt.type is PromptType.PASSWORD:
        return PASSWORD
    return KINDS["dsc"].answer(prompt.as_json(), services.clock.now(), services)


def sign(
    services: Services, name: str, *, response: str | None = None, **kw: object
) -> settings.OptedOut:
    """R-OPT-2: accept the waiver, then confirm through the ceremony."""
    started = start(services, name, **kw)
    return settings.confirm_opt_out(
        services,
        user_id=user_id(services, name),
        confirmation_id=started.confirmation_id,
        response=right_answer(services, started) if response is None else response,
    )


def factor_failures(services: Services, name: str) -> int:
    sql = f"SELECT factor_failures FROM users WHERE username='{name}'"
    return int(str(scalar(url_of(services), sql)))


@pytest.fixture
def people(services: Services) -> Services:
    load(
        services,
        user("alice", "E-A", "U1000001", dsc("DSC-A")),
        user("sec", "E-A", "U1000001", rights=["trade", "withdraw"]),
        user("loner", "E-A", "U1000002", opted_out=True),
        user("bare", "E-B", "U3000001"),
    )
    return services


def test_R_OPT_1_only_the_primary_user_may_opt_out_and_the_notice_names_them(
    people: Services,
) -> None:
    view = settings.settings_of(people, user_id=user_id(people, "sec"))
    assert not view.may_change and view.primary_users == (("U1000001", "alice"),)
    before = snapshot(url_of(people))
    with pytest.raises(NotPrimaryUser) as caught:
        sign(people, "sec")
    assert caught.value.code == "not_primary_user"
    assert "alice" in caught.value.message
    assert caught.value.primary_users == (("U1000001", "alice"),)
    with pytest.raises(NotPrimaryUser):
        settings.opt_back_in(people, user_id=user_id(people, "sec"), choice=OptInChoice.MOBILE_KEY)
    assert snapshot(url_of(people)) == before
    assert settings.settings_of(people, user_id=user_id(people, "alice")).may_change


def test_R_OPT_2_opt_out_stores_the_signed_waiver_and_trading_takes_the_password_alone(
    people: Services, clock: FakeClock
) -> None:
    receipt = sign(people, "alice")

    assert opted_out(people, "alice")
    with people.uow() as uow:
        row = uow.connection.execute(select(opt_outs)).one()  # type: ignore[attr-defined]
    shown = waiver("en")
    assert row.waiver_text == shown.text and "Pink Sheet" in row.waiver_text
    assert row.waiver_digest == waiver_digest(shown.version, shown.text) == receipt.waiver_digest
    assert row.signed_at == clock.now() and row.ended_at is None
    events = scalar(
        url_of(people), "SELECT count(*) FROM audit_events WHERE action = 'settings.opted_out'"
    )
    assert events == 1
    trading = login.start_login(
        people, username="alice", password=PASSWORD, platform=Platform.TRADING
    )
    assert trading.session is not None
    assert trading.session.access_level is AccessLevel.TRADING_PASSWORD_ONLY
    portal = login.start_login(
        people, username="alice", password=PASSWORD, platform=Platform.PORTAL
    )
    assert portal.factor is not None  # the portal still needs the device (R-LOGIN-7)
    with pytest.raises(AlreadyOptedOut):
        sign(people, "alice")


def test_R_OPT_2_the_waiver_must_be_accepted_as_shown_before_any_confirmation(
    people: Services,
) -> None:
    before = snapshot(url_of(people))
    with pytest.raises(WaiverNotSigned):
        start(people, "alice", accept=False)
    with pytest.raises(WaiverNotSigned) as caught:
        start(people, "alice", waiver_digest="0" * 64)
    assert caught.value.code == "waiver_not_signed"
    assert snapshot(url_of(people)) == before  # no ceremony opened


def test_R_OPT_2_opt_out_is_confirmed_by_a_typed_answer_of_the_strongest_device(
    people: Services,
) -> None:
    started = start(people, "alice")
    assert started.factor.kind is DeviceKind.DSC and started.factor.prompt.type is PromptType.CODE
    assert not opted_out(people, "alice")  # nothing changes before the device confirms
    with people.uow() as uow:
        ceremony = uow.ceremonies.get(started.confirmation_id)
    assert ceremony is not None and ceremony.purpose is Purpose.SETTINGS
    assert ceremony.subject == DIGEST
    done = settings.confirm_opt_out(
        people,
        user_id=user_id(people, "alice"),
        confirmation_id=started.confirmation_id,
        response=right_answer(people, started),
    )
    assert done.waiver_digest == DIGEST and opted_out(people, "alice")
    with people.uow() as uow:
        ceremony = uow.ceremonies.get(started.confirmation_id)
    assert ceremony is not None and ceremony.state is CeremonyState.AUTHENTICATED
    with pytest.raises(OptOutClosed):  # the same answer again: the ceremony has ended
        settings.confirm_opt_out(
            people,
            user_id=user_id(people, "alice"),
            confirmation_id=started.confirmation_id,
            response=right_answer(people, started),
        )
    assert scalar(url_of(people), "SELECT count(*) FROM opt_outs") == 1
    assert factor_failures(people, "alice") == 0


def test_R_LOGIN_3_a_wrong_opt_out_answer_counts_and_changes_nothing(people: Services) -> None:
    started = start(people, "alice")
    for expected in (1, 2):
        with pytest.raises(ReauthenticationFailed) as wrong:
            settings.confirm_opt_out(
                people,
                user_id=user_id(people, "alice"),
                confirmation_id=started.confirmation_id,
                response="000000",
            )
        assert wrong.value.code == "reauthentication_failed"
        assert factor_failures(people, "alice") == expected  # the login's counter
    assert not opted_out(people, "alice")
    assert scalar(url_of(people), "SELECT count(*) FROM opt_outs") == 0
    with pytest.raises(UnknownOptOut):  # another user's confirmation looks unknown
        settings.confirm_opt_out(
            people,
            user_id=user_id(people, "bare"),
            confirmation_id=started.confirmation_id,
            response=right_answer(people, started),
        )
    settings.confirm_opt_out(  # the third answer, right: accepted, and the counter clears
        people,
        user_id=user_id(people, "alice"),
        confirmation_id=started.confirmation_id,
        response=right_answer(people, started),
    )
    assert opted_out(people, "alice") and factor_failures(people, "alice") == 0


def test_R_OPT_2_a_user_without_a_device_confirms_with_the_password(people: Services) -> None:
    started = start(people, "bare")
    assert started.factor.kind is None and started.factor.prompt.type is PromptType.PASSWORD
    with pytest.raises(ReauthenticationFailed):
        sign(people, "bare", response="Not-The-Password-9")
    assert not opted_out(people, "bare") and factor_failures(people, "bare") == 1
    done = settings.confirm_opt_out(
        people,
        user_id=user_id(people, "bare"),
        confirmation_id=started.confirmation_id,
        response=PASSWORD,
    )
    assert done.waiver_digest == DIGEST and opted_out(people, "bare")
    assert factor_failures(people, "bare") == 0


def test_R_OPT_2_opt_out_can_be_disabled_for_the_whole_installation(
    db_url: str, clock: FakeClock
) -> None:
    wired = bootstrap(make_settings(db_url, opt_out_allowed=False), migrate=True, clock=clock)
    try:
        load(wired, user("alice", "E-A", "U1000001", dsc("DSC-A")))
        assert not settings.settings_of(wired, user_id=user_id(wired, "alice")).opt_out_allowed
        before = snapshot(db_url)
        with pytest.raises(OptOutDisabled) as caught:
            sign(wired, "alice")
        assert caught.value.code == "opt_out_disabled"
        assert snapshot(db_url) == before
    finally:
        wired.database.close()


def test_R_OPT_3_opting_back_in_only_after_an_opt_out(people: Services) -> None:
    with pytest.raises(NotOptedOut) as caught:
        settings.opt_back_in(
            people, user_id=user_id(people, "alice"), choice=OptInChoice.MOBILE_KEY
        )
    assert caught.value.code == "not_opted_out"


def test_R_OPT_3_with_an_active_device_the_user_is_back_in_at_once(
    people: Services, clock: FakeClock
) -> None:
    sign(people, "alice")
    clock.advance(hours=1)
    result = settings.opt_back_in(
        people, user_id=user_id(people, "alice"), choice=OptInChoice.MOBILE_KEY
    )
    assert result.done and not opted_out(people, "alice")
    with people.uow() as uow:
        row = uow.connection.execute(select(opt_outs)).one()  # type: ignore[attr-defined]
    assert row.ended_at == clock.now() and row.ended_how == "mobile_key"
    trading = login.start_login(
        people, username="alice", password=PASSWORD, platform=Platform.TRADING
    )
    assert trading.factor is not None  # the device is needed again everywhere


def test_R_OPT_3_without_a_device_the_three_ways_lead_to_one(people: Services) -> None:
    loner = user_id(people, "loner")
    key = settings.opt_back_in(people, user_id=loner, choice=OptInChoice.MOBILE_KEY)
    assert not key.done and key.next_path == "/portal/settings/mobile-key"
    shared = settings.opt_back_in(people, user_id=loner, choice=OptInChoice.SHARE)
    assert shared.next_path == "/portal/settings/share"
    card = settings.opt_back_in(people, user_id=loner, choice=OptInChoice.ONLINE_CARD)
    assert card.card is not None and len(card.card.values) == people.policy.card_positions
    [issued] = devices_of(people, "loner")
    assert (issued.kind, issued.state) == ("online_code_card", "pending_activation")
    assert opted_out(people, "loner")  # back in only once a device is active
