"""Shared fixtures: databases (a migrated SQLite file and a migrated PostgreSQL database
per test, both from a template: tests/databases.py), settings with an explicit master
key, and the wired services.

PostgreSQL comes from ``SECURELOGIN_TEST_POSTGRES_URL`` (SPEC §10.1), which the README's
test command sets; without it the PostgreSQL tests fail rather than skip, so that CI can
never pass without having run them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from securelogin.adapters.security.passwords import Argon2Passwords
from securelogin.adapters.security.secretbox import AesGcmSecretBox
from securelogin.bootstrap import bootstrap, load_settings, master_keys, wire
from securelogin.config import Settings
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.databases import PostgresPool, migrated_sqlite
from tests.fake_uow import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes import FakeClock

REPO = Path(__file__).resolve().parents[1]
MASTER_KEY = base64.b64encode(b"\x07" * 32).decode()


UNIT_TESTS = Path(__file__).with_name("unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/unit is marked ``unit`` (``make test-fast`` selects it)."""
    for item in items:
        if UNIT_TESTS in item.path.parents:
            item.add_marker(pytest.mark.unit)


def postgres_admin_url() -> str:
    url = os.environ.get("SECURELOGIN_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("SECURELOGIN_TEST_POSTGRES_URL is not set: run the tests with `make test`")
    return url


@pytest.fixture(scope="session")
def pg_pool() -> Iterator[PostgresPool]:
    """This test process's migrated PostgreSQL databases (tests/databases.py)."""
    pool = PostgresPool(postgres_admin_url())
    yield pool
    pool.close()


@pytest.fixture
def pg_url(pg_pool: PostgresPool) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, as a fresh `alembic upgrade head`
    leaves it (copied from the template, or reset after an earlier test)."""
    name = pg_pool.acquire()
    try:
        yield pg_pool.url(name)
    finally:
        pg_pool.release(name)


@pytest.fixture
def pg_empty_url(pg_pool: PostgresPool) -> Iterator[str]:
    """A new PostgreSQL database without any table (for tests of the migrations)."""
    name = pg_pool.empty()
    try:
        yield pg_pool.url(name)
    finally:
        pg_pool.drop(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own (a copy of the process's template)."""
    return migrated_sqlite(tmp_path / "securelogin.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL, each on a migrated database."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


_ARGON2_HASHES: dict[tuple[object, str], str] = {}
_ARGON2_CHECKS: dict[tuple[str, str], bool] = {}


@pytest.fixture(autouse=True)
def argon2_once_per_password(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real Argon2id at the production parameters, but each distinct hash and check once
    per test process: the test brokerages give their users the same few passwords, and
    ≈ 2,600 hashes and checks of 20 ms each were a tenth of the suite's CPU
    (docs/development.md, "Measured").  A check is a pure function of the stored hash and
    the password, so its remembered answer is the one Argon2id gives; a remembered hash
    is a real hash of that password with those parameters, whose salt other users of the
    same password share within the process.  ``@pytest.mark.fresh_argon2`` turns this off
    for a test that needs every hash computed (new salts, timing)."""
    if request.node.get_closest_marker("fresh_argon2"):
        return
    real_hash, real_verify = Argon2Passwords.hash, Argon2Passwords.verify

    def hash_once(self: Argon2Passwords, password: str) -> str:
        key = (self.parameters, password)
        if key not in _ARGON2_HASHES:
            _ARGON2_HASHES[key] = real_hash(self, password)
        return _ARGON2_HASHES[key]

    def verify_once(self: Argon2Passwords, stored_hash: str, password: str) -> bool:
        key = (stored_hash, password)
        if key not in _ARGON2_CHECKS:
            _ARGON2_CHECKS[key] = real_verify(self, stored_hash, password)
        return _ARGON2_CHECKS[key]

    monkeypatch.setattr(Argon2Passwords, "hash", hash_once)
    monkeypatch.setattr(Argon2Passwords, "verify", verify_once)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(url: str, **extra: object) -> Settings:
    return load_settings(database_url=url, master_key=MASTER_KEY, **extra)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    # the database is a copy of the migrated template: nothing is left to migrate
    wired = bootstrap(settings, clock=clock)
    yield wired
    wired.database.close()


@pytest.fixture
def fake_services(clock: FakeClock) -> Services:
    """The services wired as ``bootstrap`` wires them, on the in-memory unit of work
    (tests/fake_uow.py) instead of a database."""
    settings = load_settings(database_url="sqlite:///:memory:", master_key=MASTER_KEY)
    keys = master_keys(settings)
    return wire(
        settings,
        uow=FakeUnitOfWorkFactory(clock),
        database=FakeDatabase(),
        keys=keys,
        box=AesGcmSecretBox(keys),
        clock=clock,
    )


ON_EVERY_STORE = [
    pytest.param("fake", marks=pytest.mark.fake),
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=ON_EVERY_STORE)
def any_services(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Services]:
    """Runs a service test three times: on the in-memory unit of work, on SQLite and on
    PostgreSQL (for use cases whose repositories have a fake: tests/fake_uow.py)."""
    if request.param == "fake":
        yield request.getfixturevalue("fake_services")
        return
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    wired = bootstrap(make_settings(url), clock=clock)
    try:
        yield wired
    finally:
        wired.database.close()


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the real ``securelogin`` command in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECURELOGIN_")}
    env["SECURELOGIN_MASTER_KEY"] = MASTER_KEY
    env["HOME"] = str(tmp_path)
    return env


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    """An in-process client of the real ASGI app (same routes, same database, fake clock)."""
    with TestClient(create_app(services)) as client:
        yield client
