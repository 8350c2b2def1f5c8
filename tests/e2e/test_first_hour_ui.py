"""Small things a new user trips on in the first hour (issue 13 item 11): the temporary-code
home page says when full access ends (R-LOGIN-9), the console does not offer a temporary
code it will refuse (R-LOST-1), the English menu fits one row at 1280 px, and the push
wait's buttons are equally wide and apart, and a DSC user confirming a withdrawal right
after the login is told to wait for the next code.  HTTP first, then one browser run."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS, Brokerage
from tests.e2e.browser_support import device_answer, log_in, running, shot
from tests.e2e.live import serve
from tests.e2e.portal_forms import csrf_of
from tests.e2e.portal_forms import log_in as portal_log_in
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.withdrawal_kit import ACCOUNT, load


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Pages, not storage engines, are under test."""
    return sqlite_url


def test_R_LOGIN_9_the_temporary_code_home_page_says_when_full_access_ends(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    Brokerage().user("ivan", KINDS["temporary_code"].device).load(services)
    home = portal_log_in(api, "temporary_code", clock, services, username="ivan")
    assert home.url.path == "/portal"
    assert "Full access until 2026-11-25 15:00 UTC" in home.text  # issued 2026-11-23 15:00
    api.get("/lang/zh-CN")
    assert "完全访问至 2026-11-25 15:00" in api.get("/portal").text


def test_R_LOGIN_9_other_home_pages_name_no_end(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    assert 'id="full-until"' not in portal_log_in(api, "dsc", clock, services).text


def test_R_LOST_1_the_console_greys_out_a_temporary_code_it_would_refuse(
    services: Services, api: TestClient
) -> None:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    console_login(api, services, "hannah", enrol(services, "hannah", Role.HELPDESK))
    page = api.get("/console/helpdesk", params={"username": "alice"})
    verified = api.post(
        "/console/helpdesk/verify",
        data={"username": "alice", "method": "callback", "csrf_token": csrf_of(page.text)},
    )
    assert 'id="issue-temporary-code">' in verified.text  # allowed: an active button
    api.post(
        "/console/helpdesk/temporary-code",
        data={"username": "alice", "csrf_token": csrf_of(verified.text)},
    )
    again = api.get("/console/helpdesk", params={"username": "alice"}).text
    assert "Not available" in again and 'id="issue-temporary-code" disabled>' in again


def ask_withdrawal(api: TestClient) -> str:
    form = api.get("/portal/withdraw").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key, form
    data = {
        "csrf_token": csrf_of(form),
        "idempotency_key": key.group(1),
        "account": ACCOUNT,
        "amount": "125.00",
        "destination": "Chase ****1234",
    }
    return str(api.post("/portal/withdraw", data=data).text)


def test_R_WD_4_a_dsc_user_confirming_a_withdrawal_is_told_to_wait_for_the_next_code(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    load(services, {"petra": ["dsc"], "cara": ["dsc_plus"]})
    portal_log_in(api, "dsc", clock, services, username="petra")
    confirm = ask_withdrawal(api)
    assert 'id="next-code-hint"' in confirm and "wait for the next one" in confirm
    api.cookies.clear()
    portal_log_in(api, "dsc_plus", clock, services, username="cara")
    assert 'id="next-code-hint"' not in ask_withdrawal(api)  # a challenge is fresh each time


PUSH_WAIT = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{server}/static/portal.css"></head><body>
<main class="bar"><div class="layout layout-single"><section class="card verify verify-push">
<p><a class="button" id="push-check" href="#">I approved it on my phone</a></p>
<form class="fallback-form"><button class="button button-secondary" id="push-fallback"
 type="submit">Use a challenge code instead</button></form>
<form class="resend-form"><button class="button button-secondary" id="push-resend"
 type="submit">Send again</button></form></section></div></main></body></html>"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, Brokerage().user("ivan", KINDS["temporary_code"].device).load)


@pytest.mark.browser
def test_the_menu_fits_one_row_and_push_buttons_line_up_in_a_browser(
    live: Services, browser: Any
) -> None:
    with serve(create_app(live)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        log_in(page, server, "ivan", device_answer("temporary_code", live))
        tops = page.eval_on_selector_all(
            ".account-nav li", "items => items.map(i => i.getBoundingClientRect().top)"
        )
        assert len(tops) >= 7 and len(set(tops)) == 1, tops  # the English menu: one row
        page.locator("#full-until").wait_for()
        shot(page, "home-temporary-code-en")
        page.goto(server + "/lang/zh-CN?next=/portal")
        page.locator("#full-until").wait_for()
        shot(page, "home-temporary-code-zh")
        page.set_content(PUSH_WAIT.format(server=server))
        boxes = [
            page.locator(f"#{name}").bounding_box()
            for name in ("push-check", "push-fallback", "push-resend")
        ]
        assert len({round(b["width"]) for b in boxes}) == 1, boxes
        for upper, lower in itertools.pairwise(boxes):
            assert lower["y"] - (upper["y"] + upper["height"]) >= 8, boxes  # they do not touch
