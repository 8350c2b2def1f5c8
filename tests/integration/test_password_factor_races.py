"""The password as a second factor (R-WD-4) under R-LOGIN-3: its Argon2id hash never
runs while the user's answer lock is held, and parallel wrong passwords count exactly
up to the allowance while right ones are never locked out by answers in flight.

The races run on PostgreSQL with threads and their own connections; each is also run
with the answer lock switched off (strict xfail): it counts only if it then fails."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from securelogin.adapters.db import logins as logins_adapter
from securelogin.bootstrap import bootstrap
from securelogin.domain.access import Platform
from securelogin.errors import SecureLoginError
from securelogin.service import sessions
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.ceremony.password import PasswordFactor
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.login import login
from securelogin.service.ports import PasswordHasher
from securelogin.service.sessions import CurrentSession
from tests.conftest import make_settings
from tests.dbutil import execute, scalar
from tests.devices import PASSWORD
from tests.fakes import FakeClock
from tests.withdrawal_kit import load

WRONG = "Wrong-Horse-9"


def writer_can_start(path: Path) -> bool:
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # "database is locked"
        return False
    finally:
        conn.close()


@dataclass
class LockProbe:
    """The real hasher; records whether SQLite's write lock — which the answer lock
    takes there (``BEGIN IMMEDIATE``) — was free when each check began."""

    inner: PasswordHasher
    path: Path
    free: list[bool] = field(default_factory=list)

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        self.free.append(writer_can_start(self.path))
        return self.inner.verify(stored_hash, password)

    def verify_dummy(self, password: str) -> None:
        self.inner.verify_dummy(password)


@dataclass
class Together:
    """The real hasher, but every check waits for the others before it answers: the
    second turns of all answers then run at once (what a race needs to show)."""

    inner: PasswordHasher
    barrier: threading.Barrier

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        right = self.inner.verify(stored_hash, password)
        self.barrier.wait()
        return right

    def verify_dummy(self, password: str) -> None:
        self.inner.verify_dummy(password)


def together(services: Services, n: int) -> Services:
    hasher = Together(services.passwords, threading.Barrier(n, timeout=60))
    return replace(services, without_device={Purpose.WITHDRAWAL: PasswordFactor(passwords=hasher)})


def start(services: Services, session: CurrentSession, key: str, amount: str = "10.00") -> str:
    request = withdrawals.parse_request(
        account="U8000001", amount=amount, destination="Bank", idempotency_key=key
    )
    return withdrawals.request_withdrawal(services, session, request).withdrawal_id


def password_session(services: Services, username: str) -> CurrentSession:
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.session is not None
    return sessions.authenticate(services, started.session.token)


def test_R_LOGIN_3_the_password_of_a_withdrawal_is_hashed_with_no_lock_held(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    wired = bootstrap(make_settings(f"sqlite:///{db}"), migrate=True, clock=FakeClock())
    try:
        load(wired, {"olga": []}, opted_out=frozenset({"olga"}))
        session = password_session(wired, "olga")
        probe = LockProbe(wired.passwords, db)
        probed = replace(
            wired,
            passwords=probe,
            without_device={Purpose.WITHDRAWAL: PasswordFactor(passwords=probe)},
        )
        wrong = start(probed, session, "a")
        with pytest.raises(SecureLoginError):
            withdrawal_confirm.confirm_withdrawal(probed, session, wrong, WRONG)
        right = withdrawal_confirm.confirm_withdrawal(
            probed, session, start(probed, session, "b"), PASSWORD
        )
        assert right.status.value == "accepted"
        assert probe.free == [True, True]
        # the probe does see a held lock: it is not a check that cannot fail
        with wired.uow() as uow:
            uow.failures.lock(session.user_id)
            assert writer_can_start(db) is False
    finally:
        wired.database.close()


@pytest.fixture
def tier0(pg_url: str) -> Iterator[Services]:
    """``olga`` opted out and holds no device: she confirms with the password."""
    wired = bootstrap(make_settings(pg_url), migrate=True, clock=FakeClock())
    load(wired, {"olga": []}, opted_out=frozenset({"olga"}))
    yield wired
    wired.database.close()


def no_answer_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """the user's answer lock removed"""
    monkeypatch.setattr(logins_adapter, "LOCKING", False)


def confirm_all(
    services: Services, session: CurrentSession, answers: list[tuple[str, str]]
) -> list[str]:
    def one(pair: tuple[str, str]) -> str:
        try:
            return withdrawal_confirm.confirm_withdrawal(services, session, *pair).status.value
        except SecureLoginError as exc:
            return exc.code

    with ThreadPoolExecutor(len(answers)) as pool:
        return list(pool.map(one, answers))


@pytest.mark.postgres
@pytest.mark.parametrize(
    "switch",
    [
        pytest.param(None, id="guarded"),
        pytest.param(
            no_answer_lock,
            id="no_answer_lock",
            marks=pytest.mark.xfail(strict=True, reason="the answer lock removed"),
        ),
    ],
)
def test_R_LOGIN_3_twelve_parallel_wrong_passwords_with_five_left_evaluate_exactly_five(
    tier0: Services,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    switch: Callable[[pytest.MonkeyPatch], None] | None,
) -> None:
    session = password_session(tier0, "olga")
    ids = [start(tier0, session, f"k{i}") for i in range(12)]
    execute(
        pg_url,
        "UPDATE users SET factor_failures = 5, factor_failed_at = :at WHERE username = 'olga'",
        at=tier0.clock.now(),
    )
    if switch:
        switch(monkeypatch)
    results = confirm_all(together(tier0, 12), session, [(i, WRONG) for i in ids])
    evaluated = scalar(
        pg_url,
        "SELECT count(*) FROM audit_events WHERE action = 'withdrawal.confirmation_failed'",
    )
    assert evaluated == 5
    assert sorted(results) == ["confirmation_failed"] * 5 + ["locked"] * 7
    assert scalar(pg_url, "SELECT factor_failures FROM users WHERE username = 'olga'") == 10


@pytest.mark.postgres
def test_R_LOGIN_3_right_passwords_in_flight_are_never_locked_out(
    tier0: Services, pg_url: str
) -> None:
    """Nine failures on the counter, six right passwords at once: all six accepted, no
    lock-out (a failure reserved before the hash would lock five of them)."""
    session = password_session(tier0, "olga")
    ids = [start(tier0, session, f"k{i}") for i in range(6)]
    execute(
        pg_url,
        "UPDATE users SET factor_failures = 9, factor_failed_at = :at WHERE username = 'olga'",
        at=tier0.clock.now(),
    )
    results = confirm_all(together(tier0, 6), session, [(i, PASSWORD) for i in ids])
    assert results == ["accepted"] * 6
    assert scalar(pg_url, "SELECT factor_failures FROM users WHERE username = 'olga'") == 0
