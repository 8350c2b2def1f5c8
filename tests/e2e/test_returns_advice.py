"""Returning a code card (R-RETURN-4): the portal advises the mobile key instead, and a user
whose only device it was is told, then and at the next login, how to get one (a temporary
code from Client Services, the mobile key).  HTTP in both languages, then one browser run
with screenshots in English and Simplified Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.browser_support import log_in as browser_log_in
from tests.e2e.browser_support import running, shot
from tests.e2e.live import serve
from tests.e2e.portal_forms import FAILED, csrf_of, log_in, messages_of, submit_password
from tests.fakes import FakeClock

ADVICE_EN = "Activate the Mobile Key on your phone instead"
ADVICE_ZH = "请改为在手机上激活移动验证程序"
NO_DEVICE_EN = "You have no other security device now"
LOGIN_HINT_EN = "Call Client Services for a temporary code"
LOGIN_HINT_ZH = "请致电客户服务获取临时码"


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Portal words and one state change: one storage engine is enough."""
    return sqlite_url


def card_holder(services: Services) -> None:
    Brokerage().user("alice", KINDS["code_card"].device).user(
        "bob", KINDS["code_card"].device | {"serial": "T-SCC-2"}, KINDS["dsc"].device
    ).load(services)


def return_card(api: TestClient) -> httpx.Response:
    page = api.get("/portal/returns")
    device_id = page.text.split('<option value="', 1)[1].split('"', 1)[0]
    form = {
        "device_id": device_id,
        "reason": "replaced",
        "region": "us_canada",
        "csrf_token": csrf_of(page.text),
    }
    answer: httpx.Response = api.post("/portal/returns", data=form)
    return answer


def test_R_RETURN_4_the_returns_page_advises_the_mobile_key_instead_of_a_code_card(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    card_holder(services)
    assert log_in(api, "code_card", clock, services).status_code == 200
    assert ADVICE_EN in api.get("/portal/returns").text
    api.get("/lang/zh-CN")
    page = api.get("/portal/returns")
    assert ADVICE_ZH in page.text and 'href="/portal/settings/mobile-key"' in page.text


def test_R_RETURN_4_a_user_whose_only_device_was_the_card_is_told_how_to_get_one(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    card_holder(services)
    log_in(api, "code_card", clock, services)
    shredded = return_card(api)
    assert "It has been deactivated" in shredded.text and NO_DEVICE_EN in shredded.text
    api.post("/logout", data={"csrf_token": csrf_of(api.get("/portal").text)})
    again = messages_of(submit_password(api).text)
    assert FAILED in again and LOGIN_HINT_EN in again
    api.get("/lang/zh-CN")
    assert LOGIN_HINT_ZH in messages_of(submit_password(api).text)
    # SPEC §10: the API's answer is the contract's login_failed, nothing more
    refused = api.post("/api/v1/logins", json={"username": "alice", "password": PASSWORD})
    assert (refused.status_code, refused.json()["code"]) == (401, "login_failed")


def test_R_RETURN_4_a_user_with_another_device_gets_no_warning(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    card_holder(services)
    log_in(api, "dsc", clock, services, username="bob")
    shredded = return_card(api)
    assert "It has been deactivated" in shredded.text and NO_DEVICE_EN not in shredded.text


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, card_holder)


@pytest.mark.browser
def test_R_RETURN_4_returning_the_last_card_in_a_browser_en_and_zh(
    live: Services, browser: Any
) -> None:
    card = KINDS["code_card"]
    with serve(create_app(live)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_log_in(page, server, "alice", lambda p: card.answer(p, datetime.now(UTC), live))
        page.goto(server + "/lang/zh-CN?next=/portal/returns")
        page.locator("#return-mobile-key").wait_for()
        shot(page, "returns-mobile-key-advice-zh")
        page.goto(server + "/lang/en?next=/portal/returns")
        page.locator("#return-submit").click()
        page.locator("#return-no-device").wait_for()
        shot(page, "returns-card-shredded-no-device-en")
        page.context.clear_cookies()
        page.goto(server + "/lang/zh-CN?next=/")
        page.locator("#username").fill("alice")
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.get_by_text(LOGIN_HINT_ZH, exact=False).wait_for()
        shot(page, "login-no-device-hint-zh")
