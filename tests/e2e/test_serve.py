"""``securelogin serve`` as a real process: /healthz, /openapi.json, one-line failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli import run_cli, serving


@pytest.fixture
def server(db_url: str, cli_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with serving(db_url, cli_env, tmp_path) as base:
        yield base


def test_serve_answers_healthz_and_openapi(server: str) -> None:
    health = httpx.get(server + "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    spec = httpx.get(server + "/openapi.json").json()
    assert spec["info"]["title"] == "securelogin" and "/healthz" in spec["paths"]


def test_an_unknown_path_is_a_problem_document_not_a_stack_trace(server: str) -> None:
    answer = httpx.get(server + "/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@127.0.0.1:1/none",
        "sqlite:////no/such/folder/x.db",
        "oracle://scott@tiger",
    ],
)
def test_a_wrong_database_url_is_one_clear_line(url: str, cli_env: dict[str, str]) -> None:
    result = run_cli("serve", "--database-url", url, env=cli_env)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("securelogin: ")


def test_production_mode_without_a_master_key_refuses_to_start(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "SECURELOGIN_MASTER_KEY"}
    env["SECURELOGIN_ENV"] = "production"
    result = run_cli("serve", "--database-url", f"sqlite:///{tmp_path}/p.db", env=env)
    assert result.returncode == 3
    assert "production needs SECURELOGIN_MASTER_KEY" in result.stderr
    assert not (tmp_path / "p.db.key").exists()
