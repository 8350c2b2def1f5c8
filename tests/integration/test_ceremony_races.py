"""R-LOGIN-3 and R-LOGIN-6 for every second-factor answer, under concurrency on
PostgreSQL (issue 11): threads with their own connections against in-process services.

The evaluations of one user's answers are serialised by a row lock on the user
(``adapters.db.logins.LOCKING``), only wrong answers count, and a right answer accepted
before is answered ``already_used`` without counting.  Each race is also run with its
guard switched off (strict xfail): a race test counts only if it fails without the guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from securelogin.adapters.db import funds as funds_adapter
from securelogin.adapters.db import logins as logins_adapter
from securelogin.adapters.db.logins import SqlDeviceAccess
from securelogin.bootstrap import bootstrap
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.errors import SecureLoginError
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.login import login
from tests.conftest import make_settings
from tests.dbutil import execute, scalar
from tests.devices import PASSWORD, SEED20, TEMP_CODE
from tests.fakes import FakeClock
from tests.withdrawal_kit import load, session_token

pytestmark = pytest.mark.postgres


@pytest.fixture
def brokerage(pg_url: str) -> Iterator[Services]:
    """``racer`` holds a DSC (TOTP); ``saver`` a temporary code (daily limit 50,000)."""
    wired = bootstrap(make_settings(pg_url), migrate=True, clock=FakeClock())
    load(wired, {"racer": ["dsc"], "saver": ["temporary_code"]})
    yield wired
    wired.database.close()


def without(*switches: Callable[[pytest.MonkeyPatch], None]) -> list[object]:
    """Parameters: the guard in place, then each guard switched off (strict xfail)."""
    return [
        pytest.param(None, id="guarded"),
        *(
            pytest.param(s, id=s.__name__, marks=pytest.mark.xfail(strict=True, reason=s.__doc__))
            for s in switches
        ),
    ]


def no_answer_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """the user's answer lock removed"""
    monkeypatch.setattr(logins_adapter, "LOCKING", False)


def no_replay_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """the time-step replay guard removed"""
    monkeypatch.setattr(SqlDeviceAccess, "advance_counter", lambda *a, **k: True)


def no_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """the answer lock and the account lock removed (either one alone serialises one
    user's confirmations of one account)"""
    monkeypatch.setattr(logins_adapter, "LOCKING", False)
    monkeypatch.setattr(funds_adapter, "LOCKING", False)


def logins_of(services: Services, username: str, n: int) -> list[str]:
    def one(_: int) -> str:
        return login.start_login(
            services, username=username, password=PASSWORD, platform=Platform.PORTAL
        ).login_id

    with ThreadPoolExecutor(2) as pool:  # the password hash is the slow part
        return list(pool.map(one, range(n)))


def answer_all(services: Services, answers: list[tuple[str, str]]) -> list[str]:
    """Every (login_id, response) at once; "ok" or the error's code."""

    def one(pair: tuple[str, str]) -> str:
        try:
            login.answer_login(services, *pair)
        except SecureLoginError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(len(answers)) as pool:
        return list(pool.map(one, answers))


def factor_failures(pg_url: str, username: str) -> int:
    value = scalar(pg_url, "SELECT factor_failures FROM users WHERE username = :u", u=username)
    return int(str(value))


@pytest.mark.parametrize("switch", without(no_answer_lock))
def test_R_LOGIN_3_fifty_parallel_wrong_answers_with_five_left_evaluate_exactly_five(
    brokerage: Services,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    switch: Callable[[pytest.MonkeyPatch], None] | None,
) -> None:
    ids = logins_of(brokerage, "racer", 50)
    execute(
        pg_url,
        "UPDATE users SET factor_failures = 5, factor_failed_at = :at WHERE username = 'racer'",
        at=brokerage.clock.now(),
    )
    if switch:
        switch(monkeypatch)
    results = answer_all(brokerage, [(i, "00000000") for i in ids])
    evaluated = scalar(
        pg_url, "SELECT count(*) FROM audit_events WHERE action = 'login.factor_failed'"
    )
    assert evaluated == 5
    assert sorted(results) == ["locked"] * 45 + ["login_failed"] * 5
    assert factor_failures(pg_url, "racer") == 10


@pytest.mark.parametrize("switch", without(no_replay_guard))
def test_R_LOGIN_6_twenty_parallel_copies_of_one_valid_code_give_one_session_and_no_failure(
    brokerage: Services,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    switch: Callable[[pytest.MonkeyPatch], None] | None,
) -> None:
    ids = logins_of(brokerage, "racer", 20)
    if switch:
        switch(monkeypatch)
    code = otp.totp(SEED20, at=brokerage.clock.now().timestamp())
    results = answer_all(brokerage, [(i, code) for i in ids])
    assert results.count("ok") == 1
    assert sorted(r for r in results if r != "ok") == ["already_used"] * 19
    assert scalar(pg_url, "SELECT count(*) FROM sessions") == 1
    assert factor_failures(pg_url, "racer") == 0
    login.start_login(brokerage, username="racer", password=PASSWORD, platform=Platform.PORTAL)


def test_R_LOGIN_6_twenty_parallel_copies_of_one_answer_to_one_login_count_nothing(
    brokerage: Services, pg_url: str
) -> None:
    (only,) = logins_of(brokerage, "racer", 1)
    code = otp.totp(SEED20, at=brokerage.clock.now().timestamp())
    results = answer_all(brokerage, [(only, code)] * 20)
    assert results.count("ok") == 1
    assert set(results) == {"ok", "login_closed"}
    assert factor_failures(pg_url, "racer") == 0


@pytest.mark.parametrize("switch", without(no_locks))
def test_R_LOGIN_3_twenty_four_concurrent_right_confirmations_are_never_locked_out(
    brokerage: Services,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    switch: Callable[[pytest.MonkeyPatch], None] | None,
) -> None:
    """24 withdrawals of 10,000 by one user, every answer right: the daily limit of a
    temporary code (50,000) lets exactly 5 pass, the rest are refused, none locked."""
    session = sessions.authenticate(brokerage, session_token(brokerage, "saver", "temporary_code"))
    started = [
        withdrawals.request_withdrawal(
            brokerage,
            session,
            withdrawals.parse_request(
                account="U8000001", amount="10000.00", destination="Bank", idempotency_key=str(i)
            ),
        ).withdrawal_id
        for i in range(24)
    ]
    if switch:
        switch(monkeypatch)

    def one(withdrawal_id: str) -> str:
        try:
            return withdrawal_confirm.confirm_withdrawal(
                brokerage, session, withdrawal_id, TEMP_CODE
            ).status.value
        except SecureLoginError as exc:
            return exc.code

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(one, started))
    assert sorted(results) == ["accepted"] * 5 + ["refused"] * 19
    assert factor_failures(pg_url, "saver") == 0
