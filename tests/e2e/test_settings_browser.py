"""Security settings in a real browser (Debian's chromium through Playwright): opting out
with the signed waiver confirmed by the user's device (R-OPT-2), and sharing a device
(R-SHARE-1, R-SHARE-5).
Screenshots land in ``test-artifacts/screenshots/settings-*.png``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD
from tests.e2e.browser_support import (
    enter_password,
    open_page,
    read_prompt,
    shot,
    type_answer,
    wire,
)
from tests.e2e.live import serve
from tests.integration.sharing_data import code_card, dsc_plus, load, user

pytestmark = pytest.mark.browser
LOGIN = ("Username", "Password", "Log In")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    services = wire(tmp_path)
    load(
        services,
        user("alice", "E-A", "U1000001", code_card("SCC-A")),
        user("alice2", "E-A", "U1000002", code_card("SCC-B")),
        user("owner", "E-T", "U2000001", dsc_plus("DP-O")),
    )
    try:
        with serve(create_app(services)) as url:
            yield url, services
    finally:
        services.database.close()


def log_in_with_card(page: Any, server: str, services: Services, username: str) -> None:
    from playwright.sync_api import expect

    enter_password(page, server, username, LOGIN)
    prompt = read_prompt(page)
    type_answer(page, prompt, KINDS["code_card"].answer(prompt, datetime.now(UTC), services), None)
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(server + "/portal")


def test_R_OPT_2_opting_out_in_the_browser(browser: Any, live: tuple[str, Services]) -> None:
    from playwright.sync_api import expect

    server, services = live
    problems: list[str] = []
    page = open_page(browser, "en-US", problems)
    log_in_with_card(page, server, services, "alice")
    page.get_by_role("link", name="Security settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security settings")
    shot(page, "settings-overview")
    page.get_by_role("link", name="Opt out of the Secure Login System").click()
    expect(page.locator("#waiver")).to_contain_text("Pink Sheet and OTCBB")
    page.get_by_label("I have read the agreement above").check()
    shot(page, "settings-opt-out-waiver")
    page.get_by_role("button", name="Sign and opt out").click()
    # R-OPT-2 through the ceremony: the user's device confirms the signed waiver
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the opt-out")
    prompt = read_prompt(page)
    type_answer(page, prompt, KINDS["code_card"].answer(prompt, datetime.now(UTC), services), None)
    shot(page, "settings-opt-out-confirm")
    page.get_by_role("button", name="Sign and opt out").click()
    expect(page).to_have_url(server + "/portal/settings?done=opted_out")
    expect(page.get_by_role("alert")).to_contain_text("Your signed agreement has been stored")
    expect(page.get_by_text("I already have access to a Secure Login Device")).to_be_visible()
    shot(page, "settings-opted-out")
    assert scalar(url_of(services), "SELECT count(*) FROM opt_outs") == 1
    assert problems == []


def test_R_SHARE_1_sharing_a_device_in_the_browser_with_compliance_pending(
    browser: Any, live: tuple[str, Services]
) -> None:
    from playwright.sync_api import expect

    server, services = live
    problems: list[str] = []
    page = open_page(browser, "zh-CN", problems)
    enter_password(page, server, "alice2", ("用户名", "密码", "登录"))
    prompt = read_prompt(page)
    answer = KINDS["code_card"].answer(prompt, datetime.now(UTC), services).split()
    page.locator("#response").fill(answer[0])
    page.locator("#response_2").fill(answer[1])
    page.get_by_role("button", name="确定").click()
    page.goto(server + "/portal/settings/share")
    expect(page.get_by_role("heading", level=1)).to_have_text("共享安全设备")
    page.get_by_label("设备所有人的用户名").fill("owner")
    page.get_by_label("设备所有人的密码").fill(PASSWORD)
    page.get_by_role("button", name="继续").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("使用所有人的设备确认")
    challenge = read_prompt(page)
    assert challenge["type"] == "challenge"
    shot(page, "settings-share-challenge-zh-CN")
    page.locator("#response").fill(KINDS["dsc_plus"].answer(challenge, datetime.now(UTC), services))
    page.get_by_role("button", name="确定").click()
    expect(page).to_have_url(server + "/portal/settings?done=share_pending")
    expect(page.get_by_role("alert")).to_contain_text("合规部门")
    expect(page.locator(".share-status")).to_have_text(["待处理（合规部门）"])
    shot(page, "settings-share-pending-zh-CN")
    assert problems == []
