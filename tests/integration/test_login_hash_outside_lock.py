"""R-LOGIN-1 by timing (issue 12, finding 3, the part confined to the password step): the
password hash — real or dummy — never runs while the login's transaction holds SQLite's
write lock, so unknown usernames (and locked ones) do not queue behind each other.

A probe around the hasher tries to start a second writer (``BEGIN IMMEDIATE`` with no
wait) at the moment each hash begins."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from securelogin.bootstrap import bootstrap
from securelogin.domain.access import Platform
from securelogin.errors import InvalidCredentials, Locked
from securelogin.service import login
from securelogin.service.context import Services
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
