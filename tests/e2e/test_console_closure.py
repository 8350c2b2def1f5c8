"""Account closure in the operator console over HTTP (R-CLOSE-1, R-RETURN-3/4, R-LOGIN-8),
on SQLite and PostgreSQL.

An admin finds the account, reads the preview (users, devices, what happens to each,
deposits taken, sessions ended), types the account number and closes it; the answer is
the closure report.  Refusals change nothing.  A browser without JavaScript is played with
the in-process client.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from securelogin.domain import otp
from securelogin.domain.identity import Right
from securelogin.domain.operators import Role
from securelogin.service.context import Services
from tests.dbutil import execute, scalar, snapshot, url_of
from tests.devices import CARD, SEED20, Brokerage
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.lifecycle_kit import log_in

PAGE = "/console/closure"
ACCOUNT = "U7000001"


def closable(services: Services, clock: FakeClock) -> None:
    """otto (U7000001): a DSC with a deposit on hold, a code card, a platinum card stolen
    before R-RETURN-3 took deposits at the report (its hold still held), one session;
    bea (U7000002) also has a grant on U7000001 and keeps her DSC."""
    Brokerage().user(
        "otto",
        {"kind": "dsc", "serial": "DSC-OTTO", "secret_hex": SEED20.hex()},
        {"kind": "code_card", "serial": "SCC-OTTO", "values": CARD},
        {"kind": "platinum_card", "serial": "PLAT-OTTO", "secret_hex": SEED20.hex()},
    ).user("bea", {"kind": "dsc", "serial": "DSC-BEA", "secret_hex": SEED20.hex()}).load(services)
    url = url_of(services)
    execute(url, "UPDATE devices SET state = 'stolen' WHERE serial = 'PLAT-OTTO'")
    execute(
        url,
        "INSERT INTO account_holds (account_id, amount_cents, reason, device_id, state, "
        "created_at) SELECT 1, 2000, 'device_deposit', id, 'held', created_at FROM devices "
        "WHERE serial IN ('DSC-OTTO', 'PLAT-OTTO')",
    )
    with services.uow() as uow:
        bea = uow.users.by_username("bea")
        assert bea is not None
        uow.users.grant(user_id=bea.id, account_id=1, rights=frozenset({Right.TRADE}))
        uow.commit()
    log_in(services, lambda _p: otp.totp(SEED20, at=clock.now().timestamp()), username="otto")


@pytest.fixture
def admin(api: TestClient, services: Services, clock: FakeClock) -> TestClient:
    closable(services, clock)
    console_login(api, services, "ada", enrol(services, "ada", Role.ADMIN))
    return api


def outcome(html: str, serial: str) -> str:
    row = re.search(rf'data-serial="{serial}">(.*?)</tr>', html, re.S)
    assert row, html
    cell = re.search(r'class="outcome outcome-(\w+)">', row.group(1))
    assert cell
    return cell.group(1)


def summary(html: str, item: str) -> str:
    found = re.search(rf'class="summary-{item}">([^<]*)<', html)
    assert found, html
    return found.group(1)


def test_R_CLOSE_1_an_admin_previews_confirms_and_sees_the_closure_report(
    admin: TestClient, services: Services
) -> None:
    home = admin.get("/console")
    assert f'href="{PAGE}"' in home.text
    preview = admin.get(PAGE, params={"account": "u7000001"})
    assert preview.status_code == 200
    assert "Closing account U7000001" in preview.text
    assert 'data-username="otto"' in preview.text and 'data-username="bea"' in preview.text
    assert outcome(preview.text, "DSC-OTTO") == "return"
    assert outcome(preview.text, "SCC-OTTO") == "shred"
    assert outcome(preview.text, "PLAT-OTTO") == "take_deposit"
    assert outcome(preview.text, "DSC-BEA") == "keep"  # bea has another open account
    assert summary(preview.text, "deposits") == "Deposits taken now: USD 20.00"
    assert summary(preview.text, "sessions") == "Sessions ended: 1"
    assert summary(preview.text, "returns") == "Devices to be returned: DSC-OTTO"
    url = url_of(services)
    assert scalar(url, "SELECT status FROM accounts WHERE number = 'U7000001'") == "open"

    closed = admin.post(
        f"{PAGE}/close",
        data={
            "account": ACCOUNT,
            "confirmation": " u7000001 ",
            "csrf_token": csrf_of(preview.text),
        },
    )

    assert closed.status_code == 200, closed.text
    assert "Account U7000001 closed" in closed.text
    assert summary(closed.text, "returns") == "Devices to be returned: DSC-OTTO"
    assert summary(closed.text, "shredded") == "Code cards shredded: SCC-OTTO"
    assert summary(closed.text, "deposits") == "Deposits taken: USD 20.00"
    assert summary(closed.text, "sessions") == "Sessions ended: 1"
    assert scalar(url, "SELECT status FROM accounts WHERE number = 'U7000001'") == "closed"
    states = dict(
        (serial, scalar(url, "SELECT state FROM devices WHERE serial = :s", s=serial))
        for serial in ("DSC-OTTO", "SCC-OTTO", "PLAT-OTTO", "DSC-BEA")
    )
    assert states == {
        "DSC-OTTO": "return_pending",
        "SCC-OTTO": "revoked",
        "PLAT-OTTO": "stolen",
        "DSC-BEA": "active",
    }
    assert scalar(url, "SELECT count(*) FROM account_holds WHERE state = 'charged'") == 1
    assert scalar(url, "SELECT count(*) FROM account_holds WHERE state = 'held'") == 1
    with services.uow() as uow:
        actions = [(e.event.action, e.event.actor, e.event.subject) for e in uow.audit.chain()]
    assert ("account.closed", "operator:ada", ACCOUNT) in actions

    # a second submit (reload, double click) is refused and changes nothing
    before = snapshot(url)
    again = admin.post(
        f"{PAGE}/close",
        data={"account": ACCOUNT, "confirmation": ACCOUNT, "csrf_token": csrf_of(preview.text)},
    )
    assert again.status_code == 409 and "closed already" in messages_of(again.text)
    assert admin.get(PAGE, params={"account": ACCOUNT}).status_code == 409
    assert snapshot(url) == before


def test_R_CLOSE_1_a_wrong_confirmation_or_an_unknown_account_changes_nothing(
    admin: TestClient, services: Services
) -> None:
    preview = admin.get(PAGE, params={"account": ACCOUNT})
    token = csrf_of(preview.text)
    url = url_of(services)
    before = snapshot(url)
    for typed in ("", "U7000002", "U700000", "yes"):
        wrong = admin.post(
            f"{PAGE}/close", data={"account": ACCOUNT, "confirmation": typed, "csrf_token": token}
        )
        assert wrong.status_code == 422
        assert "does not match" in messages_of(wrong.text)
        assert "Closing account U7000001" in wrong.text  # the preview again
    unknown = admin.get(PAGE, params={"account": "U0000000"})
    assert unknown.status_code == 404 and "No account" in messages_of(unknown.text)
    closing_unknown = admin.post(
        f"{PAGE}/close",
        data={"account": "U0000000", "confirmation": "U0000000", "csrf_token": token},
    )
    assert closing_unknown.status_code == 404
    forged = admin.post(
        f"{PAGE}/close", data={"account": ACCOUNT, "confirmation": ACCOUNT, "csrf_token": "x" * 43}
    )
    assert forged.status_code == 403
    after = snapshot(url)
    assert after == before


def test_R_CLOSE_1_only_admins_close_accounts(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    closable(services, clock)
    console_login(api, services, "hannah", enrol(services, "hannah", Role.HELPDESK))
    assert f'href="{PAGE}"' not in api.get("/console").text
    assert api.get(PAGE, params={"account": ACCOUNT}).status_code == 403
    form = api.get("/console/helpdesk")
    refused = api.post(
        f"{PAGE}/close",
        data={"account": ACCOUNT, "confirmation": ACCOUNT, "csrf_token": csrf_of(form.text)},
    )
    assert refused.status_code == 403
    assert scalar(url_of(services), "SELECT status FROM accounts WHERE id = 1") == "open"


def test_R_CLOSE_1_the_closure_page_speaks_simplified_chinese(admin: TestClient) -> None:
    preview = admin.get(
        PAGE, params={"account": ACCOUNT}, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert preview.status_code == 200
    assert "关闭账户 U7000001" in preview.text and "立即扣取的押金：USD 20.00" in preview.text
    assert "请输入账户号码 U7000001 以确认" in preview.text
