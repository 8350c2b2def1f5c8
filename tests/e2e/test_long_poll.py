"""``GET /api/v1/logins/{id}?wait=S`` at scale (R-KEY-4, issue 4): the re-poll of a login
this process keeps as pending waits again without a query, the kept answer never hides an
approval, a resend or an expiry, and first reads cannot take every thread.  SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from securelogin.adapters.db.uow import SqlDatabase
from securelogin.entrypoints.api import waits
from securelogin.entrypoints.api.waits import LoginWaits, hubs
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp


@pytest.fixture
def app(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    key = TestApp(clock)
    key.activate(api, services)
    return key


@pytest.fixture
def login_reads(services: Services) -> Iterator[list[str]]:
    """The SQL statements that read a login row one at a time (``login_state``'s first
    query); the poller's one query for all waiters reads them with ``IN``."""
    engine = services.database.engine if isinstance(services.database, SqlDatabase) else None
    assert engine is not None
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        flat = " ".join(statement.split())
        if "FROM logins " in flat and "WHERE logins.id =" in flat:
            seen.append(flat)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def start(api: TestClient) -> dict[str, Any]:
    got = api.post(
        "/api/v1/logins", json={"username": "alice", "password": PASSWORD, "platform": "portal"}
    )
    assert got.status_code == 201, got.json()
    assert got.json()["factor"]["prompt"]["type"] == "push"
    return dict(got.json())


def poll(api: TestClient, login_id: str, wait: float) -> dict[str, Any]:
    got = api.get(f"/api/v1/logins/{login_id}", params={"wait": wait})
    assert got.status_code == 200, got.json()
    return dict(got.json())


def later(seconds: float, action: Any) -> threading.Timer:
    """``action`` from another thread, as another server process would act (join the
    timer before looking at what the action returned: the long-poll may end first)."""
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_R_KEY_4_the_re_poll_of_a_pending_login_waits_again_without_a_query(
    api: TestClient, services: Services, app: TestApp, login_reads: list[str]
) -> None:
    lid = start(api)["login_id"]
    login_reads.clear()
    first = poll(api, lid, 0.2)
    assert first["status"] == "challenge" and len(login_reads) == 1
    assert hubs(services).logins.kept == 1
    again = poll(api, lid, 0.2)
    assert again == first  # the same answer from no read at all
    assert len(login_reads) == 1
    assert api.get(f"/api/v1/logins/{lid}").json() == first  # wait=0 always reads
    assert len(login_reads) == 2


def test_R_KEY_4_an_approval_elsewhere_while_the_answer_is_kept_completes_the_long_poll(
    api: TestClient, services: Services, app: TestApp, login_reads: list[str]
) -> None:
    login_ = start(api)
    lid, number = login_["login_id"], login_["factor"]["prompt"]["number"]
    assert poll(api, lid, 0.1)["status"] == "challenge"
    [pending] = app.pushes(api)
    body = app.answer_body(pending, "approve", number)
    with services.uow() as uow:
        app_row = uow.mobile_keys.app(app.app_id)
    assert app_row is not None
    answering = later(
        0.3, lambda: push.answer_push(services, app_row, push_id=pending["push_id"], **body)
    )
    began = time.monotonic()
    done = poll(api, lid, 10)  # served from the kept answer, then woken by the poller
    waited = time.monotonic() - began
    answering.join(timeout=10)
    assert done["status"] == "authenticated" and done["session"]["token"]
    assert waited < 3
    assert hubs(services).logins.kept == 0
    again = poll(api, lid, 0.1)
    assert again["status"] == "authenticated" and again["session"] is None  # handed out once


def test_R_KEY_4_an_approval_through_this_process_wakes_the_kept_long_poll_at_once(
    api: TestClient, services: Services, app: TestApp
) -> None:
    login_ = start(api)
    lid, number = login_["login_id"], login_["factor"]["prompt"]["number"]
    assert poll(api, lid, 0.1)["status"] == "challenge"
    [pending] = app.pushes(api)
    answered: list[int] = []
    answering = later(
        0.3, lambda: answered.append(app.answer(api, pending, number=number).status_code)
    )
    began = time.monotonic()
    done = poll(api, lid, 10)
    waited = time.monotonic() - began
    answering.join(timeout=10)
    assert done["status"] == "authenticated" and done["session"]["token"]
    assert answered == [200] and waited < 3


def test_R_KEY_4_a_resend_elsewhere_is_seen_by_the_next_poller_pass(
    api: TestClient, services: Services, app: TestApp, login_reads: list[str]
) -> None:
    """The kept answer stands only for "still this challenge": a new push (another
    process's resend) moves the login's challenge mark and the waiter reads again."""
    lid = start(api)["login_id"]
    assert poll(api, lid, 0.1)["factor"]["prompt"]["type"] == "push"
    fresh = login.resend_code(services, lid)  # as another process: no notify here
    reads = len(login_reads)
    # kept answer, then the poller's pass (every 0.5 s) finds the new push and wakes the
    # waiter; the wait is long so that a busy machine's late pass still comes before it
    after = poll(api, lid, 8)
    assert after["status"] == "challenge"
    assert after["factor"]["prompt"] == {"type": "push", "number": fresh.prompt.number}
    assert len(login_reads) == reads + 1  # the woken waiter's one read


def test_R_LOGIN_5_a_fallback_through_this_process_replaces_the_kept_answer_at_once(
    api: TestClient, services: Services, app: TestApp, login_reads: list[str]
) -> None:
    lid = start(api)["login_id"]
    assert poll(api, lid, 0.1)["factor"]["prompt"]["type"] == "push"
    fallback = api.post(f"/api/v1/logins/{lid}/fallback").json()["prompt"]
    assert hubs(services).logins.kept == 0
    assert poll(api, lid, 0.1)["factor"]["prompt"] == fallback


def test_R_LOGIN_5_a_kept_answer_ends_with_its_login_on_the_injected_clock(
    api: TestClient, services: Services, app: TestApp, clock: FakeClock
) -> None:
    lid = start(api)["login_id"]
    assert poll(api, lid, 0.1)["status"] == "challenge"
    clock.advance(minutes=3, seconds=1)
    assert poll(api, lid, 0.1)["status"] == "expired"
    assert hubs(services).logins.kept == 0


def test_an_unknown_login_still_answers_404_and_is_neither_kept_nor_waited(
    api: TestClient, services: Services, app: TestApp
) -> None:
    for wait in (0, 5):
        got = api.get("/api/v1/logins/lg_nope", params={"wait": wait})
        assert got.status_code == 404 and got.json()["code"] == "login_not_found"
    hub = hubs(services).logins
    assert hub.kept == 0 and hub.waiting == 0


def test_kept_answers_are_bounded_and_dropped_after_their_waiters_leave(
    services: Services, clock: FakeClock
) -> None:
    ticks = [0.0]
    seen: list[list[str]] = []

    def changes(ids: list[str]) -> dict[str, int | None]:
        seen.append(sorted(ids))
        return dict.fromkeys(ids, 1)

    hub = LoginWaits(
        changes, interval=0.01, clock=clock.now, keep=10, limit=2, monotonic=lambda: ticks[0]
    )
    until = clock.now().replace(year=clock.now().year + 1)

    def state(n: int) -> login.LoginState:
        return login.LoginState(
            login_id=f"lg_{n}", status="challenge", expires_at=until, challenge_mark=1
        )

    async def scenario() -> None:
        with hub.watch("lg_1"):
            for n in (1, 2, 3):
                hub.remember(state(n))
            assert hub.kept == 2 and hub.recall("lg_1") is None  # the oldest went first
            hub.remember(login.LoginState(login_id="lg_9", status="denied"))
            assert hub.kept == 2  # only "challenge" answers are kept
            await asyncio.sleep(0.05)  # the poller checks kept logins too
            assert ["lg_1", "lg_2", "lg_3"] in seen
        ticks[0] = 9.5
        await asyncio.sleep(0.05)
        assert hub.kept == 2  # kept a while for the client's re-poll
        ticks[0] = 10.5  # the waiters left more than ``keep`` seconds ago
        await asyncio.sleep(0.05)
        assert hub.kept == 0

    asyncio.run(scenario())


def test_first_reads_take_a_few_threads_and_leave_the_rest_to_approvals(
    services: Services, clock: FakeClock
) -> None:
    """10,000 clients re-polling together must not queue an approval behind their reads."""
    from fastapi.concurrency import run_in_threadpool

    hub = LoginWaits(lambda ids: {}, interval=1, clock=clock.now)
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def blocked_read() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        release.wait(10)
        with lock:
            running[0] -= 1

    async def scenario() -> None:
        reads = [asyncio.create_task(hub.first_read(blocked_read)) for _ in range(30)]
        for _ in range(500):
            if running[0] == waits.FIRST_READS:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # room for a read beyond the limit to (wrongly) start
        approval = await asyncio.wait_for(run_in_threadpool(lambda: "approved"), 2)
        assert approval == "approved" and running[0] == waits.FIRST_READS
        release.set()
        await asyncio.gather(*reads)

    asyncio.run(scenario())
    assert running == [0, waits.FIRST_READS]
