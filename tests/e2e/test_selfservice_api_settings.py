"""The security settings over the JSON API as another application calls them (issue 16
§3; SPEC §5.1, §5.3: R-OPT-1..3, R-SHARE-1..5): a bearer session token from
``POST /api/v1/logins``, the same rules, confirmations and problem codes as the portal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap
from securelogin.domain.optout import WAIVER_EN, WAIVER_ZH_CN, waiver
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.lifecycle import sharing
from tests.conftest import make_settings
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD
from tests.e2e.api_client import api_log_in, bearer, token_of
from tests.fakes import FakeClock
from tests.integration.sharing_data import CORA, code_card, dsc, dsc_plus, load, sms, user
from tests.mobile_key_app import RECOVERY_PIN, TestApp


@pytest.fixture
def people(services: Services) -> Services:
    load(
        services,
        user("alice", "E-A", "U1000001", dsc("DSC-A")),
        user("sec", "E-A", "U1000001", code_card("SCC-S"), rights=["trade"]),
        user("owner", "E-A", "U1000002", dsc_plus("DP-O")),
        user("loner", "E-T", "U2000001", opted_out=True),
        user("trustee", "E-T", "U2000001", code_card("SCC-T")),
    )
    return services


def opted_out(services: Services, name: str) -> bool:
    return bool(scalar(url_of(services), f"SELECT opted_out FROM users WHERE username='{name}'"))


def count(services: Services, where: str) -> int:
    return int(str(scalar(url_of(services), f"SELECT count(*) FROM {where}")))


def device_state(services: Services, serial: str) -> str:
    return str(scalar(url_of(services), f"SELECT state FROM devices WHERE serial='{serial}'"))


def opt_out_body(**changes: Any) -> dict[str, Any]:
    return {"accept": True, "waiver_digest": waiver("en").digest} | changes


def failures(services: Services, name: str) -> int:
    sql = f"SELECT factor_failures FROM users WHERE username='{name}'"
    return int(str(scalar(url_of(services), sql)))


def opt_out_with_device(
    api: TestClient, services: Services, clock: FakeClock, token: str, **changes: Any
) -> Any:
    """Accept the waiver, then confirm with alice's DSC (R-OPT-2 through the ceremony)."""
    clock.advance(seconds=30)  # the login's TOTP code is spent (R-LOGIN-6)
    started = api.post(
        "/api/v1/settings/opt-out", json=opt_out_body(**changes), headers=bearer(token)
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    answer = KINDS["dsc"].answer(body["factor"]["prompt"], services.clock.now(), services)
    return api.post(
        f"/api/v1/settings/opt-out/{body['confirmation_id']}/confirm",
        json={"response": answer},
        headers=bearer(token),
    )


def test_R_OPT_1_a_user_without_the_right_is_refused_and_told_who_has_it(
    api: TestClient, people: Services
) -> None:
    token = token_of(api, people, "sec")
    shown = api.get("/api/v1/settings", headers=bearer(token))
    assert shown.status_code == 200, shown.json()
    view = shown.json()
    assert view["may_change"] is False
    assert view["primary_users"] == [{"account": "U1000001", "users": "alice"}]
    refused = api.post("/api/v1/settings/opt-out", json=opt_out_body(), headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_primary_user"
    assert "U1000001: alice" in refused.json()["message"]
    assert refused.headers["content-type"] == "application/problem+json"
    back_in = api.post("/api/v1/settings/opt-in", json={"choice": "share"}, headers=bearer(token))
    assert back_in.status_code == 403 and back_in.json()["code"] == "not_primary_user"
    assert not opted_out(people, "sec")
    assert count(people, "opt_outs") == 0


def test_R_OPT_2_opting_out_over_the_api_signs_the_waiver_and_nothing_else_does(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    token = token_of(api, people, "alice")
    view = api.get("/api/v1/settings", headers=bearer(token)).json()
    assert view["may_change"] is True and view["opted_out"] is False
    assert view["waiver"]["text"] == WAIVER_EN and view["waiver"]["language"] == "en"
    assert view["opt_in_choices"] == ["mobile_key", "online_card", "share"]
    zh = api.get("/api/v1/settings?language=zh-CN", headers=bearer(token)).json()["waiver"]
    assert zh["text"] == WAIVER_ZH_CN and zh["digest"] != view["waiver"]["digest"]

    def post(body: Any, headers: dict[str, str] | None = None) -> Any:
        return api.post(
            "/api/v1/settings/opt-out",
            json=body,
            headers=bearer(token) if headers is None else headers,
        )

    refusals = [
        (post(opt_out_body(accept=False)), 422, "waiver_not_signed"),
        (post(opt_out_body(waiver_digest="0" * 64)), 422, "waiver_not_signed"),
        (post(opt_out_body(accept="yes")), 422, "invalid_request"),
        (post(opt_out_body(extra=1)), 422, "invalid_request"),
        (post(opt_out_body(password=PASSWORD)), 422, "invalid_request"),  # no longer signs
        (post({"accept": True}), 422, "invalid_request"),
        (post(opt_out_body(), {}), 401, "unauthenticated"),
        (post(opt_out_body(), bearer("slt_not-a-session")), 401, "unauthenticated"),
    ]
    for answer, status, code in refusals:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.json()
    assert not opted_out(people, "alice") and count(people, "opt_outs") == 0

    started = post(opt_out_body(waiver_digest=zh["digest"]))  # the Chinese text, accepted
    assert started.status_code == 201, started.json()
    factor = started.json()["factor"]
    assert factor["kind"] == "dsc" and factor["prompt"]["type"] == "code"  # alice's device
    assert not opted_out(people, "alice")  # nothing changes before the device confirms
    url = f"/api/v1/settings/opt-out/{started.json()['confirmation_id']}"
    waiting = api.get(url, headers=bearer(token)).json()
    assert waiting["status"] == "confirmation_required" and waiting["factor"] == factor
    clock.advance(seconds=30)  # the login's TOTP code is spent (R-LOGIN-6)
    wrong = api.post(url + "/confirm", json={"response": "000000"}, headers=bearer(token))
    assert wrong.status_code == 401 and wrong.json()["code"] == "reauthentication_failed"
    assert failures(people, "alice") == 1 and not opted_out(people, "alice")  # R-LOGIN-3
    answer = KINDS["dsc"].answer(factor["prompt"], people.clock.now(), people)
    signed = api.post(url + "/confirm", json={"response": answer}, headers=bearer(token))
    assert signed.status_code == 200, signed.json()
    assert signed.json()["opted_out"] is True and signed.json()["waiver_digest"] == zh["digest"]
    assert opted_out(people, "alice")
    assert api.get(url, headers=bearer(token)).json()["status"] == "opted_out"
    twice = api.post(url + "/confirm", json={"response": answer}, headers=bearer(token))
    assert twice.status_code == 409 and twice.json()["code"] == "opt_out_closed"
    stored = scalar(url_of(people), "SELECT waiver_text FROM opt_outs")
    assert stored == WAIVER_ZH_CN
    again = post(opt_out_body())
    assert again.status_code == 409 and again.json()["code"] == "already_opted_out"
    assert count(people, "opt_outs") == 1
    assert failures(people, "alice") == 0
    restrictions = api.get("/api/v1/users/alice/restrictions", headers=bearer(token)).json()
    assert restrictions["sls_participant"] is False  # the limits see it at once


def test_R_OPT_3_back_in_at_once_with_a_device_and_only_after_an_opt_out(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    token = token_of(api, people, "alice")
    early = api.post("/api/v1/settings/opt-in", json={"choice": "share"}, headers=bearer(token))
    assert early.status_code == 409 and early.json()["code"] == "not_opted_out"
    assert opt_out_with_device(api, people, clock, token).is_success
    back = api.post("/api/v1/settings/opt-in", json={"choice": "mobile_key"}, headers=bearer(token))
    assert back.status_code == 200, back.json()
    assert back.json() == {"done": True, "choice": "mobile_key", "next": None, "card": None}
    assert not opted_out(people, "alice")


def test_R_OPT_3_without_a_device_the_online_card_way_back_in_over_the_api(
    api: TestClient, people: Services
) -> None:
    session = api_log_in(api, people, "loner")  # opted out, no device: the password alone
    assert session["tier"] == {"rank": 0, "device_kind": None}
    auth = bearer(session["token"])
    bad = api.post("/api/v1/settings/opt-in", json={"choice": "nothing"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["field"] == "choice"
    share = api.post("/api/v1/settings/opt-in", json={"choice": "share"}, headers=auth).json()
    assert share == {
        "done": False,
        "choice": "share",
        "next": "/api/v1/share-requests",
        "card": None,
    }
    assert opted_out(people, "loner")

    issued = api.post("/api/v1/settings/opt-in", json={"choice": "online_card"}, headers=auth)
    assert issued.status_code == 200, issued.json()
    card = issued.json()["card"]
    assert issued.json()["done"] is False and len(card["values"]) == 200
    assert issued.json()["next"] == "/api/v1/online-card/{device_id}/challenge"
    assert api.get("/api/v1/online-card", headers=auth).json() == {"device_id": card["device_id"]}
    prompt = api.post(f"/api/v1/online-card/{card['device_id']}/challenge", headers=auth).json()[
        "prompt"
    ]
    assert prompt["type"] == "card"
    first, second = prompt["indices"]
    answer = card["values"][str(first)] + card["values"][str(second)]
    activated = api.post(
        f"/api/v1/online-card/{card['device_id']}/activate", json={"response": answer}, headers=auth
    )
    assert activated.status_code == 200, activated.json()
    assert opted_out(people, "loner")  # a device is no opt-in by itself
    done = api.post("/api/v1/settings/opt-in", json={"choice": "online_card"}, headers=auth)
    assert done.json()["done"] is True and not opted_out(people, "loner")


def test_R_SHARE_1_and_5_sharing_over_the_api_protects_the_requester_with_the_owners_device(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    token = token_of(api, people, "alice")
    weak = api.post(
        "/api/v1/share-requests",
        json={"owner": "sec", "owner_password": PASSWORD},
        headers=bearer(token),
    )
    assert weak.status_code == 422 and weak.json()["code"] == "less_secure_device"
    assert weak.json()["message"].startswith("Less secure device")
    started = api.post(
        "/api/v1/share-requests",
        json={"owner": "owner", "owner_password": PASSWORD},
        headers=bearer(token),
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["status"] == "challenge" and body["factor"]["kind"] == "dsc_plus"
    waiting = api.get(f"/api/v1/share-requests/{body['request_id']}", headers=bearer(token))
    assert waiting.json()["status"] == "challenge" and waiting.json()["owner"] == "owner"
    response = KINDS["dsc_plus"].answer(body["factor"]["prompt"], clock.now(), people)
    done = api.post(
        f"/api/v1/share-requests/{body['request_id']}/answer",
        json={"response": response},
        headers=bearer(token),
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "approved" and done.json()["device_kind"] == "dsc_plus"
    assert device_state(people, "DSC-A") == "return_pending"  # R-SHARE-5
    # alice's own DSC opened the session: retiring it ended the session (R-LOGIN-11)
    ended = api.get("/api/v1/share-requests", headers=bearer(token))
    assert ended.status_code == 401 and ended.json()["code"] == "unauthenticated"
    again = token_of(api, people, "alice")  # now with the owner's DSC+
    mine = api.get("/api/v1/share-requests", headers=bearer(again)).json()["requests"]
    assert [(r["request_id"], r["status"]) for r in mine] == [(body["request_id"], "approved")]


def test_R_SHARE_3_a_wrong_owner_password_or_answer_is_owner_authentication_failed(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    token = token_of(api, people, "alice")
    for owner, password in (("owner", "Nope-Nope-1"), ("nobody", PASSWORD)):
        refused = api.post(
            "/api/v1/share-requests",
            json={"owner": owner, "owner_password": password},
            headers=bearer(token),
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "owner_authentication_failed"
    myself = api.post(
        "/api/v1/share-requests",
        json={"owner": "alice", "owner_password": PASSWORD},
        headers=bearer(token),
    )
    assert myself.status_code == 422 and myself.json()["code"] == "requester_is_owner"
    started = api.post(
        "/api/v1/share-requests",
        json={"owner": "owner", "owner_password": PASSWORD},
        headers=bearer(token),
    ).json()
    url = f"/api/v1/share-requests/{started['request_id']}/answer"
    for _ in range(3):  # three answers at most (R-LOGIN-6)
        wrong = api.post(url, json={"response": "00000000"}, headers=bearer(token))
        assert wrong.status_code == 422 and wrong.json()["code"] == "owner_authentication_failed"
    right = KINDS["dsc_plus"].answer(started["factor"]["prompt"], clock.now(), people)
    late = api.post(url, json={"response": right}, headers=bearer(token))
    assert late.status_code == 409 and late.json()["code"] == "share_request_decided"
    shown = api.get(f"/api/v1/share-requests/{started['request_id']}", headers=bearer(token))
    assert shown.json()["status"] == "failed"
    assert device_state(people, "DSC-A") == "active"  # nothing was shared


def test_R_SHARE_4_a_request_across_entities_waits_for_compliance_and_the_api_follows_it(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    token = token_of(api, people, "trustee")
    started = api.post(
        "/api/v1/share-requests",
        json={"owner": "owner", "owner_password": PASSWORD},
        headers=bearer(token),
    ).json()
    response = KINDS["dsc_plus"].answer(started["factor"]["prompt"], clock.now(), people)
    answered = api.post(
        f"/api/v1/share-requests/{started['request_id']}/answer",
        json={"response": response},
        headers=bearer(token),
    )
    assert answered.status_code == 200 and answered.json()["status"] == "pending_compliance"
    assert device_state(people, "SCC-T") == "active"  # nothing retired while it waits
    sharing.decide(
        people, CORA, request_id=started["request_id"], approve=False, reason="not the same person"
    )
    shown = api.get(f"/api/v1/share-requests/{started['request_id']}", headers=bearer(token))
    assert shown.json()["status"] == "rejected"
    assert (shown.json()["decided_by"], shown.json()["reason"]) == (
        "operator:cora",
        "not the same person",
    )


def test_R_SHARE_1_a_share_request_is_seen_and_answered_only_by_its_requester(
    api: TestClient, people: Services
) -> None:
    alice = token_of(api, people, "alice")
    started = api.post(
        "/api/v1/share-requests",
        json={"owner": "owner", "owner_password": PASSWORD},
        headers=bearer(alice),
    ).json()
    other = token_of(api, people, "sec")
    url = f"/api/v1/share-requests/{started['request_id']}"
    seen = api.get(url, headers=bearer(other))
    assert seen.status_code == 404 and seen.json()["code"] == "share_request_not_found"
    answered = api.post(url + "/answer", json={"response": "12345678"}, headers=bearer(other))
    assert answered.status_code == 404 and answered.json()["code"] == "share_request_not_found"
    assert api.get("/api/v1/share-requests", headers=bearer(other)).json() == {"requests": []}
    assert api.get(url, headers=bearer(alice)).json()["status"] == "challenge"
    too_long = api.get("/api/v1/share-requests/" + "x" * 41, headers=bearer(alice))
    assert too_long.status_code == 422 and too_long.json()["code"] == "invalid_request"


def test_R_OPT_3_without_a_device_the_mobile_key_way_back_in_over_the_api(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    auth = bearer(token_of(api, people, "loner"))
    way = api.post("/api/v1/settings/opt-in", json={"choice": "mobile_key"}, headers=auth).json()
    assert (way["done"], way["next"]) == (False, "/api/v1/settings/mobile-key")
    started = api.post(way["next"], headers=auth)
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["link"] == (
        f"securelogin-key://activate?server=http%3A%2F%2Ftestserver&session={body['activation_id']}"
    )
    key = TestApp(clock)
    url = f"/api/v1/key/activations/{body['activation_id']}/complete"
    enrolled = api.post(url, json={"public_key": key.public_key, "recovery_pin": RECOVERY_PIN})
    assert enrolled.status_code == 201 and enrolled.json()["username"] == "loner"
    again = api.post(url, json={"public_key": key.public_key, "recovery_pin": RECOVERY_PIN})
    assert again.status_code == 404  # one-time (R-KEY-1)
    done = api.post("/api/v1/settings/opt-in", json={"choice": "mobile_key"}, headers=auth)
    assert done.json()["done"] is True and not opted_out(people, "loner")


def test_R_OPT_2_an_installation_without_the_opt_out_refuses_it_over_the_api(
    db_url: str, clock: FakeClock
) -> None:
    wired = bootstrap(make_settings(db_url, opt_out_allowed=False), clock=clock)
    try:
        load(wired, user("alice", "E-A", "U1000001", dsc("DSC-A")))
        with TestClient(create_app(wired)) as client:
            token = token_of(client, wired, "alice")
            shown = client.get("/api/v1/settings", headers=bearer(token)).json()
            assert shown["opt_out_allowed"] is False
            refused = client.post(
                "/api/v1/settings/opt-out", json=opt_out_body(), headers=bearer(token)
            )
        assert refused.status_code == 403 and refused.json()["code"] == "opt_out_disabled"
        assert not opted_out(wired, "alice") and count(wired, "opt_outs") == 0
    finally:
        wired.database.close()


def test_R_OPT_2_opt_out_confirmed_by_the_mobile_key_push_over_the_api(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    people = services
    load(people, user("alice", "E-A", "U1000001", sms()))  # the mobile key is stronger
    token = token_of(api, people, "alice")
    auth = bearer(token)
    key = TestApp(clock)
    started = api.post("/api/v1/settings/mobile-key", headers=auth).json()
    url = f"/api/v1/key/activations/{started['activation_id']}/complete"
    enrolled = api.post(url, json={"public_key": key.public_key, "recovery_pin": RECOVERY_PIN})
    assert enrolled.status_code == 201, enrolled.json()
    key.remember(enrolled.json())
    asked = api.post("/api/v1/settings/opt-out", json=opt_out_body(), headers=auth)
    assert asked.status_code == 201, asked.json()
    factor = asked.json()["factor"]
    assert factor["kind"] == "mobile_key" and factor["prompt"]["type"] == "push"
    number = factor["prompt"]["number"]
    assert number
    (push,) = [p for p in key.pushes(api) if p["purpose"] == "settings"]
    assert not opted_out(people, "alice")
    approved = key.answer(api, push, number=number)
    assert approved.status_code == 200, approved.json()
    assert opted_out(people, "alice") and count(people, "opt_outs") == 1
    status = api.get(f"/api/v1/settings/opt-out/{asked.json()['confirmation_id']}", headers=auth)
    assert status.json() == {
        "confirmation_id": asked.json()["confirmation_id"],
        "status": "opted_out",
        "factor": None,
    }
