"""The notification outbox (R-OPS-5): messages written in the use case's transaction,
delivered after it commits."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from securelogin.adapters.db import tables as t
from securelogin.service.ports import Clock


class SqlOutbox:
    def __init__(self, conn: Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock

    def enqueue(self, *, channel: str, to: str, text: str) -> None:
        now = self.clock.now()
        self.conn.execute(
            insert(t.outbox).values(
                channel=channel, recipient=to, body=text, created_at=now, available_at=now
            )
        )
