"""The first hour with the demo (SPEC §8 ``demo``), as a new user meets it: ``make serve``
takes a port and a host, every run says how to reach the operator console and how to run
``securelogin`` from a second terminal, and a rerun lists the devices users hold now."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from securelogin.domain import otp
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards
from securelogin.service.operators import demo, operators
from tests.fakes import FakeClock
from tests.integration.test_operators import seed_of

ROOT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:8000/"


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The demo's words, not a storage engine, are under test."""
    return sqlite_url


def test_SPEC_8_make_serve_takes_port_and_host() -> None:
    make = shutil.which("make")
    assert make, "make is needed for the README's quick start"
    dry = subprocess.run(
        [make, "-n", "-o", "venv", "serve", "PORT=8123", "HOST=0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in dry.splitlines() if "securelogin demo" in x)
    assert "--host 0.0.0.0" in line and "--port 8123" in line
    plain = subprocess.run(
        [make, "-n", "-o", "venv", "serve"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "--port" not in next(x for x in plain.splitlines() if "securelogin demo" in x)


def test_SPEC_8_demo_cards_and_keys_stay_out_of_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/demo-cards/" in ignored and "/demo-keys/" in ignored


def test_SPEC_8_every_demo_run_says_how_to_reach_the_console(
    services: Services, clock: FakeClock
) -> None:
    first = demo.describe(demo.load_demo(services), url=URL)
    assert "/console: desk" in first and "otpauth://totp/" in first
    again = demo.describe(demo.load_demo(services), url=URL)
    assert "/console: desk" in again and "securelogin demo --reset-operator --no-serve" in again
    assert "otpauth://totp/" not in again  # a secret is shown once per enrolment
    reset = demo.load_demo(services, reset_operator=True)
    assert reset.operator_uri and reset.operator_uri in demo.describe(reset, url=URL)
    secret = reset.operator_uri.split("secret=")[1].split("&")[0]
    pending = operators.start_console_login(services, username="desk", password=demo.DEMO_PASSWORD)
    step = otp.totp_counter(clock.now().timestamp(), 30)
    code = otp.hotp(seed_of(secret), step, digits=6)
    assert operators.answer_console_totp(services, pending, code).token


def test_SPEC_8_the_demo_names_the_command_for_a_second_terminal(services: Services) -> None:
    report = demo.load_demo(services)
    text = demo.describe(report, url=URL, command=".venv/bin/securelogin")
    assert "in a second terminal" in text
    assert ".venv/bin/securelogin admin demo-device SERIAL" in text
    assert ".venv/bin/securelogin admin outbox" in text


def test_SPEC_8_a_rerun_lists_the_devices_the_demo_users_hold_now(services: Services) -> None:
    demo.load_demo(services)
    cards.issue_code_card(services, username="frank", actor="ops")
    listed = {u.username: u.devices for u in demo.load_demo(services).users}
    assert sorted(listed["frank"]) == ["code_card", "sms"]
