"""The portal login in a real browser: Debian's chromium through Playwright (SPEC §8).

A uvicorn server in a thread serves the real app on a SQLite database with the real
clock; the test imports one user per device kind (tests.devices), reads each prompt from
the page, plays the device, types the answer and submits, like a person with the device
in hand. Screenshots of every second-factor page and of the pages behind a session land
in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.web import i18n
from securelogin.service.context import Services
from tests.dbutil import execute, url_of
from tests.devices import KINDS, Brokerage
from tests.e2e.browser_support import (
    enter_password,
    open_page,
    read_prompt,
    shot,
    type_answer,
    wire,
)
from tests.e2e.live import serve
from tests.fakes import FakeClock

pytestmark = pytest.mark.browser

#: the answer box of each prompt type, by its label
ANSWER_LABEL = {"challenge": "Response", "sms": "Code", "code": "Code"}


def username_of(kind: str) -> str:
    return f"u-{kind}"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The real clock: TOTP answers are computed at ``datetime.now(UTC)``."""
    wired = wire(tmp_path)
    brokerage = Brokerage()
    for kind, setup in sorted(KINDS.items()):
        brokerage.user(username_of(kind), setup.device, phone=None)
    brokerage.user("picker", KINDS["dsc_plus"].device | {"serial": "T-DSCP-2"}, KINDS["sms"].device)
    brokerage.user("closed", KINDS["dsc"].device | {"serial": "T-DSC-9"}, phone=None)
    brokerage.load(wired)
    closed = f"U{7000000 + len(brokerage.users)}"  # Brokerage numbers accounts in order
    execute(url_of(wired), "UPDATE accounts SET status = 'closed' WHERE number = :n", n=closed)
    yield wired
    wired.database.close()


@pytest.fixture
def server(services: Services) -> Iterator[str]:
    with serve(create_app(services)) as url:
        yield url


def test_every_device_kind_logs_in_in_the_browser(
    browser: Any, server: str, services: Services
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = open_page(browser, "en-US", problems)
    for kind in sorted(KINDS):
        username = username_of(kind)
        enter_password(page, server, username, ("Username", "Password", "Log In"))
        expect(page).to_have_url(server + "/login/verify")
        expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
        prompt = read_prompt(page)
        assert prompt["type"] == KINDS[kind].prompt_type, kind
        shot(page, f"login-{kind}-{prompt['type']}")
        answer = KINDS[kind].answer(prompt, datetime.now(UTC), services)
        label = "Temporary code" if kind == "temporary_code" else ANSWER_LABEL.get(prompt["type"])
        type_answer(page, prompt, answer, label)
        page.get_by_role("button", name="OK").click()

        expect(page).to_have_url(server + "/portal")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {username}")
        expect(page.locator(".tier-rank")).to_have_text(f"Tier {KINDS[kind].rank}")
        expect(page.locator(".devices-table tbody th")).to_have_text([i18n.EN[f"kind.{kind}"]])
        if kind == "dsc_plus":
            shot(page, "portal-home")
        page.get_by_role("button", name="Log Out").click()
        expect(page.get_by_role("alert")).to_contain_text("You have logged out")
    assert problems == [], "no console errors (e.g. CSP violations)"


def test_the_device_picker_wrong_code_and_home_in_chinese(
    browser: Any, server: str, services: Services
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = open_page(browser, "zh-CN", problems)
    enter_password(page, server, "picker", ("用户名", "密码", "登录"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("双因素验证")
    expect(page.get_by_text("挑战码", exact=True)).to_be_visible()

    page.get_by_label("响应字符串").fill("00000000")
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_role("alert")).to_contain_text("登录失败")
    shot(page, "login-zh-CN-dsc_plus-failed")

    page.locator("summary", has_text="使用其他安全设备").click()
    page.get_by_label("手机短信").check()
    shot(page, "login-zh-CN-device-picker")
    page.get_by_role("button", name="使用此设备").click()
    expect(page.locator("section.verify")).to_have_attribute("data-prompt-type", "sms")
    expect(page.get_by_text("验证码已发送至 +1•••••••89")).to_be_visible()
    shot(page, "login-zh-CN-sms")
    code = KINDS["sms"].answer({"type": "sms"}, datetime.now(UTC), services)
    page.get_by_label("验证码", exact=True).fill(code)
    page.get_by_role("button", name="确定").click()

    expect(page).to_have_url(server + "/portal")
    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎，picker")
    expect(page.locator(".tier-kind")).to_have_text("手机短信")
    shot(page, "portal-home-zh-CN")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "portal-home-zh-CN-mobile")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("alert")).to_contain_text("您已退出登录")
    assert problems == []


def test_closed_accounts_land_on_the_documents_page(
    browser: Any, server: str, services: Services
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = open_page(browser, "en-US", problems)
    enter_password(page, server, "closed", ("Username", "Password", "Log In"))
    expect(page).to_have_url(server + "/portal/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity statements and tax forms")
    expect(page.get_by_text("Your accounts are closed")).to_be_visible()
    shot(page, "portal-documents")
    assert problems == []


def test_a_late_temporary_code_lands_on_the_card_page(browser: Any, tmp_path: Path) -> None:
    """R-LOGIN-9 needs days to pass: this one server runs on a clock the test moves."""
    from playwright.sync_api import expect

    clock = FakeClock()
    services = wire(tmp_path, clock)
    Brokerage().user("tina", KINDS["temporary_code"].device).load(services)
    clock.advance(days=3)
    problems: list[str] = []
    with serve(create_app(services)) as url:
        page = open_page(browser, "en-US", problems)
        enter_password(page, url, "tina", ("Username", "Password", "Log In"))
        expect(page.get_by_text("Enter your temporary code")).to_be_visible()
        page.get_by_label("Temporary code", exact=True).fill("qwertyuiopas")
        page.get_by_role("button", name="OK").click()
        expect(page).to_have_url(url + "/portal/card-only")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your temporary code period is over"
        )
        shot(page, "portal-card-only")
        page.goto(url + "/lang/zh-CN?next=/portal/card-only")
        expect(page.get_by_role("heading", level=1)).to_have_text("您的临时码使用期已结束")
        shot(page, "portal-card-only-zh-CN")
    services.database.close()
    assert problems == []
