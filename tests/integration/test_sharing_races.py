"""R-SHARE-4 on PostgreSQL: two compliance decisions on one share request at the same
moment make exactly one decision.

Both deciders read the request while it is still ``pending_compliance`` (a barrier holds
each one right after its read), then both try to decide.  The conditional UPDATE (``…
WHERE status = 'pending_compliance'``) makes the second one block on the first one's row
lock and then find nothing to update.  The same test with that guard switched off
(``GUARD_DECISIONS = False``) records two decisions: it is marked xfail-strict, so the
test proves that the guard, not luck, keeps a request decided once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from securelogin.adapters.db import sharing as sharing_adapter
from securelogin.bootstrap import bootstrap
from securelogin.errors import ShareRequestDecided
from securelogin.service.context import Services
from securelogin.service.lifecycle import sharing
from securelogin.service.sharing_ports import ShareRequestRow
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.fakes import FakeClock
from tests.integration.sharing_data import (
    CORA,
    PASSWORD,
    answer,
    code_card,
    devices_of,
    dsc_plus,
    load,
    user,
    user_id,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_services(pg_url: str, clock: FakeClock) -> Iterator[Services]:
    wired = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    load(
        wired,
        user("alice", "E-A", "U1000001", dsc_plus("DP-A")),
        user("twin", "E-T", "U2000001", code_card("SCC-T")),
    )
    yield wired
    wired.database.close()


def waiting_request(services: Services, clock: FakeClock) -> str:
    twin = user_id(services, "twin")
    started = sharing.start_share(
        services, requester_id=twin, owner_username="alice", owner_password=PASSWORD
    )
    device = devices_of(services, "alice")[0]
    view = sharing.answer_share(
        services,
        requester_id=twin,
        request_id=started.request_id,
        response=answer(services, started.factor, device, clock.now()),
    )
    assert view.status == "pending_compliance"
    return started.request_id


@pytest.mark.parametrize(
    "decisions", [(True, True), (True, False)], ids=["approve+approve", "approve+reject"]
)
@pytest.mark.parametrize(
    "guarded",
    [
        True,
        pytest.param(
            False,
            marks=pytest.mark.xfail(strict=True, reason="without the guard both decide"),
            id="guard-removed",
        ),
    ],
)
def test_R_SHARE_4_two_concurrent_decisions_make_exactly_one(
    pg_services: Services,
    pg_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    decisions: tuple[bool, bool],
    guarded: bool,
) -> None:
    request_id = waiting_request(pg_services, clock)
    monkeypatch.setattr(sharing_adapter, "GUARD_DECISIONS", guarded)
    barrier = threading.Barrier(len(decisions), timeout=10)
    seen = threading.local()
    original = sharing_adapter.SqlSharing.request

    def request_then_wait(
        self: sharing_adapter.SqlSharing, public_id: str
    ) -> ShareRequestRow | None:
        row = original(self, public_id)
        if not getattr(seen, "done", False):  # only the decision's own read waits
            seen.done = True
            barrier.wait()
        return row

    monkeypatch.setattr(sharing_adapter.SqlSharing, "request", request_then_wait)

    def decide(approve: bool) -> str:
        try:
            view = sharing.decide(
                pg_services, CORA, request_id=request_id, approve=approve, reason="reviewed"
            )
        except ShareRequestDecided as exc:
            return exc.code
        return view.status

    with ThreadPoolExecutor(max_workers=len(decisions)) as pool:
        outcomes = list(pool.map(decide, decisions))

    assert outcomes.count("share_request_decided") == 1, outcomes
    recorded = scalar(
        pg_url,
        "SELECT count(*) FROM audit_events WHERE action IN ('share.approved', 'share.rejected')",
    )
    assert recorded == 1
