"""Long-poll waiting without a thread or a database connection per waiter.

A waiter is an ``asyncio.Event`` under a key (a login id, an app id).  It wakes when this
process changes the thing (``notify``), or when one shared poller per hub finds it
changed in the database — one query for all waiters, so that several processes on one
PostgreSQL behave as one.  Nothing here decides anything: the waiter re-reads the state
from the database after waking (no correctness state in memory, SPEC §8).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from fastapi.concurrency import run_in_threadpool

from securelogin.errors import SecureLoginError
from securelogin.service import push
from securelogin.service.context import Services


class Waits:
    def __init__(self, check: Callable[[list[str]], set[str]], *, interval: float) -> None:
        self.check = check
        self.interval = interval
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._poller: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return sum(len(v) for v in self._waiters.values())

    async def wait(self, key: str, timeout: float) -> bool:
        """Wait until ``key`` may have changed (True), or ``timeout`` seconds (False)."""
        event = asyncio.Event()
        self._waiters.setdefault(key, set()).add(event)
        self._ensure_poller()
        try:
            with anyio.move_on_after(timeout):
                await event.wait()
            return event.is_set()
        finally:
            events = self._waiters.get(key)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[key]

    def notify(self, key: str) -> None:
        """Wake the waiters of ``key`` (call on the event loop)."""
        for event in self._waiters.get(key, ()):
            event.set()

    def _ensure_poller(self) -> None:
        loop = asyncio.get_running_loop()
        if self._poller is None or self._poller.done() or self._poller.get_loop() is not loop:
            self._poller = loop.create_task(self._poll())

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self.interval)
            keys = list(self._waiters)
            if not keys:
                break
            try:
                ready = await run_in_threadpool(self.check, keys)
            except SecureLoginError:
                continue  # the database is away; the waiters time out as usual
            for key in ready:
                self.notify(key)


@dataclass(frozen=True)
class Hubs:
    logins: Waits
    apps: Waits


_HUBS: dict[int, Hubs] = {}

#: how often other processes' changes are looked for (this process notifies at once)
LOGIN_POLL_SECONDS = 0.5
APP_POLL_SECONDS = 0.25


def hubs(services: Services) -> Hubs:
    found = _HUBS.get(id(services))
    if found is None:
        found = Hubs(
            logins=Waits(
                lambda ids: push.settled_logins(services, ids), interval=LOGIN_POLL_SECONDS
            ),
            apps=Waits(lambda ids: push.apps_with_pushes(services, ids), interval=APP_POLL_SECONDS),
        )
        _HUBS[id(services)] = found
    return found
