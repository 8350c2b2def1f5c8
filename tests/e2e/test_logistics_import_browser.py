"""The logistics page's seed-file import in a real browser (R-OPS-3).

A logistics operator uploads a password-protected PSKC file through the page's
multipart form: a wrong password stocks nothing and names its code, the right one puts
the devices in stock and the stock table shows them.  Debian's chromium through
Playwright, against uvicorn in a thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securelogin.adapters.pskc import PskcKey
from securelogin.adapters.pskc_writer import write_pskc
from securelogin.domain.operators import Role
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.operators import operators
from tests.e2e.browser_support import console_log_in, running, shot
from tests.e2e.live import serve
from tests.integration.test_operators import OP_PASSWORD

pytestmark = pytest.mark.browser

DSC_PLUS_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
FILE_PASSWORD = "Qx-7741-vault"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path)


def test_R_OPS_3_logistics_uploads_an_encrypted_seed_file_in_the_browser(
    browser: Any, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    secret = operators.create_operator(
        services, username="lara", password=OP_PASSWORD, roles=frozenset({Role.LOGISTICS})
    ).secret_base32
    keys = [
        PskcKey(
            serial=f"DSCP-{n:04}",
            secret=secrets.token_bytes(32),
            algorithm=DSC_PLUS_URI,
            digits=8,
            key_id=f"k{n}",
        )
        for n in (1, 2)
    ]
    seeds = tmp_path / "dsc-plus.pskc"
    seeds.write_bytes(write_pskc(keys, password=FILE_PASSWORD, iterations=1000))
    problems: list[str] = []
    with serve(create_app(services)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        console_log_in(page, server, services, "lara", secret)
        page.get_by_role("link", name="Logistics").first.click()
        stock = page.locator('table.stock-table tr[data-kind="dsc_plus"] [data-count="in_stock"]')
        expect(stock).to_have_text("0")

        page.get_by_label("PSKC seed file").set_input_files(str(seeds))
        page.get_by_label("Device kind").select_option("dsc_plus")
        page.get_by_label("File password").fill("not-the-password")
        page.get_by_role("button", name="Import into stock").click()
        refused = page.locator(".import-refused")
        expect(refused).to_have_attribute("data-code", "invalid_input.password")
        expect(page.locator(".messages")).to_contain_text("Nothing was put in stock.")
        expect(stock).to_have_text("0")

        page.get_by_label("PSKC seed file").set_input_files(str(seeds))
        page.get_by_label("Device kind").select_option("dsc_plus")
        page.get_by_label("File password").fill(FILE_PASSWORD)
        page.get_by_role("button", name="Import into stock").click()
        expect(page.locator(".import-done")).to_have_attribute("data-imported", "2")
        expect(stock).to_have_text("2")
        expect(page.get_by_label("File password")).to_have_value("")  # never echoed back
        shot(page, "console-logistics-imported")
        page.close()
    refused_page = "Failed to load resource: the server responded with a status of 422"
    assert [p for p in problems if not p.startswith(refused_page)] == [], "no CSP violations"
