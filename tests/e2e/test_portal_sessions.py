"""The Client Portal pages behind a session (SPEC §1 "Session", R-LOGIN-8/9/11).

Logging out, idle and ended sessions, and the landing page of each access level: a
``card_only`` or ``documents_only`` session never sees the home page. Every test runs on
SQLite and PostgreSQL through the HTML forms.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.dbutil import execute, url_of
from tests.devices import KINDS, Brokerage
from tests.e2e.portal_forms import (
    ENDED,
    LOGGED_OUT,
    cookies_set,
    csrf_of,
    log_in,
    path_of,
    play,
    submit_answer,
    submit_password,
)
from tests.fakes import FakeClock


@pytest.fixture
def alice(services: Services) -> None:
    Brokerage().user("alice", KINDS["dsc_plus"].device, KINDS["sms"].device).load(services)


def test_logout_ends_the_session(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    home = log_in(api, "dsc_plus", clock, services)
    token = api.cookies["sl_session"]
    out = api.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert path_of(out) == "/?notice=logged_out" and LOGGED_OUT in out.text
    assert "sl_session" not in api.cookies
    assert path_of(api.get("/portal")) == "/"
    api.cookies.set("sl_session", token)
    replayed = api.get("/portal")
    assert path_of(replayed) == "/?notice=session_ended" and ENDED in replayed.text


def test_R_LOGIN_11_an_idle_session_ends_with_a_notice(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    log_in(api, "dsc_plus", clock, services)
    clock.advance(minutes=4)
    assert path_of(api.get("/portal")) == "/portal"
    clock.advance(minutes=6)
    ended = api.get("/portal")
    assert path_of(ended) == "/?notice=session_ended" and ENDED in ended.text


def test_the_login_page_sends_a_logged_in_browser_to_its_own_page(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    log_in(api, "dsc_plus", clock, services)
    assert path_of(api.get("/")) == "/portal"
    assert path_of(api.get("/portal/card-only")) == "/portal"
    documents = api.get("/portal/documents")
    assert path_of(documents) == "/portal/documents" and "Activity statements" in documents.text


def test_pages_behind_a_session_send_strangers_to_the_login_form(api: TestClient) -> None:
    for path in ("/portal", "/portal/card-only", "/portal/documents"):
        assert path_of(api.get(path)) == "/"


def test_R_LOGIN_9_a_temporary_code_after_two_days_lands_on_the_card_page(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("tina", KINDS["temporary_code"].device).load(services)
    clock.advance(days=3)
    page = submit_password(api, "tina")
    assert "Enter your temporary code" in page.text and 'inputmode="text"' in page.text
    landed = submit_answer(api, page, play("temporary_code", page, clock, services))
    assert path_of(landed) == "/portal/card-only"
    assert "Your temporary code period is over" in landed.text
    assert "Online Security Code Card" in landed.text
    assert 'href="/portal/online-card"' in landed.text  # R-LOST-2: the way out of card_only
    assert path_of(api.get("/portal")) == "/portal/card-only"
    assert path_of(api.get("/portal/documents")) == "/portal/card-only"
    assert path_of(api.get("/")) == "/portal/card-only"


def test_R_LOGIN_8_closed_accounts_land_on_the_documents_with_the_password_alone(
    api: TestClient, alice: None, services: Services
) -> None:
    execute(url_of(services), "UPDATE accounts SET status = 'closed'")
    started = submit_password(api, follow_redirects=False)
    assert started.headers["location"] == "/portal/documents"
    session = cookies_set(started)["sl_session"]
    assert "HttpOnly" in session and "SameSite=strict" in session
    landed = api.get("/portal/documents")
    assert "Your accounts are closed" in landed.text
    assert "No documents are available yet" in landed.text
    assert path_of(api.get("/portal")) == "/portal/documents"
    assert path_of(api.get("/portal/card-only")) == "/portal/documents"
