"""What both wake-up adapters share: the message format, batching, reconnecting.

One message carries the sender's id and any number of ``topic:key`` items:
``"<sender> <topic>:<key> <topic>:<key> …"`` (keys are ids without spaces); everything
queued while the previous send was under way goes out in one message of at most
``MAX_PAYLOAD`` bytes (PostgreSQL's NOTIFY takes < 8,000).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from securelogin.service.wakeups import Deliver

log = logging.getLogger("securelogin.wakeups")

CHANNEL = "securelogin_wakeups"
MAX_PAYLOAD = 7000
#: first and longest pause before reconnecting (seconds, doubled each failure)
RETRY_FIRST, RETRY_MAX = 0.5, 10.0


def pack(sender: str, items: list[str]) -> list[str]:
    """``items`` (``topic:key``) in as few payloads of at most MAX_PAYLOAD bytes as fit."""
    payloads, current = [], sender
    for item in items:
        if len(current) + 1 + len(item) > MAX_PAYLOAD and current != sender:
            payloads.append(current)
            current = sender
        current += " " + item
    if current != sender:
        payloads.append(current)
    return payloads


def unpack(payload: str, me: str, deliver: Deliver) -> None:
    """Deliver the items of another process's payload (own and malformed ones are dropped)."""
    sender, _, rest = payload.partition(" ")
    if sender == me:
        return
    for item in rest.split():
        topic, sep, key = item.partition(":")
        if sep and key:
            deliver(topic, key)


class Batcher:
    """The queue of one process's outgoing items and its sender id."""

    def __init__(self) -> None:
        self.sender = secrets.token_hex(8)
        self._items: list[str] = []
        self._pending: asyncio.Event | None = None

    def add(self, topic: str, key: str) -> None:
        self._items.append(f"{topic}:{key}")
        if self._pending is not None:
            self._pending.set()

    async def next_payloads(self) -> list[str]:
        """Wait until something is queued; then everything queued, packed."""
        if self._pending is None:
            self._pending = asyncio.Event()
        while not self._items:
            self._pending.clear()
            await self._pending.wait()
        items, self._items = self._items, []
        return pack(self.sender, items)


async def forever(
    name: str,
    attempt: Callable[[], Awaitable[None]],
    errors: tuple[type[Exception], ...],
) -> None:
    """Run ``attempt`` again after it fails with one of ``errors`` (the link dropped),
    pausing RETRY_FIRST seconds, doubled up to RETRY_MAX while it keeps failing."""
    pause = RETRY_FIRST
    while True:
        try:
            await attempt()
            pause = RETRY_FIRST
        except errors as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning(
                "%s wake-ups: %s; retrying in %.1f s (the poller covers meanwhile)",
                name,
                reason,
                pause,
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)


class Ready:
    """Set once the first subscription is in place."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def _get(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def set(self) -> None:
        self._get().set()

    async def wait(self) -> None:
        await self._get().wait()


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
