"""``securelogin admin outbox`` and ``admin deliver`` as a person runs them (SPEC §10.1):
``--json`` prints one ``{"time","channel","to","text"}`` object per line, oldest first;
``--to`` keeps one recipient's messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from securelogin.bootstrap import bootstrap
from tests.conftest import make_settings
from tests.e2e.cli import invoke_cli, run_cli
from tests.fakes import FakeClock

PHONE = "+15551230001"
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def outbox_db(sqlite_url: str) -> str:
    """A database with three SMS and an e-mail, a minute apart, and a push message."""
    clock = FakeClock(START)
    services = bootstrap(make_settings(sqlite_url), migrate=True, clock=clock)
    try:
        for channel, to, text in [
            ("sms", PHONE, "Your securelogin code is 111111"),
            ("email", "ann@example.test", "Your new device\n\nIt ships today."),
            ("sms", "+15551230002", "Your securelogin code is 222222"),
            ("push", PHONE, "not for this outbox"),
            ("sms", PHONE, "Your securelogin code is 333333"),
        ]:
            with services.uow() as uow:
                uow.outbox.enqueue(channel=channel, to=to, text=text)
                uow.commit()
            clock.advance(minutes=1)
    finally:
        services.database.close()
    return sqlite_url


def json_lines(stdout: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_admin_outbox_json_prints_one_object_per_line_oldest_first(
    outbox_db: str, cli_env: dict[str, str]
) -> None:
    result = run_cli("admin", "outbox", "--json", "--database-url", outbox_db, env=cli_env)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [list(r) for r in records] == [["time", "channel", "to", "text"]] * 4
    assert records[0] == {
        "time": "2026-11-23T15:00:00.000Z",
        "channel": "sms",
        "to": PHONE,
        "text": "Your securelogin code is 111111",
    }
    assert [r["channel"] for r in records] == ["sms", "email", "sms", "sms"]
    times = [datetime.fromisoformat(r["time"]) for r in records]
    assert times == sorted(times) and all(t.utcoffset() is not None for t in times)
    assert records[1]["text"] == "Your new device\n\nIt ships today."


def test_admin_outbox_to_keeps_one_recipients_messages(
    outbox_db: str, cli_env: dict[str, str]
) -> None:
    result = invoke_cli(
        "admin", "outbox", "--json", "--to", PHONE, "--database-url", outbox_db, env=cli_env
    )
    assert result.returncode == 0, result.stderr
    assert [(r["to"], r["text"][-6:]) for r in json_lines(result.stdout)] == [
        (PHONE, "111111"),
        (PHONE, "333333"),
    ]
    nobody = invoke_cli(
        "admin", "outbox", "--json", "--to", "+10000000000", "--database-url", outbox_db,
        env=cli_env,
    )  # fmt: skip
    assert (nobody.returncode, nobody.stdout) == (0, "")


def test_admin_outbox_without_json_is_a_readable_table(
    outbox_db: str, cli_env: dict[str, str]
) -> None:
    result = invoke_cli("admin", "outbox", "--database-url", outbox_db, env=cli_env)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["TIME", "(UTC)", "CHANNEL", "TO"]
    assert len(rows) == 4
    assert rows[0].startswith("2026-11-23 15:00:00")
    assert "pending" in rows[0] and "Your securelogin code is 111111" in rows[0]
    assert "Your new device / It ships today." in rows[1]


def test_admin_deliver_delivers_once_and_the_development_outbox_keeps_the_codes(
    outbox_db: str, cli_env: dict[str, str]
) -> None:
    result = run_cli("admin", "deliver", "--database-url", outbox_db, env=cli_env)
    assert (result.returncode, result.stdout) == (0, "securelogin: sent 4, failed 0\n")
    again = invoke_cli("admin", "deliver", "--database-url", outbox_db, env=cli_env)
    assert again.stdout == "securelogin: sent 0, failed 0\n"
    table = invoke_cli("admin", "outbox", "--database-url", outbox_db, env=cli_env)
    assert table.stdout.count(" sent ") == 4
    records = json_lines(
        invoke_cli("admin", "outbox", "--json", "--database-url", outbox_db, env=cli_env).stdout
    )
    assert records[-1]["text"] == "Your securelogin code is 333333"


def test_admin_outbox_on_an_unreachable_database_is_one_line_and_exit_3(
    cli_env: dict[str, str],
) -> None:
    result = invoke_cli(
        "admin", "outbox", "--database-url", "postgresql://nobody@127.0.0.1:1/none", env=cli_env
    )
    assert result.returncode == 3
    assert result.stderr.startswith("securelogin: cannot open database")
    assert len(result.stderr.splitlines()) == 1
