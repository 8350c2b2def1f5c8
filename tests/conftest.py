"""Shared fixtures: databases (SQLite file and a fresh PostgreSQL database per test),
settings with an explicit master key, and the wired services.

PostgreSQL comes from ``SECURELOGIN_TEST_POSTGRES_URL`` (SPEC §10.1), which the README's
test command sets; without it the PostgreSQL tests fail rather than skip, so that CI can
never pass without having run them.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.config import Settings
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.fakes import FakeClock

REPO = Path(__file__).resolve().parents[1]
MASTER_KEY = base64.b64encode(b"\x07" * 32).decode()


def postgres_admin_url() -> str:
    url = os.environ.get("SECURELOGIN_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("SECURELOGIN_TEST_POSTGRES_URL is not set: run the tests with `make test`")
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin = postgres_admin_url()
    name = "sl_test_" + secrets.token_hex(6)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/securelogin.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/securelogin.db"
    return str(request.getfixturevalue("pg_url"))


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
    wired = bootstrap(settings, migrate=True, clock=clock)
    yield wired
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
