"""Done-when of the login issue: a TOTP code from a standard generator (`oathtool --totp`)
logs in a user imported with that seed, through a real server process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.devices import PASSWORD, TOTP_B32, Brokerage
from tests.e2e.cli import run_cli, serving


def test_R_LOGIN_4_a_code_from_oathtool_logs_in_a_totp_app_user(
    db_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    oathtool = shutil.which("oathtool")
    assert oathtool, "oathtool must be installed (make test installs it)"
    users = tmp_path / "users.yaml"
    data = Brokerage().user("otto", {"kind": "totp_app", "secret_base32": TOTP_B32}).data()
    users.write_text(yaml.safe_dump(data))
    assert (
        run_cli("admin", "import", str(users), "--database-url", db_url, env=cli_env).returncode
        == 0
    )
    with serving(db_url, cli_env, tmp_path) as base:
        started = httpx.post(
            base + "/api/v1/logins", json={"username": "otto", "password": PASSWORD}
        ).json()
        assert started["factor"]["kind"] == "totp_app"
        code = subprocess.run(
            [oathtool, "--totp", "-b", TOTP_B32], capture_output=True, text=True, check=True
        ).stdout.strip()
        answer = httpx.post(
            f"{base}/api/v1/logins/{started['login_id']}/answer", json={"response": code}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["session"]["tier"] == {"rank": 1, "device_kind": "totp_app"}
