"""The online security code card and the replacement request in a real browser (Debian's
chromium through Playwright), in Simplified Chinese and English (R-LOST-2, R-LOST-3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.e2e.browser_support import log_in, running, shot
from tests.e2e.live import serve
from tests.lifecycle_kit import SOFT_PIN, USER, lose_device

pytestmark = pytest.mark.browser


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path)


def test_R_LOST_2_and_3_online_card_then_replacement_request_in_a_browser(
    services: Services, browser: Any
) -> None:
    story = lose_device(services)
    with serve(create_app(services)) as server:
        page = browser.new_page()
        log_in(page, server, USER, lambda _prompt: story.temporary_code, landing=None)
        # R-LOST-2: print the online card, answer two of its positions
        page.goto(server + "/lang/zh-CN?next=/portal/online-card")
        assert "在线安全代码卡" in page.content()
        page.locator("#get-card").click()
        page.locator("#online-card").wait_for()
        first, second = (int(x) for x in page.locator(".card-index").all_inner_texts())
        page.locator("#first").fill(page.locator(f'td[data-index="{first}"]').inner_text())
        page.locator("#second").fill(page.locator(f'td[data-index="{second}"]').inner_text())
        shot(page, "lifecycle-online-card-zh")
        page.locator("#activate-card").click()
        page.locator("#card-activated").wait_for()
        assert "在线安全代码卡已激活" in page.content()
        # R-LOST-3: address, soft PIN, deposit account → overview → confirm → ship date
        page.goto(server + "/lang/en?next=/portal/replacement")
        page.locator("#address").fill("1 Harbour Road\nSpringfield")
        page.locator("#pin").fill(SOFT_PIN)
        page.locator("#repl-continue").click()
        page.locator("#repl-submit").wait_for()
        assert "Please check that the information shown is correct" in page.content()
        page.locator("#repl-submit").click()
        page.locator("#ship-date").wait_for()
        assert "Your request was submitted" in page.content()
        shot(page, "lifecycle-replacement-en")
        page.goto(server + "/portal/replacement")
        assert "Requested" in page.content()
