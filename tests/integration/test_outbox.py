"""The outbox on SQLite and PostgreSQL (R-OPS-4, R-OPS-5): messages written in a unit of
work are delivered after its commit, retried with backoff, given up after the maximum
number of attempts, never sent twice by two processes, and one-time codes do not stay
in the database once a production gateway took them.  Time moves only with the fake
clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event

from securelogin.bootstrap import bootstrap
from securelogin.errors import DeliveryFailed
from securelogin.service.context import Services
from securelogin.service.notifications import DeliveryReport, deliver_due, recent_messages
from securelogin.service.ports import OutboxMessage
from tests.conftest import make_settings
from tests.fakes import FakeClock, RecordingMail, RecordingSms

PHONE = "+15551230001"
OTHER = "+15551230002"
CODE = "Your securelogin code is 482913"
UNAVAILABLE = DeliveryFailed("SMS gateway answered 503: Service Unavailable", retryable=True)


def enqueue(services: Services, *messages: tuple[str, str, str]) -> None:
    with services.uow() as uow:
        for channel, to, text in messages:
            uow.outbox.enqueue(channel=channel, to=to, text=text)
        uow.commit()


def stored(services: Services, to: str | None = None) -> list[OutboxMessage]:
    """Every row, whatever its channel, oldest first."""
    with services.uow() as uow:
        return uow.outbox.recent(to=to, limit=1000)


def only(services: Services, to: str = PHONE) -> OutboxMessage:
    [message] = stored(services, to)
    return message


@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


@pytest.fixture
def wired(services: Services, sms: RecordingSms) -> Services:
    """The services with a production-like recording SMS gateway."""
    return replace(services, sms=sms)


def test_R_OPS_5_a_committed_sms_is_delivered_after_the_commit(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    enqueue(wired, ("sms", PHONE, CODE))
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=0)
    assert sms.sent == [(PHONE, CODE)]
    message = only(wired)
    assert message.sent_at == clock.now()
    assert message.attempts == 0
    assert deliver_due(wired) == DeliveryReport(sent=0, failed=0)
    assert len(sms.sent) == 1


def test_R_OPS_5_an_uncommitted_message_is_never_delivered(
    wired: Services, sms: RecordingSms
) -> None:
    with wired.uow() as uow:
        uow.outbox.enqueue(channel="sms", to=PHONE, text=CODE)
    assert deliver_due(wired) == DeliveryReport()
    assert sms.sent == []


def test_R_OPS_5_a_failed_message_is_retried_after_a_growing_backoff(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    sms.fail(PHONE, UNAVAILABLE, times=2)
    enqueue(wired, ("sms", PHONE, CODE))
    assert deliver_due(wired) == DeliveryReport(sent=0, failed=1)
    message = only(wired)
    assert (message.sent_at, message.attempts) == (None, 1)
    assert message.last_error == UNAVAILABLE.message
    assert message.text == CODE  # still to be sent

    clock.advance(seconds=29)
    assert deliver_due(wired) == DeliveryReport()
    clock.advance(seconds=1)
    assert deliver_due(wired) == DeliveryReport(sent=0, failed=1)
    assert only(wired).attempts == 2

    clock.advance(seconds=119)
    assert deliver_due(wired) == DeliveryReport()
    clock.advance(seconds=1)
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=0)
    assert sms.sent == [(PHONE, CODE)]
    assert only(wired).sent_at == clock.now()


def test_R_OPS_5_a_message_is_given_up_after_the_maximum_attempts(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    wired = replace(wired, policy=replace(wired.policy, outbox_max_attempts=3))
    sms.fail(PHONE, UNAVAILABLE, times=100)
    enqueue(wired, ("sms", PHONE, CODE))
    for _ in range(3):
        assert deliver_due(wired) == DeliveryReport(sent=0, failed=1)
        clock.advance(days=1)
    clock.advance(days=365)
    assert deliver_due(wired) == DeliveryReport()
    message = only(wired)
    assert (message.sent_at, message.attempts) == (None, 3)
    assert message.last_error is not None
    assert message.last_error.startswith("gave up after 3 attempts: SMS gateway answered 503")
    assert message.text == "[undelivered]"  # the code does not stay at rest


def test_R_OPS_5_a_message_the_gateway_refuses_for_good_is_given_up_at_once(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    sms.fail(PHONE, DeliveryFailed("SMS gateway answered 400: bad number", retryable=False))
    enqueue(wired, ("sms", PHONE, CODE))
    assert deliver_due(wired) == DeliveryReport(sent=0, failed=1)
    clock.advance(days=1)
    assert deliver_due(wired) == DeliveryReport()
    message = only(wired)
    assert message.attempts == 1
    assert message.last_error == "gave up after 1 attempt: SMS gateway answered 400: bad number"


def test_R_OPS_5_one_bad_message_does_not_block_the_next(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    third = "+15551230003"
    sms.fail(PHONE, RuntimeError("adapter bug"))
    sms.fail(OTHER, UNAVAILABLE)
    enqueue(wired, ("sms", PHONE, "one"), ("sms", OTHER, "two"), ("sms", third, "three"))
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=2)
    assert sms.sent == [(third, "three")]
    assert only(wired, PHONE).last_error == "RuntimeError: adapter bug"
    assert only(wired, OTHER).last_error == UNAVAILABLE.message
    clock.advance(seconds=30)
    assert deliver_due(wired) == DeliveryReport(sent=2, failed=0)
    assert sorted(sms.sent) == sorted([(PHONE, "one"), (OTHER, "two"), (third, "three")])


def test_R_OPS_5_production_gateways_redact_the_text_after_sending(
    wired: Services,
) -> None:
    enqueue(wired, ("sms", PHONE, CODE))
    deliver_due(wired)
    message = only(wired)
    assert message.text == "[delivered]"
    assert message.sent_at is not None


def test_R_OPS_5_the_development_outbox_keeps_the_text_for_a_person_to_read(
    services: Services, clock: FakeClock
) -> None:
    enqueue(services, ("sms", PHONE, CODE), ("email", "ann@example.test", "Code\n\n482913"))
    assert deliver_due(services) == DeliveryReport(sent=2, failed=0)
    assert [(m.text, m.sent_at) for m in recent_messages(services)] == [
        (CODE, clock.now()),
        ("Code\n\n482913", clock.now()),
    ]


def test_an_email_goes_through_the_mail_gateway_with_its_subject(wired: Services) -> None:
    mail = RecordingMail()
    wired = replace(wired, mail=mail)
    enqueue(wired, ("email", "ann@example.test", "Your new device\n\nIt ships today.\n"))
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=0)
    assert mail.sent == [("ann@example.test", "Your new device", "It ships today.")]
    assert only(wired, "ann@example.test").text == "[delivered]"


def test_recent_messages_are_oldest_first_per_recipient_and_only_sms_and_email(
    wired: Services, sms: RecordingSms
) -> None:
    enqueue(
        wired,
        ("sms", PHONE, "first"),
        ("email", "ann@example.test", "mail"),
        ("push", PHONE, "a push, delivered by its own channel"),
        ("sms", PHONE, "second"),
    )
    assert [m.text for m in recent_messages(wired)] == ["first", "mail", "second"]
    assert [m.text for m in recent_messages(wired, to=PHONE)] == ["first", "second"]
    assert [m.text for m in recent_messages(wired, limit=1)] == ["second"]
    deliver_due(replace(wired, mail=RecordingMail()))
    push = [m for m in stored(wired) if m.channel == "push"]
    assert [(m.sent_at, m.attempts) for m in push] == [(None, 0)]  # left to its own channel


def test_R_OPS_4_a_message_being_sent_is_leased_so_a_second_pass_skips_it(
    wired: Services, sms: RecordingSms
) -> None:
    enqueue(wired, ("sms", PHONE, CODE))
    inner: list[DeliveryReport] = []

    def second_process_runs_meanwhile() -> None:
        sms.on_send = None
        inner.append(deliver_due(wired))

    sms.on_send = second_process_runs_meanwhile
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=0)
    assert inner == [DeliveryReport()]
    assert sms.sent == [(PHONE, CODE)]


def test_R_OPS_4_a_message_claimed_by_a_process_that_died_is_sent_after_its_lease(
    wired: Services, sms: RecordingSms, clock: FakeClock
) -> None:
    enqueue(wired, ("sms", PHONE, CODE))
    with wired.uow() as uow:
        [claimed] = uow.outbox.claim_due(now=clock.now(), limit=10, lease_seconds=600)
        uow.commit()
    assert claimed.text == CODE
    clock.advance(seconds=599)
    assert deliver_due(wired) == DeliveryReport()
    clock.advance(seconds=1)
    assert deliver_due(wired) == DeliveryReport(sent=1, failed=0)


@pytest.fixture
def pg_services(pg_url: str, clock: FakeClock) -> Iterator[Services]:
    wired = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    yield wired
    wired.database.close()


@pytest.mark.postgres
def test_R_OPS_4_two_processes_delivering_at_once_send_each_message_exactly_once(
    pg_services: Services, sms: RecordingSms
) -> None:
    """Both claimers run their SELECT before either commits (a barrier holds them there):
    without ``FOR UPDATE SKIP LOCKED`` both would take every message."""
    messages = [("sms", f"+1555000{i:04d}", f"code {i}") for i in range(40)]
    enqueue(pg_services, *messages)
    engine: Engine = pg_services.database.engine  # type: ignore[attr-defined]
    barrier = threading.Barrier(2, timeout=15)
    racers: set[int] = set()

    def hold_after_the_claim_select(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        is_claim = statement.lstrip().startswith("SELECT") and "outbox.available_at <=" in statement
        me = threading.get_ident()
        if is_claim and me not in racers:
            racers.add(me)
            barrier.wait()

    event.listen(engine, "after_cursor_execute", hold_after_the_claim_select)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = list(pool.map(lambda _: deliver_due(replace(pg_services, sms=sms)), [1, 2]))
    finally:
        event.remove(engine, "after_cursor_execute", hold_after_the_claim_select)
    assert len(racers) == 2
    assert sum(r.sent for r in reports) == 40
    assert sorted(sms.sent) == sorted((to, text) for _, to, text in messages)
    assert all(m.sent_at is not None for m in stored(pg_services))
