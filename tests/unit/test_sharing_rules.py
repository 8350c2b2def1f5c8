"""The pure rules of device sharing and opt-out (SPEC §5.1, §5.3): the order of the
R-SHARE-2 checks, ties, retirement states, the waiver digest and R-OPT-1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from securelogin.domain.devices.catalogue import DEFAULT_CATALOGUE, DeviceKind, DeviceState
from securelogin.domain.identity import Right
from securelogin.domain.optout import (
    AccountRights,
    may_change,
    missing_rights,
    signed_waiver,
    waiver,
    waiver_digest,
)
from securelogin.domain.sharing import (
    HeldDevice,
    Participant,
    Review,
    check_share,
    default_device,
    retire_state,
)
from securelogin.errors import ShareRefused

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def held(id: int, kind: DeviceKind, state: DeviceState = DeviceState.ACTIVE) -> HeldDevice:
    return HeldDevice(id=id, kind=kind, state=state, activated_at=NOW, expires_at=None)


def person(user_id: int, entity: int, fp: str, *devices: HeldDevice) -> Participant:
    return Participant(user_id=user_id, entity_id=entity, identification_fp=fp, devices=devices)


def check(requester: Participant, owner: Participant, device: HeldDevice) -> Review:
    return check_share(
        requester=requester,
        owner=owner,
        device=device,
        catalogue=DEFAULT_CATALOGUE,
        shared_with_requester=(),
        now=NOW,
    )


def code(call: object) -> str:
    with pytest.raises(ShareRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


DSCP = held(1, DeviceKind.DSC_PLUS)


def test_R_SHARE_4_same_entity_is_automatic_matched_identification_needs_compliance() -> None:
    assert check(person(2, 1, "a"), person(1, 1, "b", DSCP), DSCP) is Review.AUTOMATIC
    assert check(person(2, 9, "a"), person(1, 1, "a", DSCP), DSCP) is Review.COMPLIANCE
    assert code(lambda: check(person(2, 9, "x"), person(1, 1, "a", DSCP), DSCP)) == (
        "identity_mismatch"
    )


def test_R_SHARE_3_the_checks_run_in_a_fixed_order() -> None:
    temp = held(5, DeviceKind.TEMPORARY_CODE)
    # a stranger holding a temporary code hears about the identity first
    assert code(lambda: check(person(2, 9, "x", temp), person(1, 1, "a", DSCP), DSCP)) == (
        "identity_mismatch"
    )
    assert code(lambda: check(person(1, 1, "a"), person(1, 1, "a", DSCP), DSCP)) == (
        "requester_is_owner"
    )
    sms = held(3, DeviceKind.SMS)
    assert code(lambda: check(person(2, 1, "a", temp), person(1, 1, "a", sms), sms)) == (
        "temporary_device_assigned"
    )
    lost = held(4, DeviceKind.DSC_PLUS, DeviceState.LOST)
    assert code(lambda: check(person(2, 1, "a"), person(1, 1, "a", sms), sms)) == (
        "device_not_shareable"
    )
    assert code(lambda: check(person(2, 1, "a"), person(1, 1, "a", lost), lost)) == (
        "device_not_active"
    )


def test_R_SHARE_2_b_an_online_card_waiting_for_activation_counts_until_it_expires() -> None:
    card = HeldDevice(
        id=7,
        kind=DeviceKind.ONLINE_CODE_CARD,
        state=DeviceState.PENDING_ACTIVATION,
        activated_at=None,
        expires_at=NOW + timedelta(days=1),
    )
    owner = person(1, 1, "a", DSCP)
    assert code(lambda: check(person(2, 1, "a", card), owner, DSCP)) == "temporary_device_assigned"
    gone = HeldDevice(**{**card.__dict__, "expires_at": NOW - timedelta(seconds=1)})
    assert check(person(2, 1, "a", gone), owner, DSCP) is Review.AUTOMATIC


def test_R_SHARE_2_c_the_most_secure_device_with_ties_allowed() -> None:
    dsc = held(2, DeviceKind.DSC)
    platinum = held(3, DeviceKind.PLATINUM_CARD)
    assert code(lambda: check(person(2, 1, "a", platinum), person(1, 1, "a", dsc), dsc)) == (
        "less_secure_device"
    )
    assert check(person(2, 1, "a", platinum), person(1, 1, "a", DSCP), DSCP) is Review.AUTOMATIC
    assert (
        default_device(
            person(1, 1, "a", dsc, DSCP, held(9, DeviceKind.SMS)),
            catalogue=DEFAULT_CATALOGUE,
            now=NOW,
        )
        == DSCP
    )


def test_R_SHARE_5_physical_devices_go_back_cards_and_the_rest_are_revoked() -> None:
    states = {k: retire_state(k, catalogue=DEFAULT_CATALOGUE) for k in DeviceKind}
    assert {k for k, s in states.items() if s is DeviceState.RETURN_PENDING} == {
        DeviceKind.DSC,
        DeviceKind.DSC_PLUS,
        DeviceKind.PLATINUM_CARD,
        DeviceKind.GOLD_CARD,
    }
    assert states[DeviceKind.CODE_CARD] is DeviceState.REVOKED  # shredded (R-RETURN-4)


def test_R_OPT_2_the_digest_covers_version_and_words_in_each_language() -> None:
    en, zh = waiver("en"), waiver("zh-CN")
    assert en.digest != zh.digest and waiver("fr") == en
    assert signed_waiver(zh.digest) == zh and signed_waiver("0" * 64) is None
    assert waiver_digest(en.version, en.text + " ") != en.digest


def test_R_OPT_1_the_right_is_needed_on_every_account() -> None:
    primary = AccountRights(
        account="U1", rights=frozenset({Right.SECURITY_SETTINGS}), primary_users=["alice"]
    )
    secondary = AccountRights(
        account="U2", rights=frozenset({Right.TRADE}), primary_users=["bob", "amy"]
    )
    assert may_change([primary]) and not may_change([])
    assert not may_change([primary, secondary])
    assert missing_rights([primary, secondary]) == (("U2", "amy, bob"),)
