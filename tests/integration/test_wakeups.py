"""Scale-out (issue 14): a change recorded by one server process wakes the long-poll held
by another through the installation's wake-ups — PostgreSQL LISTEN/NOTIFY, or Redis
pub/sub when ``SECURELOGIN_REDIS_URL`` is set — not through the poller.

Every test here makes the poller unable to be the one that wakes (its interval is an
hour), so a waiter that wakes proves the message went from one node to the other; the
timeouts are only there so that a broken wake-up fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.pool import QueuePool

from securelogin.adapters.db.engine import POOL_SPARE, make_engine
from securelogin.adapters.wakeups.postgres import PostgresWakeups
from securelogin.adapters.wakeups.redis import RedisWakeups
from securelogin.bootstrap import bootstrap, wakeups_for
from securelogin.entrypoints.api import waits
from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.api.waits import Hubs, KeyWaits, LoginWaits, Waits, hubs
from securelogin.service.context import Services
from securelogin.service.wakeups import Wakeups
from tests.conftest import make_settings
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock
from tests.integration import sharing_data
from tests.mobile_key_app import TestApp
from tests.withdrawal_kit import ACCOUNT, answer, bearer, session_token
from tests.withdrawal_kit import load as load_withdrawers

HOUR = 3600.0
#: only so that a broken wake-up fails the test instead of hanging it
SAFETY = 20.0


def node() -> Hubs:
    """One process's hubs whose poller would first look after an hour (and then fail)."""

    def no_poll(_keys: list[str]) -> Any:
        raise AssertionError("the poller ran: the wake-up did not come through")

    clock = FakeClock()
    return Hubs(
        logins=LoginWaits(no_poll, states=no_poll, interval=HOUR, clock=clock.now, topic="l"),
        apps=KeyWaits(no_poll, interval=HOUR, topic="a"),
        withdrawals=KeyWaits(no_poll, interval=HOUR, topic="w"),
        shares=KeyWaits(no_poll, interval=HOUR, topic="s"),
    )


async def across(first: Wakeups, second: Wakeups) -> None:
    """Node A notifies a login and a withdrawal; node B's waiters wake, A's own message
    is not delivered back to A, and a key nobody waits on wakes nobody."""
    a, b = node(), node()
    async with a.serve_wakeups(first), b.serve_wakeups(second):
        await asyncio.wait_for(first.listening(), SAFETY)
        await asyncio.wait_for(second.listening(), SAFETY)
        with (
            b.logins.watch("lg_1") as login_b,
            b.withdrawals.watch("wd_1") as withdrawal_b,
            b.logins.watch("lg_other") as other_b,
            a.logins.watch("lg_1") as login_a,
        ):
            a.logins.notify("lg_1")
            assert login_a.is_set()  # this process: at once, no message needed
            login_a.clear()
            a.withdrawals.notify("wd_1")
            assert await login_b.wait(SAFETY), "node B's login waiter was not woken"
            assert await withdrawal_b.wait(SAFETY), "node B's withdrawal waiter not woken"
            # B answers A in turn (so A's listener works too), after which A's echo of its
            # own first message would have arrived long before: it must not have
            with a.logins.watch("lg_2") as reply_a:
                b.logins.notify("lg_2")
                assert await reply_a.wait(SAFETY)
            assert not login_a.is_set(), "a node heard its own message"
            assert not other_b.is_set()


@pytest.mark.postgres
def test_R_KEY_4_an_approval_on_one_node_wakes_the_waiter_on_another_through_listen_notify(
    pg_url: str,
) -> None:
    asyncio.run(across(PostgresWakeups(pg_url), PostgresWakeups(pg_url)))


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A ``redis-server`` of this test's own (temp dir, free port, nothing saved)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # its log says when it accepts connections
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail(f"redis-server did not start (exit {server.wait()})")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.communicate(timeout=10)  # reads the rest of its log and closes the pipe


def test_R_KEY_4_an_approval_on_one_node_wakes_the_waiter_on_another_through_redis(
    redis_url: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'any.db'}"  # the channel is per installation
    asyncio.run(
        across(
            RedisWakeups(redis_url, database_url=database),
            RedisWakeups(redis_url, database_url=database),
        )
    )


def test_R_KEY_4_the_wakeups_follow_the_settings(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    pg = "postgresql://u@127.0.0.1:1/db"
    assert wakeups_for(make_settings(sqlite)) is None
    assert isinstance(wakeups_for(make_settings(pg)), PostgresWakeups)
    assert wakeups_for(make_settings(pg, listen_notify=False)) is None
    found = wakeups_for(make_settings(pg, redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(found, RedisWakeups)
    other = RedisWakeups("redis://127.0.0.1:1/0", database_url=sqlite)
    assert found.channel != other.channel  # two installations on one Redis stay apart


@pytest.mark.postgres
def test_R_KEY_4_a_push_approved_through_one_server_completes_the_long_poll_held_by_another(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances of the real app on one PostgreSQL, in-process: the login's long-poll
    is held by B, the app's approval goes to A; B's poller would look after an hour."""
    monkeypatch.setattr(waits, "LOGIN_POLL_SECONDS", HOUR)
    settings = make_settings(pg_url)
    services_a, services_b = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    wake_a, wake_b = PostgresWakeups(pg_url), PostgresWakeups(pg_url)
    try:
        with (
            TestClient(create_app(services_a, wakeups=wake_a)) as api_a,
            TestClient(create_app(services_b, wakeups=wake_b)) as api_b,
        ):
            _approve_on_a_wake_b(api_a, api_b, services_a, services_b, clock, wake_b)
    finally:
        services_a.database.close()
        services_b.database.close()


def _approve_on_a_wake_b(
    api_a: TestClient,
    api_b: TestClient,
    services_a: Services,
    services_b: Services,
    clock: FakeClock,
    wake_b: PostgresWakeups,
) -> None:
    Brokerage().user("alice", KINDS["sms"].device).load(services_a)
    key = TestApp(clock)
    key.activate(api_a, services_a)
    started = api_a.post(
        "/api/v1/logins", json={"username": "alice", "password": PASSWORD, "platform": "portal"}
    )
    assert started.status_code == 201, started.json()
    login_id = started.json()["login_id"]
    number = started.json()["factor"]["prompt"]["number"]
    [pending] = key.pushes(api_a)
    assert api_b.portal is not None
    api_b.portal.call(wake_b.listening)
    held = hubs(services_b).logins
    answered: dict[str, Any] = {}

    def long_poll() -> None:
        got = api_b.get(f"/api/v1/logins/{login_id}", params={"wait": SAFETY})
        answered.update(got.json())

    poller = threading.Thread(target=long_poll)
    poller.start()
    # the long-poll is registered on B before the approval (else its first read would
    # already see it): wait for B's waiter, not for a time
    api_b.portal.call(_until_waiting, held)
    approved = key.answer(api_a, pending, "approve", number)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    poller.join(SAFETY + 5)
    assert answered.get("status") == "authenticated", answered
    assert answered["session"]["token"]


async def _until_waiting(hub: Waits) -> None:
    for _ in range(int(SAFETY * 100)):
        if hub.waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the long-poll never registered on node B")


@pytest.mark.postgres
def test_the_postgresql_pool_is_sized_to_the_thread_limit_and_opens_no_overflow(
    pg_url: str,
) -> None:
    """10,000 long-polls churned overflow connections (opened and closed per use) with
    10 + 10; now every thread may hold one pooled connection and none is opened beyond."""
    engine = make_engine(pg_url, threads=8)
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == 8 + POOL_SPARE
        assert pool._max_overflow == 0  # no public reader
        held = [engine.connect() for _ in range(8 + POOL_SPARE)]
        assert pool.overflow() == 0 and pool.checkedout() == 8 + POOL_SPARE
        for conn in held:
            conn.close()
        assert pool.checkedin() == 8 + POOL_SPARE  # kept, not closed
    finally:
        engine.dispose()


@dataclass
class TwoNodes:
    """Two instances of the real app on one PostgreSQL, in-process, each with its own
    wake-ups; B's pollers would look after an hour, so only A's message can wake B."""

    services_a: Services
    api_a: TestClient
    services_b: Services
    api_b: TestClient
    wake_b: PostgresWakeups

    def held_by_b(
        self, hub: Waits, path: str, headers: dict[str, str], act: Callable[[], None]
    ) -> dict[str, Any]:
        """``GET path?wait=S`` held by B while ``act`` runs against A; B's answer."""
        assert self.api_b.portal is not None
        self.api_b.portal.call(self.wake_b.listening)
        assert hub.interval == HOUR
        answered: dict[str, Any] = {}

        def long_poll() -> None:
            got = self.api_b.get(path, params={"wait": SAFETY}, headers=headers)
            answered.update(got.json())

        poller = threading.Thread(target=long_poll)
        poller.start()
        self.api_b.portal.call(_until_waiting, hub)  # B waits before A acts
        act()
        poller.join(SAFETY + 5)
        return answered


@contextlib.contextmanager
def two_nodes(pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoNodes]:
    monkeypatch.setattr(waits, "LOGIN_POLL_SECONDS", HOUR)
    settings = make_settings(pg_url)
    services_a, services_b = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    wake_a, wake_b = PostgresWakeups(pg_url), PostgresWakeups(pg_url)
    try:
        with (
            TestClient(create_app(services_a, wakeups=wake_a)) as api_a,
            TestClient(create_app(services_b, wakeups=wake_b)) as api_b,
        ):
            yield TwoNodes(services_a, api_a, services_b, api_b, wake_b)
    finally:
        services_a.database.close()
        services_b.database.close()


@pytest.mark.postgres
def test_R_KEY_4_a_withdrawal_push_approved_through_one_server_wakes_the_long_poll_on_another(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the login's, for ``GET /withdrawals/{id}?wait=S``: the push carries the
    ceremony's id, the approval names the withdrawal (the ceremony's subject), and A
    publishes that, which is the key B's waiter waits on."""
    with two_nodes(pg_url, clock, monkeypatch) as nodes:
        load_withdrawers(nodes.services_a, {"maya": ["sms"]})
        token = session_token(nodes.services_a, "maya", "sms")
        key = TestApp(clock)
        key.activate(nodes.api_a, nodes.services_a, username="maya")
        started = nodes.api_a.post(
            "/api/v1/withdrawals",
            json={"account": ACCOUNT, "amount": "25.00", "destination": "Chase ****1234"}
            | {"device_id": key.devices["maya"]},
            headers=bearer(token) | {"Idempotency-Key": "w-1"},
        )
        assert started.status_code == 201, started.json()
        number = started.json()["factor"]["prompt"]["number"]
        [pending] = key.pushes(nodes.api_a)

        def approve() -> None:
            approved = key.answer(nodes.api_a, pending, "approve", number)
            assert approved.status_code == 200, approved.text

        answered = nodes.held_by_b(
            hubs(nodes.services_b).withdrawals,
            f"/api/v1/withdrawals/{started.json()['withdrawal_id']}",
            bearer(token),
            approve,
        )
        assert answered.get("status") == "accepted", answered


@pytest.mark.postgres
def test_R_SHARE_1_a_share_approved_on_one_server_wakes_the_long_poll_on_another(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /share-requests/{id}?wait=S`` held by B; the owner approves the share's push
    through A; the approval names the share request (the ceremony's subject), A publishes
    it on the shares' topic and B's waiter answers ``approved``."""
    with two_nodes(pg_url, clock, monkeypatch) as nodes:
        sharing_data.load(
            nodes.services_a,
            sharing_data.user("alice", "E-A", "U1000001", sharing_data.sms()),
            sharing_data.user("alice2", "E-A", "U1000002", sharing_data.code_card("SCC-B")),
        )
        token = session_token(nodes.services_a, "alice2", "code_card")
        key = TestApp(clock)
        key.activate(nodes.api_a, nodes.services_a, username="alice")
        started = nodes.api_a.post(
            "/api/v1/share-requests",
            json={"owner": "alice", "owner_password": PASSWORD}
            | {"device_id": key.devices["alice"]},
            headers=bearer(token),
        )
        assert started.status_code == 201, started.json()
        number = started.json()["factor"]["prompt"]["number"]
        [pending] = key.pushes(nodes.api_a)

        def approve() -> None:
            approved = key.answer(nodes.api_a, pending, "approve", number)
            assert approved.status_code == 200, approved.text

        answered = nodes.held_by_b(
            hubs(nodes.services_b).shares,
            f"/api/v1/share-requests/{started.json()['request_id']}",
            bearer(token),
            approve,
        )
        assert answered.get("status") == "approved", answered


@pytest.mark.postgres
def test_R_WD_4_a_typed_confirmation_on_one_server_wakes_the_long_poll_on_another(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SMS code typed to A's ``POST …/confirm`` completes the ``?wait=`` held by B."""
    with two_nodes(pg_url, clock, monkeypatch) as nodes:
        load_withdrawers(nodes.services_a, {"maya": ["sms"]})
        token = session_token(nodes.services_a, "maya", "sms")
        started = nodes.api_a.post(
            "/api/v1/withdrawals",
            json={"account": ACCOUNT, "amount": "25.00", "destination": "Chase ****1234"},
            headers=bearer(token) | {"Idempotency-Key": "w-typed"},
        )
        assert started.status_code == 201, started.json()
        withdrawal_id = started.json()["withdrawal_id"]
        code = answer(nodes.services_a, "sms", started.json()["factor"]["prompt"])

        def confirm() -> None:
            confirmed = nodes.api_a.post(
                f"/api/v1/withdrawals/{withdrawal_id}/confirm",
                json={"response": code},
                headers=bearer(token),
            )
            assert confirmed.status_code == 200, confirmed.text

        answered = nodes.held_by_b(
            hubs(nodes.services_b).withdrawals,
            f"/api/v1/withdrawals/{withdrawal_id}",
            bearer(token),
            confirm,
        )
        assert answered.get("status") == "accepted", answered
