"""R-OPS-5: a serving process delivers due notifications by itself, after the commit."""

from __future__ import annotations

import time
from pathlib import Path

from tests.dbutil import execute, scalar
from tests.e2e.cli import serving


def test_R_OPS_5_the_server_delivers_queued_messages_in_the_background(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env | {"SECURELOGIN_BACKGROUND_INTERVAL_SECONDS": "0.2"}
    with serving(sqlite_url, env, tmp_path):
        execute(
            sqlite_url,
            "INSERT INTO outbox (channel, recipient, body, created_at, "
            "available_at, attempts) VALUES ('sms', '+15551230001', 'hello', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)",
        )
        deadline = time.monotonic() + 20
        while scalar(sqlite_url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)  # waiting for another process, not moving a rule's clock
        assert scalar(sqlite_url, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 1
