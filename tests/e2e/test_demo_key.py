"""The demo prepares a ready soft mobile key for one user (R-KEY-1, R-KEY-4): right after
``securelogin demo``, ``securelogin key --home demo-keys/frank approve --number NN``
approves frank's login.  And the portal's mobile-key page explains the SMS route and the
``securelogin key`` command, besides the QR code (en/zh, with screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.cli.demo_key import DEMO_APP_PIN, DEMO_KEY_USER, prepare_demo_key
from securelogin.service.context import Services
from securelogin.service.operators import demo
from tests.devices import KINDS, Brokerage
from tests.e2e.browser_support import device_answer, log_in, running, shot
from tests.e2e.cli import run_cli
from tests.e2e.live import serve
from tests.e2e.portal_forms import log_in as portal_log_in
from tests.fakes import FakeClock


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The demo runs on SQLite by default."""
    return sqlite_url


@pytest.fixture
def demo_services(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, demo.load_demo)


def test_R_KEY_4_the_demo_key_approves_a_login_at_once(
    demo_services: Services, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    with serve(create_app(demo_services)) as server:
        home = prepare_demo_key(demo_services, tmp_path / "demo-keys", server=server, fresh=True)
        assert home == tmp_path / "demo-keys" / DEMO_KEY_USER
        login = httpx.post(
            server + "/api/v1/logins",
            json={"username": DEMO_KEY_USER, "password": demo.DEMO_PASSWORD},
        ).json()
        assert login["factor"]["kind"] == "mobile_key", login
        number = str(login["factor"]["prompt"]["number"])
        approved = run_cli(
            "key", "--home", str(home), "approve", "--number", number,
            env=cli_env, stdin=f"{DEMO_APP_PIN}\n", timeout=60,
        )  # fmt: skip
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.startswith(f"approved: login by {DEMO_KEY_USER} from ")
        status = httpx.get(f"{server}/api/v1/logins/{login['login_id']}?wait=10").json()
        assert status["status"] == "authenticated", status
        # a second run of the same demo keeps the key; a fresh demo database replaces it
        vault = (home / "vault.json").read_bytes()
        prepare_demo_key(demo_services, tmp_path / "demo-keys", server=server, fresh=False)
        assert (home / "vault.json").read_bytes() == vault


def test_R_KEY_1_the_mobile_key_page_explains_the_sms_route_and_the_key_command(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    portal_log_in(api, "dsc", clock, services)
    page = api.get("/portal/settings/mobile-key").text
    assert "Or activate with a code by SMS" in page and "6-digit activation code" in page
    assert "securelogin key --home DIR activate --server http://testserver" in page
    assert "--username alice" in page and "securelogin key --home DIR approve --number NN" in page
    api.get("/lang/zh-CN")
    assert "或通过短信验证码激活" in api.get("/portal/settings/mobile-key").text


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, Brokerage().user("alice", KINDS["dsc"].device).load)


@pytest.mark.browser
def test_R_KEY_1_the_mobile_key_page_in_a_browser_en_and_zh(live: Services, browser: Any) -> None:
    with serve(create_app(live)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, server, "alice", device_answer("dsc", live))
        page.goto(server + "/portal/settings/mobile-key")
        page.locator("#mobile-key-cli").wait_for()
        shot(page, "mobile-key-sms-and-command-en")
        page.goto(server + "/lang/zh-CN?next=/portal/settings/mobile-key")
        page.locator("#mobile-key-sms").wait_for()
        shot(page, "mobile-key-sms-and-command-zh")
