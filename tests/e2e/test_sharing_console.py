"""The compliance page of the operator console (R-OPS-2, R-SHARE-4) over HTTP."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.service.context import Services
from securelogin.service.lifecycle import sharing
from tests.dbutil import scalar, url_of
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.integration.sharing_data import (
    PASSWORD,
    answer,
    code_card,
    devices_of,
    dsc_plus,
    load,
    user,
    user_id,
)


def pending(services: Services, clock: FakeClock) -> str:
    load(
        services,
        user("alice", "E-A", "U1000001", dsc_plus("DP-A")),
        user("twin", "E-T", "U2000001", code_card("SCC-T")),
    )
    twin = user_id(services, "twin")
    started = sharing.start_share(
        services, requester_id=twin, owner_username="alice", owner_password=PASSWORD
    )
    sharing.answer_share(
        services,
        requester_id=twin,
        request_id=started.request_id,
        response=answer(services, started.factor, devices_of(services, "alice")[0], clock.now()),
    )
    return started.request_id


def test_R_SHARE_4_compliance_approves_in_the_console_once(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    request_id = pending(services, clock)
    console_login(api, services, "cora", enrol(services, "cora", Role.COMPLIANCE))
    home = api.get("/console")
    assert 'href="/console/compliance"' in home.text
    page = api.get("/console/compliance")
    assert page.status_code == 200 and f'data-request-id="{request_id}"' in page.text
    form = {"csrf_token": csrf_of(page.text), "request_id": request_id}

    no_reason = api.post("/console/compliance/decide", data=form | {"decision": "approve"})
    assert no_reason.status_code == 422
    done = api.post(
        "/console/compliance/decide", data=form | {"decision": "approve", "reason": "same person"}
    )
    assert done.url.path == "/console/compliance" and "Decision recorded" in messages_of(done.text)
    assert request_id not in done.text
    again = api.post(
        "/console/compliance/decide", data=form | {"decision": "reject", "reason": "again"}
    )
    assert again.status_code == 422
    assert "not waiting for a decision" in messages_of(again.text)
    status = scalar(url_of(services), "SELECT status || ':' || decided_by FROM share_requests")
    assert status == "approved:operator:cora"


def test_R_OPS_2_a_helpdesk_operator_cannot_open_the_compliance_page(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    request_id = pending(services, clock)
    console_login(api, services, "hannah", enrol(services, "hannah", Role.HELPDESK))
    assert 'href="/console/compliance"' not in api.get("/console").text
    assert api.get("/console/compliance").status_code == 403
    token = csrf_of(api.get("/console").text)
    posted = api.post(
        "/console/compliance/decide",
        data={"csrf_token": token, "request_id": request_id, "decision": "approve", "reason": "x"},
    )
    assert posted.status_code == 403
    assert scalar(url_of(services), "SELECT status FROM share_requests") == "pending_compliance"
    assert re.search("pending", str(sharing.request_view(services, request_id).status))
