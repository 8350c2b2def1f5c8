"""The operator console over HTTP (SPEC §8): login with TOTP, roles, helpdesk pages.

A browser without JavaScript is played with the in-process client: forms are read for
their CSRF token and posted like a browser would.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.entrypoints.console.web import words_complete
from securelogin.entrypoints.web.words import console as console_words
from securelogin.service.context import Services
from securelogin.service.operators import operators
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.integration.test_operators import OP_PASSWORD, totp_now

CONSOLE = "/console"


def enrol(services: Services, name: str, *roles: Role) -> str:
    return operators.create_operator(
        services, username=name, password=OP_PASSWORD, roles=frozenset(roles)
    ).secret_base32


def console_login(api: TestClient, services: Services, name: str, secret: str) -> None:
    form = api.get("/console/login")
    assert form.status_code == 200
    step = api.post(
        "/console/login",
        data={"username": name, "password": OP_PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert step.status_code == 200 and step.url.path == "/console/login/totp"
    done = api.post(
        "/console/login/totp",
        data={"code": totp_now(services, secret), "csrf_token": csrf_of(step.text)},
    )
    assert done.status_code == 200 and done.url.path == CONSOLE, done.text


@pytest.fixture
def helpdesk_secret(services: Services) -> str:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    return enrol(services, "hannah", Role.HELPDESK)


def test_the_console_words_exist_in_english_and_chinese() -> None:
    assert console_words.EN.keys() == console_words.ZH_CN.keys()
    assert words_complete()


def test_the_console_asks_for_a_login_first(api: TestClient) -> None:
    page = api.get(CONSOLE, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/login"
    assert api.get("/console/helpdesk", follow_redirects=False).status_code == 303


def test_an_operator_logs_in_with_password_and_totp(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    form = api.get("/console/login")
    step = api.post(
        "/console/login",
        data={"username": "hannah", "password": OP_PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = step.headers["set-cookie"]
    assert "sl_console_login=" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower() and "Path=/console/login" in cookie
    totp_page = api.get("/console/login/totp")
    done = api.post(
        "/console/login/totp",
        data={"code": totp_now(services, helpdesk_secret), "csrf_token": csrf_of(totp_page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == CONSOLE
    cookies = done.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("sl_console="))
    assert "HttpOnly" in session and "samesite=strict" in session.lower()
    assert "Path=/console" in session
    home = api.get(CONSOLE)
    assert "Welcome, hannah" in home.text and 'href="/console/helpdesk"' in home.text
    assert home.headers["cache-control"] == "no-store"


def test_R_LOGIN_10_console_failures_read_like_the_portal(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    form = api.get("/console/login")
    wrong = api.post(
        "/console/login",
        data={"username": "nobody", "password": OP_PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert wrong.status_code == 401 and "Invalid username or password" in messages_of(wrong.text)
    step = api.post(
        "/console/login",
        data={"username": "hannah", "password": OP_PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    right = totp_now(services, helpdesk_secret)
    bad = api.post(
        "/console/login/totp",
        data={
            "code": "000000" if right != "000000" else "111111",
            "csrf_token": csrf_of(step.text),
        },
    )
    assert bad.status_code == 401 and "Login failed" in messages_of(bad.text)


def test_console_forms_without_the_csrf_token_are_refused(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    api.get("/console/login")
    refused = api.post("/console/login", data={"username": "hannah", "password": OP_PASSWORD})
    assert refused.status_code == 403
    console_login(api, services, "hannah", helpdesk_secret)
    forged = api.post(
        "/console/helpdesk/verify",
        data={"username": "alice", "method": "callback", "csrf_token": "x" * 43},
    )
    assert forged.status_code == 403
    assert "identity_verified" not in str(audit(services))


def audit(services: Services) -> list[tuple[str, str]]:
    with services.uow() as uow:
        return [(e.event.action, e.event.actor) for e in uow.audit.chain()]


def test_R_OPS_1_other_roles_do_not_see_the_helpdesk(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    secret = enrol(services, "lena", Role.LOGISTICS)
    console_login(api, services, "lena", secret)
    home = api.get(CONSOLE)
    assert "/console/helpdesk" not in home.text
    page = api.get("/console/helpdesk?username=alice")
    assert page.status_code == 403
    assert "Your operator roles do not allow" in page.text


def test_R_LOST_1_the_helpdesk_verifies_then_issues_a_temporary_code_shown_once(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    console_login(api, services, "hannah", helpdesk_secret)
    page = api.get("/console/helpdesk", params={"username": "alice"})
    assert page.status_code == 200 and "User alice" in page.text
    issue = api.post(
        "/console/helpdesk/temporary-code",
        data={"username": "alice", "csrf_token": csrf_of(page.text)},
    )
    assert issue.status_code == 403 and "Verify and record" in messages_of(issue.text)
    verified = api.post(
        "/console/helpdesk/verify",
        data={
            "username": "alice",
            "method": "callback",
            "note": "phone on record",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert verified.status_code == 200
    assert "The identity verification was recorded." in messages_of(verified.text)
    assert "Identity verified" in verified.text
    issued = api.post(
        "/console/helpdesk/temporary-code",
        data={"username": "alice", "csrf_token": csrf_of(verified.text)},
    )
    assert issued.status_code == 200
    found = re.search(r'class="challenge-code mono temporary-code">([A-Z]{12})<', issued.text)
    assert found, issued.text
    code = found.group(1)
    again = api.get("/console/helpdesk", params={"username": "alice"})
    assert code not in again.text  # shown once
    assert "has not logged in with another security device" in again.text
    twice = api.post(
        "/console/helpdesk/temporary-code",
        data={"username": "alice", "csrf_token": csrf_of(again.text)},
    )
    assert twice.status_code == 409
    assert "A second temporary code in a row is not allowed" in messages_of(twice.text)
    # the client logs in to the portal with it
    client = api.post("/api/v1/logins", json={"username": "alice", "password": PASSWORD})
    assert client.status_code == 201
    devices = api.get("/console/helpdesk", params={"username": "alice"})
    assert "Temporary Code" in devices.text
    actions = audit(services)
    assert ("helpdesk.temporary_code_issued", "operator:hannah") in actions


def test_R_LOST_1_the_helpdesk_reports_a_device_lost(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    console_login(api, services, "hannah", helpdesk_secret)
    page = api.get("/console/helpdesk", params={"username": "alice"})
    device_id = re.search(r'name="device_id" value="([^"]+)"', page.text)
    assert device_id
    refused = api.post(
        "/console/helpdesk/mark",
        data={
            "username": "alice",
            "device_id": device_id.group(1),
            "state": "lost",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert refused.status_code == 403
    api.post(
        "/console/helpdesk/verify",
        data={"username": "alice", "method": "id_document", "csrf_token": csrf_of(page.text)},
    )
    marked = api.post(
        "/console/helpdesk/mark",
        data={
            "username": "alice",
            "device_id": device_id.group(1),
            "state": "lost",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert marked.status_code == 200
    assert "The device was reported" in messages_of(marked.text)
    assert 'state-lost">Lost<' in marked.text


def test_unknown_users_and_bad_values_get_a_message_not_a_500(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    console_login(api, services, "hannah", helpdesk_secret)
    page = api.get("/console/helpdesk", params={"username": "nobody"})
    assert page.status_code == 404 and "No user with this username." in messages_of(page.text)
    weird = api.get("/console/helpdesk", params={"username": "x" * 5000})
    assert weird.status_code == 404
    bad = api.post(
        "/console/helpdesk/verify",
        data={"username": "alice", "method": "astrology", "csrf_token": csrf_of(page.text)},
    )
    assert bad.status_code == 422 and "Please check the values" in messages_of(bad.text)


def test_the_console_speaks_chinese(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    page = api.get("/console/login", headers={"Accept-Language": "zh-CN"})
    assert "登录操作员控制台" in page.text and 'lang="zh-CN"' in page.text


def test_logging_out_ends_the_console_session(
    api: TestClient, services: Services, helpdesk_secret: str
) -> None:
    console_login(api, services, "hannah", helpdesk_secret)
    home = api.get(CONSOLE)
    out = api.post("/console/logout", data={"csrf_token": csrf_of(home.text)})
    assert out.url.path == "/console/login"
    assert "You have logged out of the console" in out.text
    assert api.get(CONSOLE, follow_redirects=False).status_code == 303
