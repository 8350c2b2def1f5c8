"""``admin import-pskc``, ``admin assign-device`` and ``admin inventory`` as logistics runs
them (SPEC §10.1, R-OPS-3): secrets from the terminal or stdin, one-line failures."""

from __future__ import annotations

import secrets
from pathlib import Path

import yaml

from securelogin.adapters.pskc import PskcKey
from securelogin.adapters.pskc_writer import write_pskc
from tests.dbutil import scalar, snapshot
from tests.e2e.cli import invoke_cli, run_cli

TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
DSC_PLUS_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
    "$0b4Bc7xXyKq3m0cGk1nqkqQyGkXz9bF0mUq2PjN8kRk"
)
PEOPLE = {
    "entities": [
        {
            "id": "E-1",
            "kind": "organization",
            "name": "Chen Family Holdings LLC",
            "identification": {
                "citizenship": "US",
                "residence": "US",
                "document_type": "ein",
                "document_number": "98-7654321",
            },
        }
    ],
    "users": [{"username": "alice", "entity": "E-1", "password_hash": HASH}],
}


def dsc(serial: str) -> PskcKey:
    return PskcKey(
        serial=serial,
        secret=secrets.token_bytes(20),
        algorithm=TOTP_URI,
        digits=6,
        time_interval=30,
        key_id=serial,
    )


def dsc_plus(serial: str) -> PskcKey:
    return PskcKey(
        serial=serial,
        secret=secrets.token_bytes(32),
        algorithm=DSC_PLUS_URI,
        digits=8,
        key_id=serial,
    )


def one_line_failure(result: object, start: str) -> None:
    stderr = getattr(result, "stderr", "")
    assert getattr(result, "returncode", 0) == 1, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("securelogin: " + start), stderr


def test_R_OPS_3_import_pskc_puts_a_plain_file_in_stock_and_inventory_counts_it(
    db_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "dsc.pskc"
    path.write_bytes(write_pskc([dsc("DSC-0001"), dsc("DSC-0002")]))
    result = run_cli(
        "admin", "import-pskc", str(path), "--kind", "dsc", "--database-url", db_url, env=cli_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "securelogin: imported 2 dsc devices into the inventory\n"
    listing = run_cli("admin", "inventory", "--database-url", db_url, env=cli_env)
    assert listing.returncode == 0, listing.stderr
    counts = dict(line.split() for line in listing.stdout.splitlines())
    assert counts == {"dsc": "2", "dsc_plus": "0", "platinum_card": "0", "gold_card": "0"}
    one = invoke_cli("admin", "inventory", "--kind", "dsc", "--database-url", db_url, env=cli_env)
    assert one.stdout.split() == ["dsc", "2"]


def test_R_OPS_3_the_password_of_an_encrypted_file_is_read_from_stdin(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "dscp.pskc"
    path.write_bytes(write_pskc([dsc_plus("DSCP-0001")], password="Qx-7741-vault", iterations=1000))
    args = ("admin", "import-pskc", str(path), "--kind", "dsc_plus", "--database-url", sqlite_url)
    run_cli("db", "upgrade", "--database-url", sqlite_url, env=cli_env)
    before = snapshot(sqlite_url)
    wrong = invoke_cli(*args, env=cli_env, stdin="not-the-password\n")
    one_line_failure(wrong, "PSKC: wrong password")
    missing = invoke_cli(*args, env=cli_env, stdin="")
    one_line_failure(missing, "the PSKC file's password expected")
    assert snapshot(sqlite_url) == before
    right = run_cli(*args, env=cli_env, stdin="Qx-7741-vault\n")
    assert right.returncode == 0, right.stderr
    assert "imported 1 dsc_plus devices into the inventory" in right.stdout


def test_R_OPS_3_a_pre_shared_key_comes_from_a_key_file(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    aes_key = secrets.token_bytes(32)
    (tmp_path / "transport.key").write_text(aes_key.hex() + "\n")
    path = tmp_path / "dsc.pskc"
    path.write_bytes(write_pskc([dsc("DSC-0001")], preshared_key=aes_key))
    args = ("admin", "import-pskc", str(path), "--kind", "dsc", "--database-url", sqlite_url)
    without = invoke_cli(*args, env=cli_env)
    one_line_failure(without, "PSKC: the file is encrypted with a pre-shared key")
    result = run_cli(*args, "--preshared-key-file", str(tmp_path / "transport.key"), env=cli_env)
    assert result.returncode == 0, result.stderr


def test_a_kind_that_is_not_hardware_and_an_unreadable_file_get_one_line(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "dsc.pskc"
    path.write_bytes(write_pskc([dsc("DSC-0001")]))
    sms = run_cli("admin", "import-pskc", str(path), "--kind", "sms", env=cli_env, cwd=tmp_path)
    one_line_failure(sms, "sms devices are not hardware from a seed file")
    gone = invoke_cli(
        "admin", "import-pskc", "nope.xml", "--kind", "dsc", env=cli_env, cwd=tmp_path
    )
    one_line_failure(gone, "cannot read nope.xml")
    path.write_bytes(b"<KeyContainer")
    broken = invoke_cli(
        "admin",
        "import-pskc",
        str(path),
        "--kind",
        "dsc",
        "--database-url",
        sqlite_url,
        env=cli_env,
    )
    one_line_failure(broken, "PSKC: not well-formed XML")


def test_R_OPS_3_assign_device_reads_the_dsc_plus_pin_from_stdin(
    db_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    people = tmp_path / "people.yaml"
    people.write_text(yaml.safe_dump(PEOPLE))
    assert (
        invoke_cli("admin", "import", str(people), "--database-url", db_url, env=cli_env).returncode
        == 0
    )
    path = tmp_path / "dscp.pskc"
    path.write_bytes(write_pskc([dsc_plus("DSCP-0001")]))
    imported = invoke_cli(
        "admin",
        "import-pskc",
        str(path),
        "--kind",
        "dsc_plus",
        "--database-url",
        db_url,
        env=cli_env,
    )
    assert imported.returncode == 0, imported.stderr
    args = ("admin", "assign-device", "DSCP-0001", "alice", "--database-url", db_url)
    one_line_failure(invoke_cli(*args, env=cli_env, stdin="12\n"), "the PIN must be 4 digits")
    result = run_cli(*args, env=cli_env, stdin="4821\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "securelogin: dsc_plus DSCP-0001 is active for alice\n"
    assert scalar(db_url, "SELECT state FROM devices WHERE serial = 'DSCP-0001'") == "active"
    again = invoke_cli(*args, env=cli_env, stdin="4821\n")
    one_line_failure(again, "device DSCP-0001 is not in stock")
