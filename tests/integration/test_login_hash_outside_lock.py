"""Enumeration by timing and by lockout (R-LOGIN-1, R-LOGIN-3; issue 12, finding 3).

The password hash — real or dummy — never runs while the login's transaction holds
SQLite's write lock (a probe around the hasher tries to start a second writer at the
moment each hash begins); a known and an unknown username commit the same transactions;
an unknown username locks after 10 failures and answers 423 like a known one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from sqlalchemy import event

from securelogin.bootstrap import bootstrap
from securelogin.domain.access import Platform
from securelogin.errors import InvalidCredentials, Locked
from securelogin.service.context import Services
from securelogin.service.lifecycle import jobs
from securelogin.service.login import login
from securelogin.service.ports import PasswordHasher
from tests.conftest import make_settings
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock


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
    """The real hasher; records whether the write lock was free when each hash began."""

    inner: PasswordHasher
    path: Path
    free: list[bool] = field(default_factory=list)

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        self.free.append(writer_can_start(self.path))
        return self.inner.verify(stored_hash, password)

    def verify_dummy(self, password: str) -> None:
        self.free.append(writer_can_start(self.path))
        self.inner.verify_dummy(password)


@pytest.fixture
def probed(tmp_path: Path) -> Iterator[tuple[Services, LockProbe]]:
    db = tmp_path / "h.db"
    wired = bootstrap(make_settings(f"sqlite:///{db}"), migrate=True, clock=FakeClock())
    Brokerage().user("alice", KINDS["dsc"].device).load(wired)
    probe = LockProbe(wired.passwords, db)
    yield replace(wired, passwords=probe), probe
    wired.database.close()


def attempt(services: Services, username: str, password: str) -> type[Exception] | None:
    try:
        login.start_login(services, username=username, password=password, platform=Platform.PORTAL)
    except (InvalidCredentials, Locked) as exc:
        return type(exc)
    return None


def test_R_LOGIN_1_the_dummy_hash_of_an_unknown_username_runs_without_the_write_lock(
    probed: tuple[Services, LockProbe],
) -> None:
    services, probe = probed
    assert attempt(services, "nobody", "Wrong-Password-1") is InvalidCredentials
    assert attempt(services, "alice", "Wrong-Password-1") is InvalidCredentials
    assert probe.free == [True, True]


def test_R_LOGIN_3_a_locked_username_hashes_without_the_write_lock_too(
    probed: tuple[Services, LockProbe],
) -> None:
    services, probe = probed
    for _ in range(10):
        assert attempt(services, "alice", "Wrong-Password-1") is InvalidCredentials
    probe.free.clear()
    assert attempt(services, "alice", PASSWORD) is Locked
    assert probe.free == [True]


def test_R_LOGIN_3_an_unknown_username_locks_after_10_failures_and_answers_423_like_a_known_one(
    services: Services, clock: FakeClock
) -> None:
    """SPEC §10.2: "… for unknown usernames exactly as for known ones" (both databases)."""
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    answers: dict[str, list[object]] = {"alice": [], "Ghost.User": []}
    for _ in range(10):
        for name, seen in answers.items():
            seen.append(attempt(services, name, "Wrong-Password-1"))
        clock.advance(minutes=1)
    assert answers == {name: [InvalidCredentials] * 10 for name in answers}
    locks = {}
    for name in answers:
        with pytest.raises(Locked) as locked:
            login.start_login(services, username=name, password=PASSWORD, platform=Platform.PORTAL)
        locks[name] = locked.value.retry_at
    # both until 24 h after their own last failure (one second apart at most here)
    assert abs((locks["alice"] - locks["Ghost.User"]).total_seconds()) < 1
    assert attempt(services, "ghost.user ", "x") is Locked  # counted as typed, normalised
    clock.advance(hours=24, minutes=1)
    assert attempt(services, "Ghost.User", "Wrong-Password-1") is InvalidCredentials
    assert attempt(services, "alice", PASSWORD) is None


def test_R_LOGIN_1_an_unknown_username_costs_the_same_transactions_as_a_known_one(
    services: Services,
) -> None:
    """The same commits in the same order: the failure counted, the hash, the audit."""
    Brokerage().user("alice", KINDS["dsc"].device).load(services)
    commits: dict[str, int] = {}
    for name in ("alice", "nobody-at-all"):
        engine = services.database.engine  # type: ignore[attr-defined]
        counted = [0]

        def count(_conn: object, counted: list[int] = counted) -> None:
            counted[0] += 1

        event.listen(engine, "commit", count)
        try:
            assert attempt(services, name, "Wrong-Password-1") is InvalidCredentials
        finally:
            event.remove(engine, "commit", count)
        commits[name] = counted[0]
    assert commits["alice"] == commits["nobody-at-all"] == 2


def test_R_LOGIN_3_counters_of_unknown_usernames_are_cleaned_after_the_window(
    services: Services, clock: FakeClock
) -> None:
    for name in ("ghost-1", "ghost-2"):
        assert attempt(services, name, "Wrong-Password-1") is InvalidCredentials
    clock.advance(hours=23)
    assert attempt(services, "ghost-2", "Wrong-Password-1") is InvalidCredentials
    assert jobs.clean_name_failures(services) == 0
    clock.advance(hours=1, minutes=1)
    assert jobs.clean_name_failures(services) == 1  # ghost-1; ghost-2 failed 1 h ago
