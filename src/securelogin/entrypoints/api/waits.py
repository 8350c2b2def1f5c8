"""Long-poll waiting without a thread or a database connection per waiter.

A waiter is an ``asyncio.Event`` under a key (a login id, an app id).  It wakes when this
process changes the thing (``notify``); when another process does and says so through the
installation's wake-ups (PostgreSQL LISTEN/NOTIFY or Redis pub/sub, service/wakeups.py:
``notify`` publishes, ``Hubs.serve_wakeups`` delivers); or, as the fallback that needs
nothing but the database, when one shared poller per hub finds it changed — one query
for all waiters every ``interval`` seconds, so that several processes on one database
behave as one even when a message is lost.  Nothing here decides anything: the waiter
re-reads the state from the database after waking (no correctness state in memory,
SPEC §8).  Long-poll timeouts are jittered (``jittered``) so that clients connected
together do not all re-poll in the same second.

Logins also keep the last ``challenge`` answer of each login waited on here
(``LoginWaits``), so that a re-poll — all clients re-poll together when their waits end
or after a network blip — waits again without a query.  That answer only ever stands for
"still this challenge", and the poller re-checks it on every pass (docs/mobile-key.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from securelogin.errors import SecureLoginError
from securelogin.service.ceremony import push
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.context import Services
from securelogin.service.funds import withdrawals
from securelogin.service.lifecycle import sharing
from securelogin.service.login import login
from securelogin.service.login.login import LoginState
from securelogin.service.wakeups import Wakeups

#: how often other processes' changes are looked for (this process notifies at once)
LOGIN_POLL_SECONDS = 0.5
APP_POLL_SECONDS = 0.25
#: how long a login's last answer is kept after its last waiter left (the client's re-poll)
KEEP_SECONDS = 10.0
#: at most this many kept answers per process (the oldest goes first)
MAX_KEPT = 100_000
#: long-poll first reads running at once (each a batch, in a thread): the rest of the
#: thread pool and of the database connections stays free for approvals and for the
#: woken waiters' re-reads.  Two, not more: what arrives while they run waits for the
#: next batch, so a burst is read in a few large batches.  With 16, 2,000 long-polls
#: arriving together were read in ~1,460 batches (most of one login: every arrival
#: found a free thread) for 2.6 ms of CPU each; with 2, in ~185 batches for 0.85 ms
#: (docs/performance.md, session 3)
FIRST_READS = 2
#: at most this many long-polls' first reads in one query
FIRST_BATCH = 500
#: a long-poll of ``wait`` seconds ends after ``wait × (1 − JITTER × u)``, u uniform in
#: [0, 1), when ``wait`` ≥ JITTER_FROM: 10,000 clients connected in one second re-poll
#: spread over 12 s of a 60-s wait instead of in one second
JITTER = 0.2
JITTER_FROM = 5.0


def jittered(wait: float, uniform: Callable[[], float] = random.random) -> float:
    """The seconds a long-poll of ``wait`` seconds waits at most (never more than asked)."""
    if wait < JITTER_FROM:
        return wait
    return wait * (1.0 - JITTER * uniform())


class Waiter:
    """One long-poll's wake-up: ``asyncio.Event``'s ``set``/``is_set``/``clear``, with a
    future only while it is awaited and a ``call_later`` for its timeout — no deque and
    no anyio cancel scope: ~2 KB less per waiting long-poll than an ``asyncio.Event``
    awaited under ``anyio.move_on_after`` (docs/performance.md, session 3)."""

    __slots__ = ("_future", "_set")

    def __init__(self) -> None:
        self._set = False
        self._future: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        """Wake it (on the event loop)."""
        self._set = True
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self, timeout: float) -> bool:
        """Until it is set, at most ``timeout`` seconds; True when it is set."""
        if self._set or timeout <= 0:
            return self._set
        loop = asyncio.get_running_loop()
        future = self._future = loop.create_future()
        timer = loop.call_later(timeout, _expire, future)
        try:
            await future
        finally:
            timer.cancel()
            self._future = None
        return self._set


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Waits:
    """Waiters under keys and the poller that wakes them (``_changed`` says which).

    ``topic`` names the hub in the wake-up messages between processes; ``wakeups`` is set
    by :meth:`Hubs.serve_wakeups` while the server runs (None: this process only)."""

    def __init__(self, *, interval: float, topic: str = "") -> None:
        self.interval = interval
        self.topic = topic
        self.wakeups: Wakeups | None = None
        #: a list, not a set: a login has one waiter but for a client's overlapping polls
        self._waiters: dict[str, list[Waiter]] = {}
        self._poller: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return sum(len(v) for v in self._waiters.values())

    @contextlib.contextmanager
    def watch(self, key: str) -> Iterator[Waiter]:
        """A waiter for ``key`` from now on: register it *before* reading the state, so
        that a change during the read sets it instead of being missed."""
        waiter = Waiter()
        self._waiters.setdefault(key, []).append(waiter)
        self._ensure_poller()
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[key]
                    self._left(key)

    async def wait(self, key: str, timeout: float) -> bool:
        """Wait until ``key`` may have changed (True), or ``timeout`` seconds (False)."""
        with self.watch(key) as waiter:
            return await waiter.wait(timeout)

    def notify(self, key: str) -> None:
        """``key`` changed here (call on the event loop, after the commit): wake its
        waiters in this process and tell the other processes."""
        self.wake(key)
        if self.wakeups is not None:
            self.wakeups.publish(self.topic, key)

    def wake(self, key: str) -> None:
        """Wake the waiters of ``key`` in this process (the poller, another process)."""
        for waiter in self._waiters.get(key, ()):
            waiter.set()

    def _left(self, key: str) -> None:
        """The last waiter of ``key`` left."""

    def _watched(self) -> list[str]:
        return list(self._waiters)

    async def _changed(self, keys: list[str]) -> set[str]:
        raise NotImplementedError

    def _ensure_poller(self) -> None:
        loop = asyncio.get_running_loop()
        if self._poller is None or self._poller.done() or self._poller.get_loop() is not loop:
            self._poller = loop.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            keys = self._watched()
            if not keys:
                break
            try:
                ready = await self._changed(keys)
            except SecureLoginError:
                continue  # the database is away; the waiters time out as usual
            for key in ready:
                self.wake(key)


class KeyWaits(Waits):
    """Waits whose poller asks ``check`` which of the waited keys changed."""

    def __init__(
        self, check: Callable[[list[str]], set[str]], *, interval: float, topic: str = ""
    ) -> None:
        super().__init__(interval=interval, topic=topic)
        self.check = check

    async def _changed(self, keys: list[str]) -> set[str]:
        return await run_in_threadpool(self.check, keys)


#: a first read waiting for its batch: the login and where its state goes (None: the
#: batch left it out, read it alone)
_Queued = tuple[str, "asyncio.Future[LoginState | None]"]


class LoginWaits(Waits):
    """Waits on logins, and the last ``challenge`` answer of each login waited on here.

    A kept answer is dropped when the login is notified, when a poller pass finds that
    the login left ``challenge`` or shows another challenge (resend, fallback: its
    ``challenge_mark`` moved), at the login's expiry, ``keep`` seconds after its last
    waiter left, and when ``limit`` answers are kept (the oldest).  The poller checks
    kept logins as well as waited ones, so an answer is never older than one pass.
    """

    def __init__(
        self,
        changes: Callable[[list[str]], dict[str, int | None]],
        *,
        states: Callable[[list[str]], dict[str, LoginState]],
        interval: float,
        clock: Callable[[], datetime],
        keep: float = KEEP_SECONDS,
        limit: int = MAX_KEPT,
        monotonic: Callable[[], float] = time.monotonic,
        topic: str = "",
    ) -> None:
        super().__init__(interval=interval, topic=topic)
        self.changes = changes
        self.states = states
        self.clock = clock
        self.keep = keep
        self.limit = limit
        self.monotonic = monotonic
        #: a login's last ``challenge`` answer (its ``challenge_mark`` and ``expires_at``
        #: set): the LoginState itself, nothing around it
        self._kept: dict[str, LoginState] = {}
        self._idle_since: dict[str, float] = {}
        self._gate: (
            tuple[asyncio.AbstractEventLoop, asyncio.Semaphore, anyio.CapacityLimiter] | None
        ) = None
        self._queued: list[_Queued] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def kept(self) -> int:
        return len(self._kept)

    def recall(self, login_id: str) -> LoginState | None:
        """The kept ``challenge`` answer of ``login_id``, unless the login has expired."""
        kept = self._kept.get(login_id)
        if kept is None:
            return None
        if _ended(kept, self.clock()):
            self._forget(login_id)
            return None
        return kept

    def remember(self, state: LoginState) -> None:
        """Keep a ``challenge`` answer just read (call only when no notify came during
        the read: the caller's waiter event is still clear)."""
        if state.status != "challenge" or state.challenge_mark is None or not state.expires_at:
            return
        key = state.login_id
        if key not in self._kept and len(self._kept) >= self.limit:
            self._forget(next(iter(self._kept)))
        self._kept[key] = state
        if key not in self._waiters:
            self._idle_since[key] = self.monotonic()

    async def first_read(self, login_id: str, read: Callable[[], LoginState]) -> LoginState:
        """A long-poll's first read.  It joins the first reads queued meanwhile, and one
        query (``states``) answers them all; a login that query leaves out (unknown,
        ``authenticated``) is read alone by ``read``.  At most ``FIRST_READS`` reads run
        at once, each in a thread: what arrives while they run waits for the next batch,
        so long-polls arriving together cost a few hundred queries, not three each."""
        loop, gate, threads = self._first_reads()
        future: asyncio.Future[LoginState | None] = loop.create_future()
        self._queued.append((login_id, future))
        if self._reader is None or self._reader.done():
            self._reader = loop.create_task(self._read_queued(gate, threads))
        state = await future
        if state is None:
            async with gate:
                state = await anyio.to_thread.run_sync(read, limiter=threads)
        return state

    def _first_reads(
        self,
    ) -> tuple[asyncio.AbstractEventLoop, asyncio.Semaphore, anyio.CapacityLimiter]:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(FIRST_READS), anyio.CapacityLimiter(FIRST_READS))
            self._queued, self._reader = [], None
        return self._gate

    async def _read_queued(self, gate: asyncio.Semaphore, threads: anyio.CapacityLimiter) -> None:
        """Start a batch whenever a read may start, with everything queued by then."""
        while self._queued:
            await gate.acquire()
            batch, self._queued = self._queued[:FIRST_BATCH], self._queued[FIRST_BATCH:]
            task = asyncio.get_running_loop().create_task(self._read_batch(batch, threads))
            task.add_done_callback(lambda _: gate.release())

    async def _read_batch(self, batch: list[_Queued], threads: anyio.CapacityLimiter) -> None:
        waiting = [(key, future) for key, future in batch if not future.done()]
        if not waiting:
            return  # their clients left
        try:
            states = await anyio.to_thread.run_sync(
                self.states, [key for key, _ in waiting], limiter=threads
            )
        except Exception as exc:  # each of the batch's long-polls meets it
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for key, future in waiting:
            if not future.done():
                future.set_result(states.get(key))

    @contextlib.contextmanager
    def watch(self, key: str) -> Iterator[Waiter]:
        self._idle_since.pop(key, None)
        with super().watch(key) as waiter:
            yield waiter

    def wake(self, key: str) -> None:
        self._forget(key)
        super().wake(key)

    def _forget(self, key: str) -> None:
        self._kept.pop(key, None)
        self._idle_since.pop(key, None)

    def _left(self, key: str) -> None:
        if key in self._kept:
            self._idle_since[key] = self.monotonic()

    def _watched(self) -> list[str]:
        now, idle_before = self.clock(), self.monotonic() - self.keep
        for key in [k for k, since in self._idle_since.items() if since <= idle_before]:
            self._forget(key)
        for key in [k for k, kept in self._kept.items() if _ended(kept, now)]:
            self._forget(key)
        return list(self._waiters.keys() | self._kept.keys())

    async def _changed(self, keys: list[str]) -> set[str]:
        marks = {k: kept.challenge_mark for k in keys if (kept := self._kept.get(k)) is not None}
        changes = await run_in_threadpool(self.changes, keys)
        # None: left ``challenge``; a mark: the login's newest challenge (resend, fallback)
        return {k for k, mark in changes.items() if mark is None or marks.get(k, mark) != mark}


def _ended(kept: LoginState, now: datetime) -> bool:
    return kept.expires_at is None or now >= kept.expires_at


@dataclass
class Hubs:
    logins: LoginWaits
    apps: KeyWaits
    #: ``GET /withdrawals/{id}?wait=S``: wakes when the withdrawal is decided or expires
    withdrawals: KeyWaits
    #: ``GET /share-requests/{id}?wait=S``: wakes when the owner's device decides it
    shares: KeyWaits
    _by_topic: dict[str, Waits] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        every = (self.logins, self.apps, self.withdrawals, self.shares)
        self._by_topic = {hub.topic: hub for hub in every}

    def of_purpose(self, purpose: str) -> Waits | None:
        """The hub whose waiters wait on the subject of a ceremony of ``purpose`` (a push
        names its ceremony; its approval hands back the ceremony's subject: a login id,
        a withdrawal id, a share request's id)."""
        hub: dict[str, Waits] = {
            Purpose.LOGIN: self.logins,
            Purpose.WITHDRAWAL: self.withdrawals,
            Purpose.SHARE: self.shares,
        }
        return hub.get(purpose)

    def deliver(self, topic: str, key: str) -> None:
        """Another process changed ``key`` of hub ``topic``: wake the waiters here."""
        hub = self._by_topic.get(topic)
        if hub is not None:
            hub.wake(key)

    @contextlib.asynccontextmanager
    async def serve_wakeups(self, wakeups: Wakeups | None) -> AsyncIterator[None]:
        """While the block runs (the server's lifespan): publish this process's changes
        and deliver the other processes' through ``wakeups`` (nothing when None)."""
        if wakeups is None:
            yield
            return
        task = asyncio.get_running_loop().create_task(wakeups.serve(self.deliver))
        for hub in self._by_topic.values():
            hub.wakeups = wakeups
        try:
            yield
        finally:
            for hub in self._by_topic.values():
                hub.wakeups = None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


_HUBS: dict[int, Hubs] = {}


def hubs(services: Services) -> Hubs:
    found = _HUBS.get(id(services))
    if found is None:
        found = Hubs(
            logins=LoginWaits(
                lambda ids: push.login_changes(services, ids),
                states=lambda ids: login.login_states(services, ids),
                interval=LOGIN_POLL_SECONDS,
                clock=services.clock.now,
                topic="l",
            ),
            apps=KeyWaits(
                lambda ids: push.apps_with_pushes(services, ids),
                interval=APP_POLL_SECONDS,
                topic="a",
            ),
            withdrawals=KeyWaits(
                lambda ids: withdrawals.withdrawal_changes(services, ids),
                interval=LOGIN_POLL_SECONDS,
                topic="w",
            ),
            shares=KeyWaits(
                lambda ids: sharing.decided_requests(services, ids),
                interval=LOGIN_POLL_SECONDS,
                topic="s",
            ),
        )
        _HUBS[id(services)] = found
    return found


async def hubs_of(request: Request) -> Hubs:
    """The app's hubs (``create_app`` keeps them in ``app.state.hubs``); ``async`` so that
    FastAPI calls it on the event loop, not through a thread as a plain ``def``."""
    found: Hubs = request.app.state.hubs
    return found


#: a handler's parameter: ``waits: HubsDep``
HubsDep = Annotated[Hubs, Depends(hubs_of)]
