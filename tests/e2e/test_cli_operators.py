"""``securelogin admin operator …`` and ``admin helpdesk …`` as a person runs them (SPEC §7).

The password comes from stdin (never an argument); the TOTP secret is printed once as an
``otpauth://`` URI; failures are one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.cli import invoke_cli, run_cli
from tests.e2e.test_cli_cards import load_people


def test_R_OPS_1_operators_are_created_listed_and_disabled_from_the_command_line(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    created = run_cli(
        "admin", "operator", "create", "hannah", "--role", "helpdesk", "--role", "admin",
        "--database-url", sqlite_url, env=cli_env, stdin="Console-Pass-42\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "operator hannah created with roles admin,helpdesk" in created.stdout
    uri = re.search(r"otpauth://totp/\S+", created.stdout)
    secret = re.search(r"secret \(base32\): ([A-Z2-7]+)", created.stdout)
    assert uri and secret and f"secret={secret.group(1)}" in uri.group(0)
    assert "Console-Pass-42" not in created.stdout + created.stderr

    again = invoke_cli(
        "admin", "operator", "create", "hannah", "--role", "helpdesk",
        "--database-url", sqlite_url, env=cli_env, stdin="Console-Pass-42\n",
    )  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    bad_role = invoke_cli(
        "admin", "operator", "create", "ivan", "--role", "janitor",
        "--database-url", sqlite_url, env=cli_env, stdin="Console-Pass-42\n",
    )  # fmt: skip
    assert bad_role.returncode == 1 and "unknown role 'janitor'" in bad_role.stderr

    listed = run_cli("admin", "operator", "list", "--database-url", sqlite_url, env=cli_env)
    assert listed.stdout.splitlines() == ["hannah\tadmin,helpdesk\tactive"]
    disabled = invoke_cli(
        "admin", "operator", "disable", "hannah", "--database-url", sqlite_url, env=cli_env
    )
    assert disabled.returncode == 0, disabled.stderr
    listed = invoke_cli("admin", "operator", "list", "--database-url", sqlite_url, env=cli_env)
    assert listed.stdout.splitlines() == ["hannah\tadmin,helpdesk\tdisabled"]


def test_R_LOST_1_the_helpdesk_commands_verify_then_issue_one_temporary_code(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    load_people(sqlite_url, cli_env, tmp_path)
    invoke_cli(
        "admin", "operator", "create", "hannah", "--role", "helpdesk",
        "--database-url", sqlite_url, env=cli_env, stdin="Console-Pass-42\n",
    )  # fmt: skip
    base = ("--operator", "hannah", "--database-url", sqlite_url)
    refused = run_cli("admin", "helpdesk", "temporary-code", "alice", *base, env=cli_env)
    assert refused.returncode == 1 and "Verify and record" in refused.stderr
    verified = invoke_cli(
        "admin", "helpdesk", "verify", "alice", "--method", "callback", *base, env=cli_env
    )
    assert verified.returncode == 0, verified.stderr
    issued = invoke_cli("admin", "helpdesk", "temporary-code", "alice", *base, env=cli_env)
    assert issued.returncode == 0, issued.stderr
    assert re.fullmatch(r"[A-Z]{12}\n", issued.stdout)
    twice = invoke_cli("admin", "helpdesk", "temporary-code", "alice", *base, env=cli_env)
    assert twice.returncode == 1 and "temporary code was already issued" in twice.stderr
    not_locked = invoke_cli("admin", "helpdesk", "unlock", "alice", *base, env=cli_env)
    assert not_locked.returncode == 1 and "not locked" in not_locked.stderr


def test_R_LOGIN_3_operators_are_unlocked_and_their_totp_reset_from_the_command_line(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    from securelogin.bootstrap import bootstrap
    from securelogin.errors import InvalidCredentials
    from securelogin.service.operators import operators
    from tests.conftest import make_settings

    created = invoke_cli(
        "admin", "operator", "create", "hannah", "--role", "helpdesk",
        "--database-url", sqlite_url, env=cli_env, stdin="Console-Pass-42\n",
    )  # fmt: skip
    first = re.search(r"secret \(base32\): ([A-Z2-7]+)", created.stdout)
    assert created.returncode == 0 and first
    reset = run_cli(
        "admin", "operator", "reset-totp", "hannah", "--database-url", sqlite_url, env=cli_env
    )
    assert reset.returncode == 0, reset.stderr
    assert "new TOTP secret, console sessions ended" in reset.stdout
    uri = re.search(r"otpauth://totp/\S+", reset.stdout)
    second = re.search(r"secret \(base32\): ([A-Z2-7]+)", reset.stdout)
    assert uri and second and f"secret={second.group(1)}" in uri.group(0)
    assert second.group(1) != first.group(1)

    not_locked = invoke_cli(
        "admin", "operator", "unlock", "hannah", "--database-url", sqlite_url, env=cli_env
    )
    assert not_locked.returncode == 1 and "not locked" in not_locked.stderr
    assert "Traceback" not in not_locked.stderr
    services = bootstrap(make_settings(sqlite_url), migrate=False)
    try:
        for _ in range(10):
            with pytest.raises(InvalidCredentials):
                operators.start_console_login(services, username="hannah", password="Wrong-1x")
    finally:
        services.database.close()
    listed = invoke_cli("admin", "operator", "list", "--database-url", sqlite_url, env=cli_env)
    assert listed.stdout.splitlines() == ["hannah\thelpdesk\tlocked"]
    unlocked = run_cli(
        "admin", "operator", "unlock", "hannah", "--database-url", sqlite_url, env=cli_env
    )
    assert unlocked.returncode == 0 and "operator hannah unlocked" in unlocked.stdout
    listed = invoke_cli("admin", "operator", "list", "--database-url", sqlite_url, env=cli_env)
    assert listed.stdout.splitlines() == ["hannah\thelpdesk\tactive"]
    unknown = invoke_cli(
        "admin", "operator", "reset-totp", "nobody", "--database-url", sqlite_url, env=cli_env
    )
    assert unknown.returncode == 1 and "no operator nobody" in unknown.stderr
