"""Wake-ups through PostgreSQL ``LISTEN``/``NOTIFY`` (no other service to run).

Two connections of their own per process, outside the engine's pool: one ``LISTEN``s and
delivers, one sends the queued items with ``pg_notify`` (a connection waiting in
``notifies()`` cannot send).  NOTIFY goes to every connection listening on the channel in
the same database, so the processes of one installation hear each other and nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg

from securelogin.adapters.wakeups.common import CHANNEL, Batcher, Ready, cancel, forever, unpack
from securelogin.service.wakeups import Deliver

#: errors after which the connection is opened again
LINK_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, OSError)


def conninfo(database_url: str) -> str:
    """SQLAlchemy's ``postgresql+psycopg://`` URL as libpq takes it."""
    scheme, sep, rest = database_url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else database_url


class PostgresWakeups:
    kind = "postgres"

    def __init__(self, database_url: str, *, channel: str = CHANNEL) -> None:
        self.conninfo = conninfo(database_url)
        self.channel = channel
        self._batch = Batcher()
        self._ready = Ready()

    def publish(self, topic: str, key: str) -> None:
        self._batch.add(topic, key)

    async def listening(self) -> None:
        await self._ready.wait()

    async def serve(self, deliver: Deliver) -> None:
        tasks = [
            asyncio.ensure_future(
                forever("PostgreSQL", lambda: self._listen(deliver), LINK_ERRORS)
            ),
            asyncio.ensure_future(forever("PostgreSQL", self._send, LINK_ERRORS)),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await cancel(tasks)

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=5
        )

    async def _listen(self, deliver: Deliver) -> None:
        conn = await self._connect()
        async with conn:
            await conn.execute(f'LISTEN "{self.channel}"')
            self._ready.set()
            async for note in conn.notifies():
                unpack(note.payload, self._batch.sender, deliver)

    async def _send(self) -> None:
        conn = await self._connect()
        async with conn:
            while True:
                payloads = await self._batch.next_payloads()
                try:
                    for payload in payloads:
                        await conn.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))
                except LINK_ERRORS:
                    with contextlib.suppress(Exception):
                        await conn.close()
                    raise
