"""``securelogin admin import`` and ``admin audit verify`` as a person runs them (SPEC §10.1).

Bad files are refused with one line naming the entry and the field, a non-zero exit and
nothing written; the database holds no secret in the clear (SPEC §9); a tampered audit
row is found (R-OPS-6).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dbutil import execute, snapshot
from tests.e2e.cli import invoke_cli, run_cli

SAMPLE_PATH = Path(__file__).parents[1] / "data" / "spec-sample.yaml"
SAMPLE = yaml.safe_load(SAMPLE_PATH.read_text())
EXTRA = {"entities": [{"id": "E-9", "name": "Zoe Ng", "identification": {"ssn": "111-22-3333"}}]}

BAD_FILES = [
    (
        "unknown entity reference",
        lambda d: d["accounts"][0].update(entity="E-404"),
        "accounts[0] (U1000001): entity: unknown entity 'E-404'",
    ),
    (
        "duplicate username",
        lambda d: d["users"][1].update(username="alice"),
        "users[1] (alice): username: username 'alice' already exists",
    ),
    (
        "invalid date",
        lambda d: d["entities"][0]["identification"].update(date_of_birth="1980-13-01"),
        "entities[0] (E-1): identification.date_of_birth: ",
    ),
    (
        "bad phone number",
        lambda d: d["users"][0]["devices"][4].update(phone="+1-555"),
        "users[0] (alice): devices[4].phone: must be an E.164 number",
    ),
    (
        "unknown device kind",
        lambda d: d["users"][0]["devices"][2].update(kind="rsa_token"),
        "users[0] (alice): devices[2].kind: ",
    ),
    (
        "non-numeric cash",
        lambda d: d["accounts"][1].update(cash="12,50"),
        "accounts[1] (U1000002): cash: must be a decimal string",
    ),
]


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(("case", "edit", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_import_file_is_refused_whole_and_changes_nothing(
    case: str, edit: Any, message: str, db_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert (
        invoke_cli(
            "admin",
            "import",
            str(write(tmp_path / "extra.yaml", EXTRA)),
            "--database-url",
            db_url,
            env=cli_env,
        ).returncode
        == 0
    )
    before = snapshot(db_url)
    bad = copy.deepcopy(SAMPLE)
    edit(bad)
    result = invoke_cli(
        "admin",
        "import",
        str(write(tmp_path / "bad.yaml", bad)),
        "--database-url",
        db_url,
        env=cli_env,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("securelogin: " + message)
    assert snapshot(db_url) == before


def test_a_json_import_file_works_like_yaml(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(SAMPLE, default=str))
    result = run_cli("admin", "import", str(path), "--database-url", sqlite_url, env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "imported 2 entities, 2 accounts, 2 users, 7 devices" in result.stdout


def test_a_file_that_is_not_yaml_gets_one_line(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("users: [\n  - {username: alice\n")
    result = run_cli("admin", "import", str(path), "--database-url", sqlite_url, env=cli_env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("securelogin: broken.yaml: not valid YAML/JSON")


# --- secrets at rest (SPEC §9) -------------------------------------------------------------

LONG_SECRETS = [
    b"Wonderland-2026",
    b"123-45-6789",
    b"123456789",
    b"X1234567",
    b"98-7654321",
    b"JBSWY3DPEHPK3PXP",
    b"Hello!\xde\xad\xbe\xef",
    b"3132333435363738393031323334353637383930",
    b"12345678901234567890",
    b"4a6f686e446f65536563726574536565642121",
    b"JohnDoeSecretSeed!!",
    b"676f6c64636172647365656431323334353637",
    b"goldcardseed1234567",
]
SHORT_SECRETS = ["1234", "A3D", "Z3V", "Q7K", "M2P", "X9T", "B4R"]


def token_pattern(secret: str) -> re.Pattern[str]:
    """A short secret standing alone (not inside base64, hex or a longer number)."""
    return re.compile(rf"(?<![A-Za-z0-9+/]){re.escape(secret)}(?![A-Za-z0-9+/])")


def assert_no_secret(blob: bytes, texts: list[str]) -> None:
    for secret in LONG_SECRETS:
        assert secret not in blob, f"{secret!r} found in the clear"
        assert secret.hex().encode() not in blob.lower() or secret.isascii() is False
    for secret in SHORT_SECRETS:
        for text in texts:
            assert not token_pattern(secret).search(text), f"{secret!r} found in {text[:80]!r}"


def test_after_importing_the_spec_sample_the_sqlite_file_holds_no_secret_in_the_clear(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    result = invoke_cli(
        "admin", "import", str(SAMPLE_PATH), "--database-url", sqlite_url, env=cli_env
    )
    assert result.returncode == 0, result.stderr
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cells = [
            str(v)
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for row in conn.execute(f'SELECT * FROM "{name}"')
            for v in row
        ]
    blob = b"".join(
        p.read_bytes() for p in path.parent.glob(path.name + "*") if not p.name.endswith(".key")
    )
    assert b"alice" in blob  # the scan does see the data
    assert_no_secret(blob, cells)


@pytest.mark.postgres
def test_after_importing_the_spec_sample_a_pg_dump_holds_no_secret_in_the_clear(
    pg_url: str, cli_env: dict[str, str]
) -> None:
    result = invoke_cli("admin", "import", str(SAMPLE_PATH), "--database-url", pg_url, env=cli_env)
    assert result.returncode == 0, result.stderr
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump must be on PATH (make test puts it there)"
    dump = subprocess.run([pg_dump, "--no-owner", pg_url], capture_output=True, check=True).stdout
    assert b"alice" in dump and b"U1000001" in dump
    assert_no_secret(dump, [dump.decode()])


# --- audit chain (R-OPS-6) -----------------------------------------------------------------


def test_R_OPS_6_audit_verify_finds_a_tampered_row(db_url: str, cli_env: dict[str, str]) -> None:
    assert (
        invoke_cli(
            "admin", "import", str(SAMPLE_PATH), "--database-url", db_url, env=cli_env
        ).returncode
        == 0
    )
    ok = invoke_cli("admin", "audit", "verify", "--database-url", db_url, env=cli_env)
    assert ok.returncode == 0 and "audit chain intact (13 events)" in ok.stdout
    execute(db_url, "UPDATE audit_events SET subject = 'mallory' WHERE id = 6")
    bad = run_cli("admin", "audit", "verify", "--database-url", db_url, env=cli_env)
    assert bad.returncode == 4 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("securelogin: audit chain broken at event 6 ")


def test_R_OPS_6_audit_verify_finds_a_deleted_last_row(
    db_url: str, cli_env: dict[str, str]
) -> None:
    assert (
        invoke_cli(
            "admin", "import", str(SAMPLE_PATH), "--database-url", db_url, env=cli_env
        ).returncode
        == 0
    )
    execute(db_url, "DELETE FROM audit_events WHERE id = 13")
    bad = invoke_cli("admin", "audit", "verify", "--database-url", db_url, env=cli_env)
    assert bad.returncode == 4 and "broken at event 13 " in bad.stderr
