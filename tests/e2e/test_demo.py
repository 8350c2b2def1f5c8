"""``securelogin demo`` gives every device kind to a demo user, and ``admin demo-device``
plays the demo's cards and tokens so a person can log in without hardware."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from tests.devices import KINDS, Brokerage
from tests.e2e.cli import invoke_cli, run_cli, serving

DEMO_PASSWORD = "Demo-Login-2026"


def login(base: str, username: str) -> dict[str, object]:
    answer = httpx.post(
        base + "/api/v1/logins", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_the_demo_holds_every_kind_and_its_devices_can_be_played(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    loaded = run_cli("demo", "--no-serve", "--database-url", sqlite_url, env=cli_env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    for kind in KINDS:
        assert kind in loaded.stdout
    assert list((tmp_path / "demo-cards").glob("*.pdf"))
    with serving(sqlite_url, cli_env, tmp_path) as base:
        for username, serial, pin in [
            ("carol", "DEMO-PLAT-0001", None),
            ("alice", "DEMO-DSCP-0001", "1234"),
        ]:
            started = login(base, username)
            challenge = started["factor"]["prompt"]["challenge"]  # type: ignore[index]
            shown = invoke_cli(
                "admin",
                "demo-device",
                serial,
                challenge,
                "--database-url",
                sqlite_url,
                env=cli_env,
                stdin=f"{pin}\n" if pin else None,
            )
            assert shown.returncode == 0, shown.stderr
            answer = httpx.post(
                f"{base}/api/v1/logins/{started['login_id']}/answer",
                json={"response": shown.stdout.strip()},
            )
            assert answer.status_code == 200, answer.text
        started = login(base, "bob")
        code = run_cli(
            "admin", "demo-device", "DEMO-DSC-0001", "--database-url", sqlite_url, env=cli_env
        ).stdout.strip()
        assert (
            httpx.post(
                f"{base}/api/v1/logins/{started['login_id']}/answer", json={"response": code}
            ).status_code
            == 200
        )


def test_a_wrong_pin_makes_the_demo_dsc_plus_show_a_wrong_response(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert (
        invoke_cli(
            "demo", "--no-serve", "--database-url", sqlite_url, env=cli_env, cwd=tmp_path
        ).returncode
        == 0
    )
    right = invoke_cli(
        "admin",
        "demo-device",
        "DEMO-DSCP-0001",
        "123456",
        "--database-url",
        sqlite_url,
        env=cli_env,
        stdin="1234\n",
    ).stdout
    wrong = invoke_cli(
        "admin",
        "demo-device",
        "DEMO-DSCP-0001",
        "123456",
        "--database-url",
        sqlite_url,
        env=cli_env,
        stdin="9999\n",
    ).stdout
    assert right.strip().isdigit() and len(right.strip()) == 8 and right != wrong


def test_demo_device_refuses_a_device_the_demo_did_not_create(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    users = tmp_path / "real.yaml"
    users.write_text(yaml.safe_dump(Brokerage().user("real", KINDS["platinum_card"].device).data()))
    assert (
        invoke_cli(
            "admin", "import", str(users), "--database-url", sqlite_url, env=cli_env
        ).returncode
        == 0
    )
    refused = invoke_cli(
        "admin", "demo-device", "T-PLAT", "12345678", "--database-url", sqlite_url, env=cli_env
    )
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "was not created by the demo" in refused.stderr
