"""One contract, run against every device kind of SPEC §2 except the mobile key
(STYLE.md rule 9; a passkey is registered through the service and answered by
tests/webauthn_kit.py): log in, refuse wrong answers, never accept an answer twice, take at
most 3 answers per challenge, expire.  Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from securelogin.domain.access import AccessLevel, Platform
from securelogin.errors import AlreadyUsed, LoginClosed, LoginExpired, LoginFailed
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.devices import KINDS, PASSWORD, Brokerage, KindSetup
from tests.fakes import FakeClock
from tests.webauthn_kit import passkey_holder

KIND_NAMES = sorted([*KINDS, "passkey"])


@pytest.fixture(params=KIND_NAMES)
def kind(request: pytest.FixtureRequest, services: Services) -> KindSetup:
    if request.param == "passkey":
        return passkey_holder(services)
    setup = KINDS[request.param]
    Brokerage().user("holder", setup.device).load(services)
    return setup


def start(services: Services) -> login.LoginStarted:
    return login.start_login(
        services, username="holder", password=PASSWORD, platform=Platform.PORTAL
    )


def prompt_of(started: login.LoginStarted) -> dict[str, Any]:
    assert started.factor is not None
    return started.factor.prompt.as_json()


def test_R_LOGIN_4_the_device_answers_its_own_prompt_and_logs_in(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    started = start(services)
    assert started.status == "challenge" and started.factor is not None
    assert started.factor.kind == kind.kind
    prompt = prompt_of(started)
    assert prompt["type"] == kind.prompt_type
    grant = login.answer_login(
        services, started.login_id, kind.answer(prompt, clock.now(), services)
    )
    assert grant.tier.rank == kind.rank and grant.tier.device_kind == kind.kind
    assert grant.access_level is AccessLevel.FULL
    assert login.login_state(services, started.login_id).status == "authenticated"


def test_R_LOGIN_10_a_wrong_answer_says_only_login_failed_and_the_right_one_still_works(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    started = start(services)
    right = kind.answer(prompt_of(started), clock.now(), services)
    wrong = "ZZZZZZ" if right.isdigit() else "00000000"
    with pytest.raises(LoginFailed) as failed:
        login.answer_login(services, started.login_id, wrong)
    assert failed.value.message == "Login failed"
    login.answer_login(services, started.login_id, right)


def test_R_LOGIN_6_a_challenge_takes_at_most_three_answers(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    started = start(services)
    right = kind.answer(prompt_of(started), clock.now(), services)
    for _ in range(3):
        with pytest.raises(LoginFailed):
            login.answer_login(services, started.login_id, "123")
    with pytest.raises((LoginFailed, LoginClosed)):
        login.answer_login(services, started.login_id, right)


def test_R_LOGIN_6_a_finished_login_accepts_no_further_answer(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    started = start(services)
    right = kind.answer(prompt_of(started), clock.now(), services)
    login.answer_login(services, started.login_id, right)
    with pytest.raises(LoginClosed):
        login.answer_login(services, started.login_id, right)


def test_R_LOGIN_6_an_answer_accepted_once_does_not_open_a_second_login(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    first = start(services)
    right = kind.answer(prompt_of(first), clock.now(), services)
    login.answer_login(services, first.login_id, right)
    second = start(services)
    if kind.kind == "temporary_code":
        # R-TEMP: the temporary code is static and reusable while it is valid
        login.answer_login(services, second.login_id, right)
        return
    # a fresh challenge makes the old answer wrong; a time-based code is already used
    with pytest.raises((LoginFailed, AlreadyUsed)):
        login.answer_login(services, second.login_id, right)


def test_R_LOGIN_5_a_login_expires_after_three_minutes(
    kind: KindSetup, services: Services, clock: FakeClock
) -> None:
    started = start(services)
    right = kind.answer(prompt_of(started), clock.now(), services)
    clock.advance(seconds=181)
    assert login.login_state(services, started.login_id).status == "expired"
    with pytest.raises(LoginExpired):
        login.answer_login(services, started.login_id, right)
