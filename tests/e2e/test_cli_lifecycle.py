"""``securelogin admin close-account``, ``admin jobs run``, ``admin replacements …``,
``admin returns …`` and ``admin documents generate`` as a person runs them (R-CLOSE-1,
R-OPS-3/4): exit code 0 on success; one line on stderr and a non-zero code otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.dbutil import scalar
from tests.e2e.cli import invoke_cli, run_cli

PEOPLE = {
    "entities": [{"id": "E-1", "name": "Otto Closer", "identification": {"ssn": "123-45-6789"}}],
    "accounts": [{"id": "U1000001", "entity": "E-1", "cash": "500.00"}],
    "users": [
        {
            "username": "otto",
            "entity": "E-1",
            "password": "Wonderland-2026",
            "grants": [{"account": "U1000001", "rights": ["trade", "withdraw"]}],
            "devices": [{"kind": "dsc", "serial": "DSC-9", "secret_hex": "31" * 20}],
        }
    ],
}


def test_R_CLOSE_1_close_account_from_the_command_line(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(yaml.safe_dump(PEOPLE))
    url = sqlite_url
    assert (
        invoke_cli("admin", "import", str(path), "--database-url", url, env=cli_env).returncode == 0
    )
    closed = run_cli("admin", "close-account", "U1000001", "--database-url", url, env=cli_env)
    assert closed.returncode == 0, closed.stderr
    assert "account U1000001 closed" in closed.stdout and "returns: DSC-9" in closed.stdout
    again = invoke_cli("admin", "close-account", "U1000001", "--database-url", url, env=cli_env)
    assert again.returncode == 1
    assert again.stderr.startswith("securelogin: ") and len(again.stderr.splitlines()) == 1
    missing = invoke_cli("admin", "close-account", "U9999999", "--database-url", url, env=cli_env)
    assert missing.returncode == 1 and "no account U9999999" in missing.stderr
    listed = run_cli("admin", "returns", "list", "--database-url", url, env=cli_env)
    assert "DSC-9" in listed.stdout and "account_closing" in listed.stdout
    return_id = listed.stdout.split("\t", 1)[0]
    got = invoke_cli("admin", "returns", "receive", return_id, "--database-url", url, env=cli_env)
    assert got.returncode == 0, got.stderr
    assert scalar(url, "SELECT state FROM devices WHERE serial='DSC-9'") == "returned"
    doc = invoke_cli(
        "admin",
        "documents",
        "generate",
        "U1000001",
        "--kind",
        "tax_form",
        "--period",
        "2026",
        "--database-url",
        url,
        env=cli_env,
    )
    assert doc.returncode == 0 and doc.stdout.startswith("doc_"), doc.stderr
    assert scalar(url, "SELECT count(*) FROM account_documents") == 2


def test_R_OPS_4_jobs_run_once_from_the_command_line(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    ran = run_cli("admin", "jobs", "run", "--json", "--database-url", sqlite_url, env=cli_env)
    assert ran.returncode == 0, ran.stderr
    figures = json.loads(ran.stdout)
    assert figures["activated"] == 0 and "reminded" in figures
    bad = invoke_cli(
        "admin", "replacements", "ship", "rq_nope", "--database-url", sqlite_url, env=cli_env
    )
    assert bad.returncode == 1 and "no replacement request rq_nope" in bad.stderr
    wrong_role = invoke_cli(
        "admin",
        "replacements",
        "list",
        "--operator",
        "ghost",
        "--database-url",
        sqlite_url,
        env=cli_env,
    )
    assert wrong_role.returncode == 1 and "no enabled operator" in wrong_role.stderr
