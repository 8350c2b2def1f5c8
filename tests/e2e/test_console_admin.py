"""The console's admin pages over HTTP (R-OPS-1, R-OPS-6, R-LOGIN-3, R-LOGIN-6) and the
console's own CSRF cookie (a portal tab keeps working after a console login).

A browser without JavaScript is played with the in-process client: forms are read for
their CSRF token and posted like a browser would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.operators import operators
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.integration.test_operators import OP_PASSWORD

PAGE = "/console/operators"


@pytest.fixture
def admin_secret(services: Services) -> str:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    return enrol(services, "ada", Role.ADMIN)


def audit(services: Services) -> list[tuple[str, str, str]]:
    with services.uow() as uow:
        return [(e.event.action, e.event.actor, e.event.subject) for e in uow.audit.chain()]


def secret_of(html: str) -> str:
    found = re.search(r'class="mono totp-secret">([A-Z2-7 ]+)<', html)
    assert found, html
    return found.group(1).replace(" ", "")


def row_state(html: str, username: str) -> str:
    row = re.search(rf'data-username="{username}">(.*?)</tr>', html, re.S)
    assert row, html
    state = re.search(r'operator-state">([^<]+)<', row.group(1))
    assert state
    return state.group(1)


def test_R_OPS_1_an_admin_creates_an_operator_and_sees_the_totp_secret_once_with_a_qr_code(
    api: TestClient, services: Services, admin_secret: str, clock: FakeClock
) -> None:
    console_login(api, services, "ada", admin_secret)
    home = api.get("/console")
    assert f'href="{PAGE}"' in home.text
    page = api.get(PAGE)
    assert page.status_code == 200 and row_state(page.text, "ada") == "Active"
    created = api.post(
        f"{PAGE}/create",
        data={
            "username": "Olga",
            "password": OP_PASSWORD,
            "role": ["helpdesk", "logistics"],
            "csrf_token": csrf_of(page.text),
        },
    )
    assert created.status_code == 200 and "Operator olga created" in created.text
    secret = secret_of(created.text)
    assert f"otpauth://totp/SecureLogin%20Console%3Aolga?secret={secret}" in created.text
    assert "<svg" in created.text and 'class="segno"' in created.text  # the QR code
    assert created.headers["cache-control"] == "no-store"
    listing = api.get(PAGE)
    assert secret not in listing.text  # shown once
    assert row_state(listing.text, "olga") == "Active"
    assert "Helpdesk, Logistics" in listing.text or "Logistics, Helpdesk" in listing.text
    # the new operator logs in with that secret, in another browser
    with TestClient(create_app(services)) as other:
        clock.advance(seconds=30)
        console_login(other, services, "olga", secret)
    assert ("operator.created", "operator:ada", "operator:olga") in audit(services)


def test_bad_operator_values_get_a_message_and_write_nothing(
    api: TestClient, services: Services, admin_secret: str
) -> None:
    console_login(api, services, "ada", admin_secret)
    page = api.get(PAGE)
    token = csrf_of(page.text)
    weak = api.post(
        f"{PAGE}/create",
        data={"username": "olga", "password": "password", "role": "helpdesk", "csrf_token": token},
    )
    assert weak.status_code == 422 and "8 to 64 characters" in messages_of(weak.text)
    no_role = api.post(
        f"{PAGE}/create", data={"username": "olga", "password": OP_PASSWORD, "csrf_token": token}
    )
    assert no_role.status_code == 422 and "at least one role" in messages_of(no_role.text)
    bad_role = api.post(
        f"{PAGE}/create",
        data={"username": "olga", "password": OP_PASSWORD, "role": "janitor", "csrf_token": token},
    )
    assert bad_role.status_code == 422
    taken = api.post(
        f"{PAGE}/create",
        data={"username": "ada", "password": OP_PASSWORD, "role": "admin", "csrf_token": token},
    )
    assert taken.status_code == 409 and "Already done" in messages_of(taken.text)
    unknown = api.post(f"{PAGE}/disable", data={"username": "nobody", "csrf_token": token})
    assert unknown.status_code == 404 and "No operator" in messages_of(unknown.text)
    forged = api.post(
        f"{PAGE}/create",
        data={"username": "eve", "password": OP_PASSWORD, "role": "admin", "csrf_token": "x" * 43},
    )
    assert forged.status_code == 403
    assert [o.username for o in operators.list_operators(services)] == ["ada"]


def test_R_OPS_1_an_admin_disables_an_operator_but_not_themselves(
    api: TestClient, services: Services, admin_secret: str
) -> None:
    enrol(services, "hannah", Role.HELPDESK)
    console_login(api, services, "ada", admin_secret)
    page = api.get(PAGE)
    assert 'action="/console/operators/disable"' in page.text  # for hannah, not for ada
    self_disable = api.post(
        f"{PAGE}/disable", data={"username": "ada", "csrf_token": csrf_of(page.text)}
    )
    assert self_disable.status_code == 409
    assert "cannot disable your own operator" in messages_of(self_disable.text)
    done = api.post(
        f"{PAGE}/disable", data={"username": "hannah", "csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 200 and done.url.path == PAGE
    assert "The operator was disabled" in messages_of(done.text)
    assert row_state(done.text, "hannah") == "Disabled" and row_state(done.text, "ada") == "Active"
    assert ("operator.disabled", "operator:ada", "operator:hannah") in audit(services)


def test_R_LOGIN_6_an_admin_resets_an_operators_totp_and_their_session_ends(
    api: TestClient, services: Services, admin_secret: str, clock: FakeClock
) -> None:
    old = enrol(services, "hannah", Role.HELPDESK)
    with TestClient(create_app(services)) as hannah:
        console_login(hannah, services, "hannah", old)
        console_login(api, services, "ada", admin_secret)
        page = api.get(PAGE)
        reset = api.post(
            f"{PAGE}/reset-totp", data={"username": "hannah", "csrf_token": csrf_of(page.text)}
        )
        assert reset.status_code == 200 and "New authenticator secret for hannah" in reset.text
        new = secret_of(reset.text)
        assert new != old and "<svg" in reset.text
        ended = hannah.get("/console", follow_redirects=False)
        assert ended.status_code == 303 and "/console/login" in ended.headers["location"]
        clock.advance(seconds=30)
        console_login(hannah, services, "hannah", new)
    assert ("operator.totp_reset", "operator:ada", "operator:hannah") in audit(services)


def test_R_LOGIN_3_an_admin_unlocks_an_operator_locked_by_failures(
    api: TestClient, services: Services, admin_secret: str
) -> None:
    enrol(services, "hannah", Role.HELPDESK)
    for _ in range(10):
        with pytest.raises(Exception, match="Invalid username or password"):
            operators.start_console_login(services, username="hannah", password="Wrong-Pass-1")
    console_login(api, services, "ada", admin_secret)
    page = api.get(PAGE)
    assert row_state(page.text, "hannah") == "Locked"
    done = api.post(f"{PAGE}/unlock", data={"username": "hannah", "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "The operator was unlocked." in messages_of(done.text)
    assert row_state(done.text, "hannah") == "Active"
    again = api.post(
        f"{PAGE}/unlock", data={"username": "hannah", "csrf_token": csrf_of(page.text)}
    )
    assert again.status_code == 409
    operators.start_console_login(services, username="hannah", password=OP_PASSWORD)
    assert ("operator.unlocked", "operator:ada", "operator:hannah") in audit(services)


def test_R_OPS_1_the_admin_pages_are_for_admins_only(
    api: TestClient, services: Services, admin_secret: str
) -> None:
    secret = enrol(services, "hannah", Role.HELPDESK, Role.COMPLIANCE, Role.LOGISTICS)
    console_login(api, services, "hannah", secret)
    assert PAGE not in api.get("/console").text
    assert api.get(PAGE).status_code == 403
    home = api.get("/console")
    refused = api.post(
        f"{PAGE}/disable", data={"username": "ada", "csrf_token": csrf_of(home.text)}
    )
    assert refused.status_code == 403
    assert [o.disabled for o in operators.list_operators(services)] == [False, False]


def test_the_admin_pages_speak_chinese(
    api: TestClient, services: Services, admin_secret: str
) -> None:
    console_login(api, services, "ada", admin_secret)
    page = api.get(PAGE, headers={"Accept-Language": "zh-CN"})
    assert "创建操作员" in page.text


# --- the console's own CSRF cookie ---------------------------------------------------


@pytest.fixture
def old_bug(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """``True``: the console login clears the portal's ``sl_csrf`` again, as it did."""
    if request.param:
        from securelogin.entrypoints.console.web import ConsolePages
        from securelogin.entrypoints.portal.site import clear_private_cookie

        original = ConsolePages.start_session

        def clearing(self: ConsolePages, request: Any, token: str) -> Any:
            response = original(self, request, token)
            clear_private_cookie(response, request, "sl_csrf")
            return response

        monkeypatch.setattr(ConsolePages, "start_session", clearing)
    return bool(request.param)


@pytest.mark.parametrize(
    "old_bug",
    [False, pytest.param(True, marks=pytest.mark.xfail(strict=True, reason="bug put back"))],
    indirect=True,
    ids=["fixed", "bug-put-back"],
)
def test_a_console_login_leaves_the_portals_csrf_cookie_alone(
    api: TestClient, services: Services, admin_secret: str, old_bug: bool
) -> None:
    portal = api.get("/")  # a portal tab, opened first
    portal_token = csrf_of(portal.text)
    assert api.cookies.get("sl_csrf") == portal_token
    console_login(api, services, "ada", admin_secret)  # then the console in the same browser
    console_page = api.get(PAGE)
    assert csrf_of(console_page.text) != portal_token  # a token of its own
    assert api.cookies.get("sl_csrf") == portal_token
    # the open portal tab's form still works (no "This form has expired")
    answer = api.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": portal_token}
    )
    assert answer.status_code == 200, answer.text
    assert "expired" not in answer.text.lower()
    assert answer.url.path.startswith("/login/")
    # and the portal's token does not open console forms, nor the console's portal forms
    forged = api.post(
        f"{PAGE}/create",
        data={
            "username": "eve",
            "password": OP_PASSWORD,
            "role": "admin",
            "csrf_token": portal_token,
        },
    )
    assert forged.status_code == 403


def test_the_console_csrf_cookie_is_httponly_strict_and_scoped_to_the_console(
    api: TestClient,
) -> None:
    page = api.get("/console/login")
    cookie = next(
        c for c in page.headers.get_list("set-cookie") if c.startswith("sl_console_csrf=")
    )
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie
    assert not any(c.startswith("sl_csrf=") for c in page.headers.get_list("set-cookie"))
