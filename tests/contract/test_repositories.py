"""One contract for the repositories that have an in-memory twin (tests/fake_uow.py),
run against the fake, SQLite and PostgreSQL: what the service tests on fakes assume is
exactly what the SQL adapters do (STYLE.md rule 10)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from securelogin.bootstrap import bootstrap
from securelogin.domain.audit import AuditEvent, check_chain
from securelogin.errors import Conflict
from securelogin.service.context import Services
from securelogin.service.login_ports import FailureCounter, Lockout
from securelogin.service.ports import UnitOfWork
from tests.conftest import ON_EVERY_STORE, make_settings
from tests.fakes import FakeClock

Uow = Callable[[], UnitOfWork]


@pytest.fixture(params=ON_EVERY_STORE)
def uow(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Uow]:
    if request.param == "fake":
        services: Services = request.getfixturevalue("fake_services")
        yield services.uow
        return
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    wired = bootstrap(make_settings(url), clock=clock)
    try:
        yield wired.uow
    finally:
        wired.database.close()


def add_operator(uow: Uow, clock: FakeClock, name: str = "hannah") -> int:
    with uow() as work:
        new_id = work.operators.add(
            username=name,
            password_hash="h",
            totp_secret=b"sealed",
            roles=frozenset({"helpdesk"}),
            at=clock.now(),
        )
        work.commit()
    return new_id


# -- the unit of work ---------------------------------------------------------------------


def test_a_unit_of_work_writes_only_when_committed(uow: Uow, clock: FakeClock) -> None:
    with uow() as work:
        work.operators.add(
            username="ghost", password_hash="h", totp_secret=b"s", roles=frozenset(), at=clock.now()
        )
        work.outbox.enqueue(channel="sms", to="+15550000001", text="hello")
        work.audit.record(AuditEvent(action="test", actor="t", subject="s"))
    with pytest.raises(RuntimeError), uow() as work:
        work.outbox.enqueue(channel="sms", to="+15550000001", text="hello")
        raise RuntimeError("boom")
    with uow() as work:
        assert work.operators.by_username("ghost") is None
        assert work.outbox.recent(to=None, limit=10) == []
        assert list(work.audit.chain()) == []


# -- operators (service/operator_ports.py) -------------------------------------------------


def test_operators_are_found_by_name_and_id_and_listed_by_name(uow: Uow, clock: FakeClock) -> None:
    zed = add_operator(uow, clock, "zed")
    amy = add_operator(uow, clock, "amy")
    with uow() as work:
        row = work.operators.by_id(zed)
        assert row is not None and row.username == "zed" and row.roles == {"helpdesk"}
        assert not row.disabled and row.password_failures == 0 and row.last_totp_step is None
        found = work.operators.by_username("amy")
        assert found is not None and found.id == amy
        assert [o.username for o in work.operators.all()] == ["amy", "zed"]
        assert work.operators.by_username("nobody") is None and work.operators.by_id(999) is None


def test_a_second_operator_with_the_same_name_is_a_conflict(uow: Uow, clock: FakeClock) -> None:
    add_operator(uow, clock, "hannah")
    with uow() as work:
        with pytest.raises(Conflict):
            work.operators.add(
                username="hannah",
                password_hash="x",
                totp_secret=b"",
                roles=frozenset(),
                at=clock.now(),
            )
        assert len(work.operators.all()) == 1


def test_disabling_twice_is_reported_as_a_double_action(uow: Uow, clock: FakeClock) -> None:
    op = add_operator(uow, clock)
    with uow() as work:
        assert work.operators.set_disabled(op, disabled=True) is True
        assert work.operators.set_disabled(op, disabled=True) is False
        assert work.operators.set_disabled(op, disabled=False) is True
        work.operators.set_totp_secret(op, b"new")
        row = work.operators.by_id(op)
        assert row is not None and row.totp_secret == b"new" and not row.disabled


def test_R_LOGIN_3_failures_count_up_to_the_threshold_then_refuse(
    uow: Uow, clock: FakeClock
) -> None:
    op = add_operator(uow, clock)
    lockout = Lockout(threshold=3, window_start=clock.now() - timedelta(hours=24))
    with uow() as work:
        counted = [
            work.operators.reserve_failure(
                op, FailureCounter.PASSWORD, now=clock.now(), lockout=lockout
            )
            for _ in range(4)
        ]
        assert counted == [1, 2, 3, None]
        # a lock on one counter also refuses the other one
        assert (
            work.operators.reserve_failure(
                op, FailureCounter.FACTOR, now=clock.now(), lockout=lockout
            )
            is None
        )
        work.operators.clear_failures(op, FailureCounter.PASSWORD)
        assert (
            work.operators.reserve_failure(
                op, FailureCounter.FACTOR, now=clock.now(), lockout=lockout
            )
            == 1
        )
        work.commit()


def test_R_LOGIN_3_failures_older_than_the_window_start_again_from_one(
    uow: Uow, clock: FakeClock
) -> None:
    op = add_operator(uow, clock)
    first = clock.now()
    with uow() as work:
        lockout = Lockout(threshold=10, window_start=first - timedelta(hours=24))
        for _ in range(5):
            work.operators.reserve_failure(op, FailureCounter.FACTOR, now=first, lockout=lockout)
        work.commit()
    clock.advance(hours=25)
    with uow() as work:
        lockout = Lockout(threshold=10, window_start=clock.now() - timedelta(hours=24))
        again = work.operators.reserve_failure(
            op, FailureCounter.FACTOR, now=clock.now(), lockout=lockout
        )
        assert again == 1


def test_R_LOGIN_6_a_totp_step_is_accepted_once_and_never_an_older_one(
    uow: Uow, clock: FakeClock
) -> None:
    op = add_operator(uow, clock)
    with uow() as work:
        assert work.operators.advance_totp_step(op, 100) is True
        assert work.operators.advance_totp_step(op, 100) is False
        assert work.operators.advance_totp_step(op, 99) is False
        assert work.operators.advance_totp_step(op, 101) is True
        row = work.operators.by_id(op)
        assert row is not None and row.last_totp_step == 101


def test_a_console_session_moves_to_active_once_and_revokes(uow: Uow, clock: FakeClock) -> None:
    op = add_operator(uow, clock)
    now, later = clock.now(), clock.now() + timedelta(hours=1)
    with uow() as work:
        sid = work.operators.add_session(
            token_hash="a" * 64, operator_id=op, stage="totp", now=now, expires_at=later
        )
        other = work.operators.add_session(
            token_hash="b" * 64, operator_id=op, stage="active", now=now, expires_at=later
        )
        assert work.operators.promote_session(sid, token_hash="c" * 64, now=now, expires_at=later)
        assert not work.operators.promote_session(
            sid, token_hash="d" * 64, now=now, expires_at=later
        )
        assert work.operators.session_by_token_hash("a" * 64) is None
        promoted = work.operators.session_by_token_hash("c" * 64)
        assert promoted is not None and promoted.id == sid and promoted.stage == "active"
        work.operators.touch_session(other, now=later)
        touched = work.operators.session_by_token_hash("b" * 64)
        assert touched is not None and touched.last_seen_at == later
        work.operators.revoke_session(sid, now=later)
        assert work.operators.revoke_sessions_of(op, now=later) == 1  # only `other` was live
        assert work.operators.revoke_sessions_of(op, now=later) == 0
        revoked = work.operators.session_by_token_hash("c" * 64)
        assert revoked is not None and revoked.revoked_at == later


# -- the audit chain and the outbox ----------------------------------------------------------


def test_R_OPS_6_audit_events_are_chained_at_commit(uow: Uow, clock: FakeClock) -> None:
    for i in range(3):
        with uow() as work:
            work.audit.record(AuditEvent(action="test", actor="t", subject=f"s{i}", data={"i": i}))
            work.commit()
    with uow() as work:
        rows = list(work.audit.chain())
        head_id, head_hash = work.audit.head()
    assert [r.id for r in rows] == [1, 2, 3] and [r.event.subject for r in rows] == [
        "s0",
        "s1",
        "s2",
    ]
    checked = check_chain(rows, head_id=head_id, head_hash=head_hash)
    assert checked.first_bad_id is None and checked.events == 3


def test_R_OPS_5_outbox_claims_lease_and_finish_messages(uow: Uow, clock: FakeClock) -> None:
    with uow() as work:
        for n in range(3):
            work.outbox.enqueue(channel="sms", to=f"+1555000000{n}", text=f"code {n}")
        work.outbox.enqueue(channel="mail", to="a@example.com", text="mail")
        work.commit()
    now = clock.now()
    with uow() as work:
        claimed = work.outbox.claim_due(now=now, limit=2, lease_seconds=60, channels=["sms"])
        assert [m.text for m in claimed] == ["code 0", "code 1"]
        # leased: not due again until the lease ends
        rest = work.outbox.claim_due(now=now, limit=10, lease_seconds=60, channels=["sms"])
        assert [m.text for m in rest] == ["code 2"]
        work.outbox.mark_sent(claimed[0].id, now=now, keep_text=False)
        work.outbox.mark_failed(claimed[1].id, error="x" * 600, retry_at=None, keep_text=False)
        work.outbox.mark_failed(rest[0].id, error="timeout", retry_at=now + timedelta(seconds=5))
        work.commit()
    with uow() as work:
        sms = work.outbox.recent(to=None, limit=10, channels=["sms"])
        assert [(m.text, m.attempts) for m in sms] == [
            ("[delivered]", 0),
            ("[undelivered]", 1),
            ("code 2", 1),
        ]
        assert sms[0].sent_at == now and sms[1].last_error == "x" * 500
        assert [m.text for m in work.outbox.recent(to="+15550000002", limit=5)] == ["code 2"]
        assert [m.text for m in work.outbox.recent(to=None, limit=1)] == ["mail"]
        assert work.outbox.claim_due(now=now, limit=10, lease_seconds=60, channels=["sms"]) == []
        later = work.outbox.claim_due(now=now + timedelta(seconds=61), limit=10, lease_seconds=60)
        assert [m.text for m in later] == ["code 2", "mail"]
