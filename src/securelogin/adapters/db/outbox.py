"""The notification outbox (R-OPS-5): messages written in the use case's transaction,
delivered after it commits, retried on failure.

A row is *pending* while ``sent_at`` is NULL and ``available_at`` is a real time: it is
due once that time has passed.  Claiming a row leases it (``available_at = now + lease``)
so that no other process takes it while it is being sent (R-OPS-4).  A finished row
(sent, or given up) gets ``available_at = NEVER``: the due scan on the ``available_at``
index then touches only pending rows, which keeps a pass with nothing due cheap.

SMS and e-mail bodies carry one-time codes: they are sealed at rest with the secret box
(``sealed:`` + base64, bound to channel and recipient) in every gateway mode, and opened
only when read (delivery, ``admin outbox``).  Another local user who can read the
database file finds no live code in it (issue 12, finding 2).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from securelogin.adapters.db import tables as t
from securelogin.service.ports import Clock, OutboxMessage, SecretBox

#: ``available_at`` of a row that is never due again (sent or given up)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
#: the stored body of a message once a production gateway took it: codes never stay at rest
DELIVERED = "[delivered]"
#: the stored body of a production message that was given up
UNDELIVERED = "[undelivered]"
ERROR_LENGTH = 500
#: the channels whose bodies may carry a code (the portal's message centre and push
#: wake-ups carry none and are read by other code)
SEALED_CHANNELS = frozenset({"sms", "email"})
SEALED = "sealed:"


def _context(channel: str, to: str) -> str:
    return f"outbox:{channel}:{to}"


def seal_body(box: SecretBox, *, channel: str, to: str, text: str) -> str:
    """The stored form of a message body: sealed for :data:`SEALED_CHANNELS`."""
    if channel not in SEALED_CHANNELS:
        return text
    blob = box.seal(text.encode("utf-8"), context=_context(channel, to))
    return SEALED + base64.b64encode(blob).decode("ascii")


def open_body(box: SecretBox, *, channel: str, to: str, body: str) -> str:
    """The text of a stored body; bodies stored before sealing (and the redacted
    markers) are read as they are."""
    if not body.startswith(SEALED):
        return body
    blob = base64.b64decode(body.removeprefix(SEALED))
    return box.open(blob, context=_context(channel, to)).decode("utf-8")


class SqlOutbox:
    def __init__(self, conn: Connection, clock: Clock, box: SecretBox) -> None:
        self.conn = conn
        self.clock = clock
        self.box = box

    def enqueue(self, *, channel: str, to: str, text: str) -> None:
        now = self.clock.now()
        body = seal_body(self.box, channel=channel, to=to, text=text)
        self.conn.execute(
            insert(t.outbox).values(
                channel=channel, recipient=to, body=body, created_at=now, available_at=now
            )
        )

    def claim_due(
        self,
        *,
        now: datetime,
        limit: int,
        lease_seconds: int,
        channels: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        """Lock and lease up to ``limit`` due messages, oldest first.

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` — a concurrent claimer skips the rows this
        transaction holds instead of sending them a second time; the lease keeps them
        away from the next claimer after this transaction commits.  SQLite: the
        transaction began with ``BEGIN IMMEDIATE``, so claimers already run one by one
        (SQLAlchemy renders no ``FOR UPDATE`` there).
        """
        o = t.outbox.c
        query = (
            select(t.outbox)
            .where(o.sent_at.is_(None), o.available_at <= now)
            .order_by(o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if channels is not None:
            query = query.where(o.channel.in_(list(channels)))
        rows = self.conn.execute(query).all()
        if rows:
            self.conn.execute(
                update(t.outbox)
                .where(o.id.in_([row.id for row in rows]))
                .values(available_at=now + timedelta(seconds=lease_seconds))
            )
        return [self._message(row) for row in rows]

    def mark_sent(self, message_id: int, *, now: datetime, keep_text: bool) -> None:
        values: dict[str, Any] = {"sent_at": now, "available_at": NEVER}
        if not keep_text:
            values["body"] = DELIVERED
        self.conn.execute(update(t.outbox).where(t.outbox.c.id == message_id).values(**values))

    def mark_failed(
        self,
        message_id: int,
        *,
        error: str,
        retry_at: datetime | None,
        keep_text: bool = True,
    ) -> None:
        o = t.outbox.c
        values: dict[str, Any] = {
            "attempts": o.attempts + 1,
            "last_error": error[:ERROR_LENGTH],
            "available_at": retry_at or NEVER,
        }
        if retry_at is None and not keep_text:
            values["body"] = UNDELIVERED
        self.conn.execute(update(t.outbox).where(o.id == message_id).values(**values))

    def seal_clear_bodies(self) -> int:
        """Seal the SMS and e-mail bodies stored in clear before sealing existed."""
        o = t.outbox.c
        rows = self.conn.execute(
            select(o.id, o.channel, o.recipient, o.body).where(
                o.channel.in_(sorted(SEALED_CHANNELS)),
                o.body.not_like(f"{SEALED}%"),
                o.body.not_in([DELIVERED, UNDELIVERED]),
            )
        ).all()
        for row in rows:
            sealed = seal_body(self.box, channel=row.channel, to=row.recipient, text=row.body)
            # only if still the same text: a gateway may have redacted it meanwhile
            self.conn.execute(
                update(t.outbox).where(o.id == row.id, o.body == row.body).values(body=sealed)
            )
        return len(rows)

    def recent(
        self, *, to: str | None, limit: int, channels: Sequence[str] | None = None
    ) -> list[OutboxMessage]:
        o = t.outbox.c
        query = select(t.outbox).order_by(o.id.desc()).limit(limit)
        if to is not None:
            query = query.where(o.recipient == to)
        if channels is not None:
            query = query.where(o.channel.in_(list(channels)))
        rows = self.conn.execute(query).all()
        return [self._message(row) for row in reversed(rows)]

    def _message(self, row: Row[Any]) -> OutboxMessage:
        return OutboxMessage(
            id=row.id,
            channel=row.channel,
            to=row.recipient,
            text=open_body(self.box, channel=row.channel, to=row.recipient, body=row.body),
            created_at=row.created_at,
            sent_at=row.sent_at,
            attempts=row.attempts,
            last_error=row.last_error,
        )
