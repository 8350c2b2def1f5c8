"""Wake-ups through Redis pub/sub (``SECURELOGIN_REDIS_URL``), for installations that
run Redis anyway or keep PostgreSQL's connections for the pool.

One pub/sub connection listens, one client publishes the queued items.  The channel name
is that of the PostgreSQL adapter followed by ``database`` (a hash of the database URL),
so two installations sharing one Redis do not wake each other.
"""

from __future__ import annotations

import asyncio
import hashlib

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from securelogin.adapters.wakeups.common import CHANNEL, Batcher, Ready, cancel, forever, unpack
from securelogin.service.wakeups import Deliver

LINK_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class RedisWakeups:
    kind = "redis"

    def __init__(self, redis_url: str, *, database_url: str) -> None:
        self.redis_url = redis_url
        scope = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self.channel = f"{CHANNEL}:{scope}"
        self._batch = Batcher()
        self._ready = Ready()

    def publish(self, topic: str, key: str) -> None:
        self._batch.add(topic, key)

    async def listening(self) -> None:
        await self._ready.wait()

    async def serve(self, deliver: Deliver) -> None:
        tasks = [
            asyncio.ensure_future(forever("Redis", lambda: self._listen(deliver), LINK_ERRORS)),
            asyncio.ensure_future(forever("Redis", self._send, LINK_ERRORS)),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await cancel(tasks)

    def _client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(
            self.redis_url, socket_connect_timeout=5, health_check_interval=30
        )

    async def _listen(self, deliver: Deliver) -> None:
        client = self._client()
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(self.channel)
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message["data"]
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        unpack(text, self._batch.sender, deliver)
        finally:
            await client.aclose()

    async def _send(self) -> None:
        client = self._client()
        try:
            while True:
                for payload in await self._batch.next_payloads():
                    await client.publish(self.channel, payload)
        finally:
            await client.aclose()
