"""Sharing a device between usernames on SQLite and PostgreSQL (SPEC §5.3, R-SHARE-1..5,
R-OPS-2).  Every refusal code of R-SHARE-3 is reached here."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.access import Platform
from securelogin.errors import (
    AccessDenied,
    InvalidInput,
    LoginExpired,
    ShareRefused,
    ShareRequestDecided,
    Unauthenticated,
    UnknownDevice,
    UnknownShareRequest,
)
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.lifecycle import sharing
from securelogin.service.login import login, me
from tests.dbutil import execute, scalar, snapshot, url_of
from tests.devices import KINDS
from tests.fakes import FakeClock
from tests.integration.sharing_data import (
    CORA,
    HELEN,
    PASSWORD,
    answer,
    code_card,
    devices_of,
    dsc,
    dsc_plus,
    load,
    sms,
    temporary,
    user,
    user_id,
)
from tests.mobile_key_app import TestApp

#: tables a refused request must leave as they were (the owner's counters may move)
UNTOUCHED = (
    "share_requests",
    "device_users",
    "devices",
    "ceremonies",
    "logins",
    "challenges",
    "sessions",
)


def untouched(services: Services) -> dict[str, list[tuple[object, ...]]]:
    every = snapshot(url_of(services))
    return {name: every[name] for name in UNTOUCHED}


def alice() -> dict[str, object]:
    """The owner of most tests: Alice (entity E-A) with a DSC+."""
    return user("alice", "E-A", "U1000001", dsc_plus("DP-A"))


def alice2() -> dict[str, object]:
    """Alice's second username (same entity E-A) with a code card."""
    return user("alice2", "E-A", "U1000002", code_card("SCC-B"))


def twin(*, opted_out: bool = False) -> dict[str, object]:
    """A trust (entity E-T) with Alice's identification data: compliance decides."""
    return user("twin", "E-T", "U2000001", code_card("SCC-T"), opted_out=opted_out)


def audited(services: Services, action: str) -> object:
    return scalar(url_of(services), "SELECT count(*) FROM audit_events WHERE action = :a", a=action)


def start(services: Services, requester_id: int, owner: str) -> sharing.ShareStarted:
    return sharing.start_share(
        services, requester_id=requester_id, owner_username=owner, owner_password=PASSWORD
    )


def share(
    services: Services, clock: FakeClock, requester: str, owner: str, device_id: str | None = None
) -> sharing.ShareRequestView:
    started = sharing.start_share(
        services,
        requester_id=user_id(services, requester),
        owner_username=owner,
        owner_password=PASSWORD,
        device_id=device_id,
    )
    device = next(d for d in devices_of(services, owner) if d.public_id == started.factor.device_id)
    return sharing.answer_share(
        services,
        requester_id=user_id(services, requester),
        request_id=started.request_id,
        response=answer(services, started.factor, device, clock.now()),
    )


def refused(code: str, call: object) -> None:
    with pytest.raises(ShareRefused) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code


def test_R_SHARE_1_and_5_same_entity_is_approved_at_once_and_retires_the_requesters_devices(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), user("alice2", "E-A", "U1000002", dsc("DSC-B"), code_card("SCC-B")))
    own = login.start_login(
        services, username="alice2", password=PASSWORD, platform=Platform.PORTAL
    )
    assert own.factor is not None
    grant = login.answer_login(
        services, own.login_id, answer(services, own.factor, "dsc", clock.now())
    )

    decided = share(services, clock, "alice2", "alice")

    assert decided.status == "approved" and decided.decided_by == "system"
    states = {d.serial: d.state for d in devices_of(services, "alice2")}
    assert states == {"DP-A": "active", "DSC-B": "return_pending", "SCC-B": "revoked"}
    # the DSC goes back through the returns of R-RETURN-1; the code card is shredded
    returned = scalar(url_of(services), "SELECT reason FROM device_returns")
    assert returned == "consolidated"
    with pytest.raises(Unauthenticated):  # the session of a retired device ended
        sessions.authenticate(services, grant.token)
    # the shared device is offered at login and listed by /me, for both usernames
    again = login.start_login(
        services, username="alice2", password=PASSWORD, platform=Platform.PORTAL
    )
    assert again.factor is not None and again.factor.kind == "dsc_plus"
    clock.advance(seconds=1)
    session = login.answer_login(
        services, again.login_id, answer(services, again.factor, "dsc_plus", clock.now())
    )
    current = sessions.authenticate(services, session.token)
    assert "DP-A" in [d.serial for d in me.describe_me(services, current).devices]
    assert [d.serial for d in devices_of(services, "alice")] == ["DP-A"]
    assert audited(services, "share.approved") == 1


def test_R_SHARE_1_a_wrong_owner_password_is_owner_authentication_failed_and_counted(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), alice2())
    before = untouched(services)
    for owner in ("alice", "nobody"):
        refused(
            "owner_authentication_failed",
            lambda owner=owner: sharing.start_share(
                services,
                requester_id=user_id(services, "alice2"),
                owner_username=owner,
                owner_password="Wrong-Password-1",
            ),
        )
    assert untouched(services) == before
    failures = scalar(
        url_of(services), "SELECT password_failures FROM users WHERE username='alice'"
    )
    assert failures == 1


def test_R_SHARE_1_three_wrong_device_answers_fail_the_request(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), alice2())
    requester = user_id(services, "alice2")
    started = start(services, requester, "alice")
    for _ in range(3):
        refused(
            "owner_authentication_failed",
            lambda: sharing.answer_share(
                services, requester_id=requester, request_id=started.request_id, response="00000000"
            ),
        )
    assert sharing.request_view(services, started.request_id).status == "failed"
    with pytest.raises(ShareRequestDecided):
        sharing.answer_share(
            services, requester_id=requester, request_id=started.request_id, response="1"
        )
    failures = scalar(url_of(services), "SELECT factor_failures FROM users WHERE username='alice'")
    assert failures == 3
    assert [d.state for d in devices_of(services, "alice2")] == ["active"]


def test_R_SHARE_3_requester_is_owner(services: Services, clock: FakeClock) -> None:
    load(services, alice())
    before = untouched(services)
    refused("requester_is_owner", lambda: share(services, clock, "alice", "ALICE"))
    assert untouched(services) == before


def test_R_SHARE_3_identity_mismatch(services: Services, clock: FakeClock) -> None:
    load(services, alice(), user("bob", "E-B", "U3000001", code_card("SCC-B")))
    before = untouched(services)
    refused("identity_mismatch", lambda: share(services, clock, "bob", "alice"))
    assert untouched(services) == before


@pytest.mark.parametrize("holder", ["requester", "owner"])
def test_R_SHARE_3_temporary_device_assigned(
    services: Services, clock: FakeClock, holder: str
) -> None:
    owner_devices = [dsc_plus("DP-A")] + ([temporary()] if holder == "owner" else [])
    requester_devices = [code_card("SCC-B")] + ([temporary()] if holder == "requester" else [])
    load(
        services,
        user("alice", "E-A", "U1000001", *owner_devices),
        user("alice2", "E-A", "U1000002", *requester_devices),
    )
    before = untouched(services)
    refused("temporary_device_assigned", lambda: share(services, clock, "alice2", "alice"))
    assert untouched(services) == before


def test_R_SHARE_3_device_not_shareable(services: Services, clock: FakeClock) -> None:
    load(services, user("alice", "E-A", "U1000001", sms()), user("alice2", "E-A", "U1000002"))
    before = untouched(services)
    refused("device_not_shareable", lambda: share(services, clock, "alice2", "alice"))
    named = devices_of(services, "alice")[0].public_id
    refused("device_not_shareable", lambda: share(services, clock, "alice2", "alice", named))
    assert untouched(services) == before


def test_R_SHARE_3_device_not_active(services: Services, clock: FakeClock) -> None:
    load(services, alice(), user("alice2", "E-A", "U1000002"))
    execute(url_of(services), "UPDATE devices SET state = 'lost' WHERE serial = 'DP-A'")
    before = untouched(services)
    refused("device_not_active", lambda: share(services, clock, "alice2", "alice"))
    named = devices_of(services, "alice")[0].public_id
    refused("device_not_active", lambda: share(services, clock, "alice2", "alice", named))
    with pytest.raises(UnknownDevice):
        share(services, clock, "alice2", "alice", "dv_not_hers")
    assert untouched(services) == before


def test_R_SHARE_3_less_secure_device(services: Services, clock: FakeClock) -> None:
    load(
        services,
        user("alice", "E-A", "U1000001", dsc_plus("DP-A"), code_card("SCC-A")),
        user("alice2", "E-A", "U1000002", dsc("DSC-B")),
    )
    before = untouched(services)
    weaker = next(d.public_id for d in devices_of(services, "alice") if d.serial == "SCC-A")
    refused("less_secure_device", lambda: share(services, clock, "alice2", "alice", weaker))
    # the requester's own device is the most secure one: the owner's best is not enough
    execute(url_of(services), "UPDATE devices SET state = 'revoked' WHERE serial = 'DP-A'")
    refused("less_secure_device", lambda: share(services, clock, "alice2", "alice"))
    with pytest.raises(ShareRefused) as caught:
        share(services, clock, "alice2", "alice", weaker)
    assert "Identify the most secure device and share that one" in caught.value.message
    snap = untouched(services)
    assert snap["share_requests"] == before["share_requests"] == []


def test_R_SHARE_2_ties_are_allowed(services: Services, clock: FakeClock) -> None:
    load(services, user("alice", "E-A", "U1000001", code_card("SCC-A")), alice2())
    assert share(services, clock, "alice2", "alice").status == "approved"


def test_R_SHARE_3_already_shared(services: Services, clock: FakeClock) -> None:
    load(services, alice(), alice2(), twin())
    assert share(services, clock, "alice2", "alice").status == "approved"
    clock.advance(seconds=31)
    refused("already_shared", lambda: share(services, clock, "alice2", "alice"))
    clock.advance(seconds=31)
    assert share(services, clock, "twin", "alice").status == "pending_compliance"
    clock.advance(seconds=31)
    refused("already_shared", lambda: share(services, clock, "twin", "alice"))


def test_R_SHARE_4_matched_identification_waits_for_compliance_then_approved(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), twin(opted_out=True))
    waiting = share(services, clock, "twin", "alice")
    assert waiting.status == "pending_compliance"
    assert [d.serial for d in devices_of(services, "twin")] == ["SCC-T"]
    listed = sharing.list_requests(services, CORA)
    assert [r.request_id for r in listed] == [waiting.request_id]

    decided = sharing.decide(
        services, CORA, request_id=waiting.request_id, approve=True, reason="same person, trust"
    )

    assert decided.status == "approved" and decided.decided_by == "operator:cora"
    assert decided.reason == "same person, trust"
    assert {d.serial: d.state for d in devices_of(services, "twin")} == {
        "DP-A": "active",
        "SCC-T": "revoked",
    }
    # sharing is a way back into the Secure Login System (R-OPT-3)
    assert scalar(url_of(services), "SELECT opted_out FROM users WHERE username='twin'") in (
        False,
        0,
    )
    assert sharing.list_requests(services, CORA) == []


def test_R_SHARE_4_compliance_rejects_with_a_reason(services: Services, clock: FakeClock) -> None:
    load(services, alice(), twin())
    waiting = share(services, clock, "twin", "alice")
    with pytest.raises(InvalidInput):
        sharing.decide(services, CORA, request_id=waiting.request_id, approve=False, reason=" ")
    decided = sharing.decide(
        services, CORA, request_id=waiting.request_id, approve=False, reason="documents differ"
    )
    assert decided.status == "rejected" and decided.reason == "documents differ"
    assert [d.serial for d in devices_of(services, "twin")] == ["SCC-T"]
    assert audited(services, "share.rejected") == 1


def test_R_SHARE_4_a_second_decision_and_a_non_compliance_operator_write_nothing(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), twin())
    waiting = share(services, clock, "twin", "alice")
    before = snapshot(url_of(services))
    with pytest.raises(AccessDenied):
        sharing.decide(services, HELEN, request_id=waiting.request_id, approve=True, reason="ok")
    with pytest.raises(AccessDenied):
        sharing.list_requests(services, HELEN)
    assert snapshot(url_of(services)) == before
    sharing.decide(services, CORA, request_id=waiting.request_id, approve=True, reason="ok")
    after = snapshot(url_of(services))
    for approve in (True, False):
        with pytest.raises(ShareRequestDecided) as caught:
            sharing.decide(
                services, CORA, request_id=waiting.request_id, approve=approve, reason="again"
            )
        assert caught.value.code == "share_request_decided"
    assert snapshot(url_of(services)) == after


def test_R_SHARE_5_the_api_login_offers_the_shared_device_and_me_lists_it(
    services: Services, clock: FakeClock, api: TestClient
) -> None:
    load(services, alice(), alice2())
    shared = share(services, clock, "alice2", "alice")
    started = api.post(
        "/api/v1/logins", json={"username": "alice2", "password": PASSWORD, "platform": "portal"}
    ).json()
    assert started["factor"]["device_id"] == shared.device_id
    assert started["factor"]["kind"] == "dsc_plus"
    clock.advance(seconds=31)
    response = KINDS["dsc_plus"].answer(started["factor"]["prompt"], clock.now(), services)
    done = api.post(f"/api/v1/logins/{started['login_id']}/answer", json={"response": response})
    assert done.status_code == 200, done.text
    token = done.json()["session"]["token"]
    mine = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    listed = {d["device_id"]: d["state"] for d in mine["devices"]}
    assert listed[shared.device_id] == "active"
    assert mine["tier"] == {"rank": 4, "device_kind": "dsc_plus"}


def test_R_SHARE_1_the_owners_challenge_expires_with_its_login(
    services: Services, clock: FakeClock
) -> None:
    load(services, alice(), alice2())
    requester = user_id(services, "alice2")
    started = start(services, requester, "alice")
    clock.advance(seconds=services.policy.login_ttl_seconds)
    late = answer(services, started.factor, "dsc_plus", clock.now())
    with pytest.raises(LoginExpired):
        sharing.answer_share(
            services, requester_id=requester, request_id=started.request_id, response=late
        )
    assert sharing.request_view(services, started.request_id).status == "failed"
    with pytest.raises(UnknownShareRequest):  # another user's request is nobody's business
        sharing.answer_share(
            services,
            requester_id=user_id(services, "alice"),
            request_id=started.request_id,
            response=late,
        )


def test_R_SHARE_1_the_owner_approves_the_share_on_the_mobile_keys_push(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    """A share of a mobile key confirms through the same ceremony as a login: the key
    gets a push (its kind declares push delivery) showing the number the requester sees,
    and approving it decides the request in the approval's own commit."""
    load(services, user("alice", "E-A", "U1000001", sms()), alice2())
    key = TestApp(clock)
    key.activate(api, services, username="alice")
    started = sharing.start_share(
        services,
        requester_id=user_id(services, "alice2"),
        owner_username="alice",
        owner_password=PASSWORD,
        device_id=key.devices["alice"],
    )
    # the requester sees the offline challenge (to type what the key shows) and the number
    prompt = started.factor.prompt
    assert prompt.type == "challenge" and prompt.challenge and prompt.number
    [pending] = key.pushes(api)
    assert (pending["purpose"], pending["where"]["platform"]) == ("share", "share")
    assert key.answer(api, pending, number=prompt.number).status_code == 200
    decided = sharing.request_view(services, started.request_id)
    assert decided.status == "approved" and decided.decided_by == "system"
    states = {d.kind: d.state for d in devices_of(services, "alice2")}
    assert states == {"code_card": "revoked", "mobile_key": "active"}  # R-SHARE-5
    outcome = scalar(url_of(services), "SELECT state || ':' || outcome FROM ceremonies")
    assert outcome == "authenticated:approved"
    with pytest.raises(ShareRequestDecided):  # the typed fallback is closed now
        sharing.answer_share(
            services,
            requester_id=user_id(services, "alice2"),
            request_id=started.request_id,
            response=key.respond("alice", str(prompt.challenge)),
        )


def test_R_SHARE_1_a_share_denied_on_the_owners_key_fails(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    load(services, user("alice", "E-A", "U1000001", sms()), alice2())
    key = TestApp(clock)
    key.activate(api, services, username="alice")
    before = untouched(services)
    started = sharing.start_share(
        services,
        requester_id=user_id(services, "alice2"),
        owner_username="alice",
        owner_password=PASSWORD,
        device_id=key.devices["alice"],
    )
    [pending] = key.pushes(api)
    assert key.answer(api, pending, decision="deny").status_code == 200
    assert sharing.request_view(services, started.request_id).status == "failed"
    assert audited(services, "share.owner_denied") == 1
    after = untouched(services)
    assert after["device_users"] == before["device_users"]  # nothing was shared
