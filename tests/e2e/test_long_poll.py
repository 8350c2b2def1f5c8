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

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from securelogin.adapters.db.uow import SqlDatabase
from securelogin.entrypoints.api import waits
from securelogin.entrypoints.api.waits import LoginWaits, hubs
from securelogin.errors import SecureLoginError
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
    """The SQL statements that read login rows by id: one at a time (``login_state``'s
    first query) or many with ``IN`` (the long-polls' first reads together, joined to the
    challenges' devices); the poller's query for all waiters is not one of them."""
    engine = services.database.engine if isinstance(services.database, SqlDatabase) else None
    assert engine is not None
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        flat = " ".join(statement.split())
        if "FROM logins " in flat and ("WHERE logins.id =" in flat or "JOIN devices" in flat):
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
        changes,
        states=lambda ids: {},
        interval=0.01,
        clock=clock.now,
        keep=10,
        limit=2,
        monotonic=lambda: ticks[0],
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
    """10,000 clients re-polling together must not queue an approval behind their reads:
    the batches and the logins read alone (here every one: the batch query finds none)
    run in at most ``FIRST_READS`` threads."""
    from fastapi.concurrency import run_in_threadpool

    hub = LoginWaits(lambda ids: {}, states=lambda ids: {}, interval=1, clock=clock.now)
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def blocked_read() -> login.LoginState:
        with lock:
            running[0] += 1
            running[1] = max(running)
        release.wait(10)
        with lock:
            running[0] -= 1
        return login.LoginState(login_id="lg_x", status="denied")

    async def scenario() -> None:
        reads = [asyncio.create_task(hub.first_read(f"lg_{n}", blocked_read)) for n in range(30)]
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


# --- first reads coalesced (issue 14, target 4) -----------------------------------------


@pytest.fixture
def statements(services: Services) -> Iterator[list[str]]:
    """Every SQL statement the database is sent from now on."""
    engine = services.database.engine if isinstance(services.database, SqlDatabase) else None
    assert engine is not None
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def first_reads(services: Services, login_ids: list[str]) -> list[login.LoginState | str]:
    """The long-polls' first reads of ``login_ids``, all arriving in one event-loop turn
    (as the requests a burst of connections brings): each state, or its error's code."""
    hub = hubs(services).logins

    async def one(login_id: str) -> login.LoginState | str:
        try:
            return await hub.first_read(login_id, lambda: login.login_state(services, login_id))
        except SecureLoginError as exc:
            return exc.code

    async def together() -> list[login.LoginState | str]:
        return list(await asyncio.gather(*(one(i) for i in login_ids)))

    return asyncio.run(together())


def test_R_KEY_4_long_polls_arriving_together_are_first_read_by_one_query(
    api: TestClient, services: Services, app: TestApp, statements: list[str]
) -> None:
    ids = [start(api)["login_id"] for _ in range(40)]
    alone = [login.login_state(services, i) for i in ids]  # what each read alone says
    statements.clear()
    together = first_reads(services, ids)
    assert together == alone
    reads = [s for s in statements if "FROM logins" in s]
    assert len(reads) == 1 and "IN (" in reads[0]  # one read alone each would be 40
    assert len(statements) <= 2  # that query (and a BEGIN where the driver sends one)


def test_R_KEY_4_a_coalesced_first_read_answers_each_login_as_a_read_alone_would(
    api: TestClient,
    services: Services,
    app: TestApp,
    clock: FakeClock,
    statements: list[str],
) -> None:
    """Pending, approved (its session handed out once), unknown, then expired: the batch
    answers what needs no write and leaves the rest to the read alone."""
    approved = start(api)
    [push_] = app.pushes(api)
    assert app.answer(api, push_, number=approved["factor"]["prompt"]["number"]).status_code == 200
    pending = [start(api)["login_id"] for _ in range(3)]
    ids = [*pending, approved["login_id"], "lg_nope"]
    statements.clear()
    got = first_reads(services, ids)
    assert [g.status if isinstance(g, login.LoginState) else g for g in got] == [
        "challenge",
        "challenge",
        "challenge",
        "authenticated",
        "login_not_found",
    ]
    assert [g == login.login_state(services, i) for g, i in zip(got[:3], ids, strict=False)] == [
        True
    ] * 3
    handed = got[3]
    assert isinstance(handed, login.LoginState) and handed.session is not None
    again = login.login_state(services, approved["login_id"])
    assert again.status == "authenticated" and again.session is None  # handed out once
    clock.advance(minutes=3, seconds=1)
    statements.clear()
    expired = first_reads(services, pending)
    assert expired == [login.LoginState(login_id=i, status="expired") for i in pending]
    assert len([s for s in statements if "FROM logins" in s]) == 1


def test_R_KEY_4_long_polls_through_the_app_arriving_together_share_their_first_read(
    api: TestClient, services: Services, app: TestApp, login_reads: list[str]
) -> None:
    """The same through the real routes: 30 long-polls sent at once read their logins
    with the ``IN`` query, none with a read of its own."""
    ids = [start(api)["login_id"] for _ in range(30)]
    login_reads.clear()

    async def together() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            got = await asyncio.gather(
                *(client.get(f"/api/v1/logins/{i}", params={"wait": 0.2}) for i in ids)
            )
        assert all(g.status_code == 200 for g in got)
        return [dict(g.json()) for g in got]

    answers = asyncio.run(together())
    assert [a["login_id"] for a in answers] == ids
    assert {a["status"] for a in answers} == {"challenge"}
    assert login_reads  # read …
    assert not [r for r in login_reads if "WHERE logins.id =" in r]  # … none of them alone


def test_R_KEY_4_long_polls_arriving_while_the_first_reads_run_wait_for_one_batch(
    clock: FakeClock,
) -> None:
    """The reads in flight take every place (``FIRST_READS``); the 50 long-polls that
    arrive meanwhile are read together by the next query, not one by one."""
    release = threading.Event()
    calls: list[list[str]] = []

    def states(ids: list[str]) -> dict[str, login.LoginState]:
        calls.append(ids)
        release.wait(10)
        return {i: login.LoginState(login_id=i, status="denied") for i in ids}

    hub = LoginWaits(lambda ids: {}, states=states, interval=1, clock=clock.now)

    def alone() -> login.LoginState:
        raise AssertionError("every login is in its batch")

    async def scenario() -> list[login.LoginState]:
        first = []
        for n in range(waits.FIRST_READS):  # each alone: a place was free
            first.append(asyncio.create_task(hub.first_read(f"lg_{n}", alone)))
            for _ in range(200):
                if len(calls) == n + 1:
                    break
                await asyncio.sleep(0.01)
        later = [asyncio.create_task(hub.first_read(f"lg_x{n}", alone)) for n in range(50)]
        await asyncio.sleep(0.1)  # room for a read of its own to (wrongly) start
        assert len(calls) == waits.FIRST_READS
        release.set()
        return list(await asyncio.gather(*first, *later))

    got = asyncio.run(scenario())
    assert [s.status for s in got] == ["denied"] * (waits.FIRST_READS + 50)
    assert [len(c) for c in calls] == [1] * waits.FIRST_READS + [50]
