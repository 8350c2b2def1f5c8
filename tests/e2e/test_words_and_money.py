"""Pages and commands write money one way, ``USD 1,497,500.00``, and speak the reader's
language all the way: Chinese withdrawal words with full-width punctuation, translated
document titles and operator role names (issue 13 item 10)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.operators import Role
from securelogin.entrypoints.web.words import funds
from securelogin.service.context import Services
from securelogin.service.lifecycle import closure
from tests.devices import SEED20, Brokerage
from tests.e2e.portal_forms import log_in, submit_password
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.lifecycle_kit import ADMIN
from tests.withdrawal_kit import ACCOUNT, load


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Words and formats, not storage engines, are under test."""
    return sqlite_url


def test_SPEC_8_the_chinese_withdrawal_words_use_full_width_punctuation() -> None:
    half_width = re.compile(r"[(),:;]")  # ASCII punctuation inside Chinese text
    for key, text in funds.ZH_CN.items():
        plain = re.sub(r"\{[a-z_]+\}|\d[\d.,:]*\d", "", text)  # placeholders and numbers
        assert not half_width.search(plain), (key, text)


def test_SPEC_8_the_withdrawal_page_writes_money_one_way(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    load(services, {"petra": ["dsc"]}, cash="1497500.00")
    log_in(api, "dsc", clock, services, username="petra")
    page = api.get("/portal/withdraw").text
    available = re.search(r'class="mono available">([^<]+)<', page)
    assert available and available.group(1) == "USD 1,497,500.00"
    assert re.search(r'id="daily-limit">USD 1,000,000\.00<', page)  # DSC: tier 3
    assert not re.search(r"USD \d{4,}", page)  # no amount without its thousands commas
    assert ACCOUNT in page


def test_SPEC_8_document_titles_and_operator_roles_are_translated(
    services: Services, api: TestClient
) -> None:
    Brokerage().user(
        "otto", {"kind": "dsc", "serial": "DSC-OTTO", "secret_hex": SEED20.hex()}
    ).load(services)
    closure.close_account(services, ADMIN, account="U7000001")
    api.get("/lang/zh-CN")
    documents = submit_password(api, "otto").text
    assert "活动报表 " in documents and "Activity Statement" not in documents
    api.cookies.clear()
    console_login(api, services, "hannah", enrol(services, "hannah", Role.HELPDESK, Role.ADMIN))
    api.get("/lang/zh-CN")
    home = api.get("/console").text
    assert "您的角色：管理员、客户服务" in home, home
