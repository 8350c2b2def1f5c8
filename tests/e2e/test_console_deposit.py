"""R-RETURN-3 in the helpdesk console: the page warns that reporting a device lost or
stolen takes its deposit, and the answer says when it did (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.service.context import Services
from tests.dbutil import execute, scalar, url_of
from tests.devices import KINDS, Brokerage
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.e2e.test_console import console_login, enrol


def test_R_RETURN_3_the_helpdesk_reports_a_device_stolen_and_its_deposit_is_taken(
    api: TestClient, services: Services
) -> None:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    url = url_of(services)
    execute(
        url,
        "INSERT INTO account_holds (account_id, amount_cents, reason, device_id, state, "
        "created_at) SELECT 1, 2000, 'device_deposit', id, 'held', created_at FROM devices",
    )
    console_login(api, services, "hannah", enrol(services, "hannah", Role.HELPDESK))
    page = api.get("/console/helpdesk", params={"username": "alice"})
    assert "Reporting a device lost or stolen takes its deposit" in page.text
    device_id = re.search(r'name="device_id" value="([^"]+)"', page.text)
    assert device_id
    token = csrf_of(page.text)
    api.post(
        "/console/helpdesk/verify",
        data={"username": "alice", "method": "callback", "csrf_token": token},
    )
    form = {"username": "alice", "device_id": device_id.group(1), "csrf_token": token}
    marked = api.post("/console/helpdesk/mark", data=form | {"state": "stolen"})
    assert marked.status_code == 200
    assert "Its deposit was taken" in messages_of(marked.text)
    assert scalar(url, "SELECT state FROM account_holds") == "charged"
    assert scalar(url, "SELECT balance_cents FROM accounts") == 10_000_000 - 2000
    twice = api.post("/console/helpdesk/mark", data=form | {"state": "lost"})
    assert twice.status_code == 409
    assert scalar(url, "SELECT count(*) FROM ledger_entries WHERE kind = 'device_deposit'") == 1
    zh = api.get(
        "/console/helpdesk", params={"username": "alice"}, headers={"Accept-Language": "zh-CN"}
    )
    assert "报告设备遗失或被盗会立即扣取其押金" in zh.text
