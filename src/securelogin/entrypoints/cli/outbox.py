"""``securelogin admin outbox`` (SPEC §10.1) and ``admin deliver``: the notification outbox.

``outbox --json`` prints one JSON object per line, oldest first:
``{"time": ISO 8601 UTC, "channel": "sms"|"email", "to": …, "text": …}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    open_services,
    translate_errors,
)
from securelogin.service import notifications
from securelogin.service.ports import OutboxMessage


@admin_app.command("outbox")
@translate_errors
def admin_outbox(
    to: Annotated[
        str | None, typer.Option("--to", help="only messages to this phone number or address")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per line: time, channel, to, text")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="show at most the last N messages")] = 200,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the SMS and e-mail outbox, oldest first (the development outbox to read codes)."""
    services = open_services(database_url, migrate=True)
    try:
        messages = notifications.recent_messages(services, to=to, limit=limit)
    finally:
        services.database.close()
    if as_json:
        for message in messages:
            typer.echo(json.dumps(as_record(message), ensure_ascii=False))
        return
    if not messages:
        typer.echo("securelogin: the outbox is empty", err=True)
        return
    typer.echo(f"{'TIME (UTC)':<20}  {'CHANNEL':<7}  {'TO':<24}  {'STATUS':<16}  TEXT")
    for message in messages:
        line = " / ".join(part for part in message.text.splitlines() if part.strip())
        typer.echo(
            f"{iso_time(message.created_at)[:19].replace('T', ' '):<20}  {message.channel:<7}  "
            f"{message.to:<24}  {status(message):<16}  {line}"
        )


@admin_app.command("deliver")
@translate_errors
def admin_deliver(
    limit: Annotated[int, typer.Option(min=1, help="deliver at most N messages")] = 100,
    database_url: DatabaseUrl = None,
) -> None:
    """Deliver the due SMS and e-mail messages once (failures are retried later)."""
    services = open_services(database_url, migrate=True)
    try:
        report = notifications.deliver_due(services, limit=limit)
    finally:
        services.database.close()
    typer.echo(f"securelogin: sent {report.sent}, failed {report.failed}")


def as_record(message: OutboxMessage) -> dict[str, str]:
    return {
        "time": iso_time(message.created_at),
        "channel": message.channel,
        "to": message.to,
        "text": message.text,
    }


def iso_time(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the millisecond (``2026-11-23T15:00:00.000Z``)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status(message: OutboxMessage) -> str:
    if message.sent_at is not None:
        return "sent"
    if message.last_error is not None and message.last_error.startswith("gave up"):
        return f"gave up ({message.attempts})"
    if message.attempts:
        return f"retrying ({message.attempts})"
    return "pending"
