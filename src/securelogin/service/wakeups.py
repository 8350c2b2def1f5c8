"""The port through which the server processes of one installation wake each other's
long-polls (issue 14, docs/deployment.md "Several processes").

A process that changed something a long-poll may wait on (a login approved, a withdrawal
decided, a push issued) *publishes* ``(topic, key)`` after its commit; every other process
*delivers* it to its waiters, which then re-read the state from the database.  A message
is only a hint: one that is lost, late or duplicated costs a waiter at most the poller's
interval (entrypoints/api/waits.py keeps polling as the fallback), never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: what a process does with a message of another process: wake the waiters of ``key``
#: in the hub ``topic`` (called on the event loop)
Deliver = Callable[[str, str], None]


class Wakeups(Protocol):
    #: "postgres" (LISTEN/NOTIFY), "redis" (pub/sub): for logs and the benchmarks
    kind: str

    def publish(self, topic: str, key: str) -> None:
        """Queue ``(topic, key)`` for the other processes; returns at once (event loop)."""
        ...

    async def serve(self, deliver: Deliver) -> None:
        """Listen and send until cancelled, reconnecting after a lost connection; the
        messages of this process itself are not delivered back to it."""
        ...

    async def listening(self) -> None:
        """Return once the first subscription is in place (for tests and start-up)."""
        ...
