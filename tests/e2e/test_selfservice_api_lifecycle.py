"""The lost-device story, returns, the message centre and documents over the JSON API as
another application calls them (issue 16 §3; SPEC §5.4, §5.5: R-LOST-2..4,
R-RETURN-1/4, R-LOGIN-8/9): a bearer session token from ``POST /api/v1/logins``, the same
use cases, confirmations and problem codes as the portal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from securelogin.service import messages
from securelogin.service.context import Services
from securelogin.service.lifecycle import closure, replacement
from tests.dbutil import scalar, url_of
from tests.devices import CARD, SEED20, SEED32, Brokerage
from tests.e2e.api_client import api_log_in, bearer, token_of
from tests.fakes import FakeClock
from tests.integration.sharing_data import dsc, load, user
from tests.lifecycle_kit import (
    ADMIN,
    LOGISTICS,
    NEW_SERIAL,
    SOFT_PIN,
    USER,
    device_state,
    dsc_plus_answer,
    lose_device,
    stock_dsc_plus,
)


def count(services: Services, where: str) -> int:
    return int(str(scalar(url_of(services), f"SELECT count(*) FROM {where}")))


def temporary_session(api: TestClient, services: Services, code: str) -> dict[str, Any]:
    return api_log_in(api, services, USER, answer=lambda _prompt: code)


def test_R_LOST_2_a_temporary_code_session_activates_an_online_card_over_the_api(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    story = lose_device(services)
    clock.advance(days=3)  # the code's 2 full days are over: card_only (R-LOGIN-9)
    session = temporary_session(api, services, story.temporary_code)
    assert session["access_level"] == "card_only"
    auth = bearer(session["token"])
    # card_only reaches the online card and nothing else
    assert api.get("/api/v1/replacements", headers=auth).json()["code"] == "access_denied"
    assert api.get("/api/v1/settings", headers=auth).status_code == 403
    assert api.get("/api/v1/online-card", headers=auth).json() == {"device_id": None}

    issued = api.post("/api/v1/online-card", headers=auth)
    assert issued.status_code == 201, issued.json()
    card = issued.json()
    values = card["values"]
    assert len(values) == 200 and card["prompt"]["type"] == "card"
    url = f"/api/v1/online-card/{card['device_id']}"
    wrong = api.post(url + "/activate", json={"response": "AAABBB"}, headers=auth)
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_answer"
    assert device_state(services, card["device_id"]) == "pending_activation"
    prompt = api.post(url + "/challenge", headers=auth).json()["prompt"]
    first, second = prompt["indices"]
    right = f"{values[str(first)]} {values[str(second)].lower()}"  # spaces and case ignored
    done = api.post(url + "/activate", json={"response": right}, headers=auth)
    assert done.status_code == 200, done.json()
    assert done.json() == {"device_id": card["device_id"], "state": "active"}
    # the same token continues on the card, with full access (R-LOST-2)
    me = api.get("/api/v1/me", headers=auth).json()
    assert me["access_level"] == "full"
    assert me["tier"] == {"rank": 1, "device_kind": "online_code_card"}
    kinds = {d["kind"]: d["state"] for d in me["devices"]}
    assert kinds["temporary_code"] == "replaced"
    again = api.post(url + "/activate", json={"response": right}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "wrong_state"
    twice = api.post("/api/v1/online-card", headers=auth)
    assert twice.status_code == 403 and twice.json()["code"] == "access_denied"


def test_R_LOST_2_an_online_card_is_only_for_a_temporary_code_login(
    api: TestClient, services: Services
) -> None:
    Brokerage().user("otto", dsc("DSC-OTTO")).load(services)
    token = token_of(api, services, "otto")
    refused = api.post("/api/v1/online-card", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["code"] == "access_denied"
    assert count(services, "devices WHERE kind = 'online_code_card'") == 0


def test_R_LOST_3_and_4_a_replacement_is_requested_followed_and_activated_over_the_api(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    story = lose_device(services)
    stock_dsc_plus(services)
    auth = bearer(temporary_session(api, services, story.temporary_code)["token"])
    listed = api.get("/api/v1/replacements", headers=auth).json()
    assert listed["requests"] == [] and listed["deposit_accounts"] == ["U7000001"]

    refusals = [
        ({"address": "1 Main St", "pin": "12a4"}, "invalid_soft_pin", "pin"),
        ({"address": "   ", "pin": SOFT_PIN}, "invalid_input", "address"),
        ({"address": "1 Main St", "pin": SOFT_PIN, "account": "U9"}, "invalid_input", "account"),
        ({"address": "1 Main St", "pin": 2468}, "invalid_request", "pin"),
    ]
    for body, code, field in refusals:
        refused = api.post("/api/v1/replacements", json=body, headers=auth)
        assert refused.status_code == 422, refused.json()
        assert (refused.json()["code"], refused.json()["field"]) == (code, field)
    assert count(services, "replacement_requests") == 0

    drafted = api.post(
        "/api/v1/replacements",
        json={"address": "1 Main St\nSpringfield", "pin": SOFT_PIN},
        headers=auth,
    )
    assert drafted.status_code == 201, drafted.json()
    draft = drafted.json()
    assert draft["state"] == "draft" and draft["kind"] == "dsc_plus"
    assert draft["deposit"] == "20.00" and draft["account"] == "U7000001"
    assert count(services, "account_holds") == 0  # nothing is held before the confirmation
    url = f"/api/v1/replacements/{draft['request_id']}"
    assert api.get(url, headers=auth).json()["address"] == "1 Main St\nSpringfield"
    confirmed = api.post(url + "/confirm", headers=auth)
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["state"] == "requested"
    assert confirmed.json()["estimated_ship_date"] is not None
    assert count(services, "account_holds WHERE state = 'held'") == 1
    twice = api.post(url + "/confirm", headers=auth)
    assert twice.status_code == 409 and twice.json()["code"] == "wrong_state"
    assert count(services, "account_holds") == 1
    second = api.post(
        "/api/v1/replacements", json={"address": "2 Main St", "pin": SOFT_PIN}, headers=auth
    )
    assert second.status_code == 409 and second.json()["code"] == "wrong_state"
    early = api.post(url + "/challenge", headers=auth)
    assert early.status_code == 404  # no device assigned yet

    replacement.assign_device(
        services, LOGISTICS, request_id=draft["request_id"], serial=NEW_SERIAL
    )
    replacement.ship(services, LOGISTICS, request_id=draft["request_id"])
    shipped = api.get("/api/v1/replacements", headers=auth).json()["requests"]
    assert [(r["state"], r["serial"]) for r in shipped] == [("shipped", NEW_SERIAL)]
    assert shipped[0]["activates_at"] is not None

    prompt = api.post(url + "/challenge", headers=auth).json()["prompt"]
    assert prompt["type"] == "challenge"
    wrong = api.post(url + "/activate", json={"response": "00000000"}, headers=auth)
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_answer"
    done = api.post(
        url + "/activate", json={"response": dsc_plus_answer(prompt["challenge"])}, headers=auth
    )
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "activated"
    me = api.get("/api/v1/me", headers=auth).json()
    assert me["tier"] == {"rank": 4, "device_kind": "dsc_plus"}

    # the message centre tells the user (R-OPS-5), read over the API
    messages.deliver_portal(services)
    inbox = api.get("/api/v1/messages", headers=auth).json()
    assert inbox["unread"] >= 1
    assert any(NEW_SERIAL in m["subject"] for m in inbox["messages"])
    read = api.post("/api/v1/messages/read", headers=auth).json()
    assert read["unread"] == 0 and all(m["read_at"] for m in read["messages"])


def test_R_LOST_3_another_users_replacement_request_is_not_found(
    api: TestClient, services: Services
) -> None:
    story = lose_device(services)
    auth = bearer(temporary_session(api, services, story.temporary_code)["token"])
    draft = api.post(
        "/api/v1/replacements", json={"address": "1 Main St", "pin": SOFT_PIN}, headers=auth
    ).json()
    load(services, user("otto", "E-B", "U3000001", dsc("DSC-O")))
    other = bearer(token_of(api, services, "otto"))
    url = f"/api/v1/replacements/{draft['request_id']}"
    for answer in (api.get(url, headers=other), api.post(url + "/confirm", headers=other)):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert api.get(url, headers=auth).json()["state"] == "draft"


def test_R_RETURN_1_and_4_a_device_is_returned_and_a_code_card_shredded_over_the_api(
    api: TestClient, services: Services
) -> None:
    Brokerage().user(
        "rita",
        {"kind": "dsc_plus", "serial": "DP-R", "secret_hex": SEED32.hex(), "pin": "4821"},
        {"kind": "dsc", "serial": "DSC-R", "secret_hex": SEED20.hex()},
        {"kind": "code_card", "serial": "SCC-R", "values": CARD},
    ).load(services)
    auth = bearer(token_of(api, services, "rita"))  # the DSC+, the strongest device
    listed = api.get("/api/v1/returns", headers=auth).json()
    assert sorted(d["serial"] for d in listed["returnable"]) == ["DP-R", "DSC-R", "SCC-R"]
    assert listed["returns"] == []
    assert {a["region"] for a in listed["addresses"]} == {
        "us_canada",
        "europe",
        "asia",
        "australia",
        "japan",
    }
    dsc = next(d for d in listed["returnable"] if d["serial"] == "DSC-R")
    card = next(d for d in listed["returnable"] if d["serial"] == "SCC-R")

    refusals = [
        ({"device_id": dsc["device_id"], "reason": "bored"}, 422, "invalid_input"),
        (
            {"device_id": dsc["device_id"], "reason": "damaged", "region": "mars"},
            422,
            "invalid_input",
        ),
        ({"device_id": "dev_nope", "reason": "damaged"}, 404, "not_found"),
        ({"device_id": dsc["device_id"]}, 422, "invalid_request"),
    ]
    for body, status, code in refusals:
        refused = api.post("/api/v1/returns", json=body, headers=auth)
        assert (refused.status_code, refused.json()["code"]) == (status, code), refused.json()
    assert device_state(services, dsc["device_id"]) == "active"

    started = api.post(
        "/api/v1/returns",
        json={"device_id": dsc["device_id"], "reason": "damaged", "region": "europe"},
        headers=auth,
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["shredded"] is False and body["address"]["region"] == "europe"
    assert device_state(services, dsc["device_id"]) == "return_pending"
    again = api.post(
        "/api/v1/returns", json={"device_id": dsc["device_id"], "reason": "damaged"}, headers=auth
    )
    assert again.status_code == 409 and again.json()["code"] == "wrong_state"

    shredded = api.post(
        "/api/v1/returns", json={"device_id": card["device_id"], "reason": "replaced"}, headers=auth
    ).json()
    assert shredded["shredded"] is True and shredded["address"] is None  # R-RETURN-4
    assert shredded["no_device_left"] is False
    assert device_state(services, card["device_id"]) == "revoked"
    mine = api.get("/api/v1/returns", headers=auth).json()["returns"]
    assert [(r["serial"], r["reason"], r["region"]) for r in mine] == [
        ("DSC-R", "damaged", "europe")
    ]


def test_R_LOGIN_8_a_documents_only_session_lists_and_downloads_documents_over_the_api(
    api: TestClient, services: Services
) -> None:
    Brokerage().user("otto", dsc("DSC-OTTO")).user("rita", dsc("DSC-RITA")).load(services)
    closure.close_account(services, ADMIN, account="U7000001")
    session = api_log_in(api, services, "otto")
    assert session["access_level"] == "documents_only"
    auth = bearer(session["token"])
    listed = api.get("/api/v1/documents", headers=auth)
    assert listed.status_code == 200, listed.json()
    [*documents] = listed.json()["documents"]
    assert documents and all(d["account"] == "U7000001" for d in documents)
    pdf = api.get(documents[0]["href"], headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert api.get("/api/v1/messages", headers=auth).status_code == 200
    missing = api.get("/api/v1/documents/doc_0000", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    # nothing else for a documents_only session (R-LOGIN-8)
    for path in ("/api/v1/settings", "/api/v1/returns", "/api/v1/share-requests"):
        refused = api.get(path, headers=auth)
        assert refused.status_code == 403 and refused.json()["code"] == "access_denied"
    # and another user's document is not found
    other = bearer(token_of(api, services, "rita"))
    assert api.get("/api/v1/documents", headers=other).json() == {"documents": []}
    assert api.get(documents[0]["href"], headers=other).status_code == 404


def test_R_LOGIN_11_every_self_service_call_needs_a_live_session_token_of_the_right_level(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("otto", dsc("DSC-OTTO"), opted_out=True).user("rita", dsc("DSC-R")).load(
        services
    )
    idle = bearer(token_of(api, services, "rita"))
    assert api.get("/api/v1/settings", headers=idle).status_code == 200
    clock.advance(minutes=5, seconds=1)  # rita may withdraw: 5 minutes idle end it
    ended = api.get("/api/v1/settings", headers=idle)
    assert ended.status_code == 401 and ended.json()["code"] == "unauthenticated"
    assert "idle" in ended.json()["message"]
    trading = api_log_in(api, services, "otto", platform="trading")
    assert trading["access_level"] == "trading_password_only"
    otto_trading = bearer(trading["token"])
    paths = api.get("/openapi.json").json()["paths"]
    calls = [
        (method.upper(), path.replace("{", "").replace("}", ""), operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if any(tag.startswith("self-service") for tag in operation["tags"])
    ]
    assert len(calls) >= 20
    for method, path, operation in calls:
        # OpenAPI says so: the bearer scheme, and the 401 and 403 problems
        assert operation["security"] == [{"bearerAuth": []}], path
        assert {"401", "403"} <= set(operation["responses"]), path
        for headers, status, code in (
            ({}, 401, "unauthenticated"),
            ({"Authorization": "Basic b3R0bzp4"}, 401, "unauthenticated"),
            (bearer("slt_forged"), 401, "unauthenticated"),
            (idle, 401, "unauthenticated"),
            (otto_trading, 403, "access_denied"),
        ):
            answer = api.request(method, path, headers=headers, json={})
            assert (answer.status_code, answer.json()["code"]) == (status, code), (method, path)
    for table in ("opt_outs", "share_requests", "replacement_requests", "device_returns"):
        assert count(services, table) == 0, table  # nothing was done
    assert count(services, "key_activations") == 0
