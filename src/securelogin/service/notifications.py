"""Delivering the outbox (R-OPS-5) and reading it (SPEC §10.1 ``admin outbox``).

Messages are written by use cases inside their own transaction; :func:`deliver_due`
sends them *after* that commit:

1. one unit of work claims the due messages — locked and leased, so that several
   processes running it at once never send a message twice (R-OPS-4) — and commits;
2. each message goes out through the gateway of its channel, outside any transaction
   (a slow gateway holds no lock);
3. one unit of work per message records the outcome: sent (production gateways have the
   stored text redacted, so one-time codes do not stay in the database), or failed and
   due again after a backoff of 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 4 h … —
   until ``policy.outbox_max_attempts`` attempts, or at once when the gateway refused
   the message for good: then it is given up (``sent_at`` stays empty, ``last_error``
   starts with "gave up").

A failing message never stops the others.  A pass with nothing due is one short
transaction and one indexed query, cheap enough to run right after every commit that
enqueued something.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from securelogin.errors import DeliveryFailed
from securelogin.service.context import Services
from securelogin.service.ports import OutboxMessage

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
#: the channels this module delivers; others (push, the portal's message centre) have theirs
CHANNELS = (SMS, EMAIL)
#: delay before attempt n+1 after n failures (the last one repeats)
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200, 14400))
#: how long a claimed message stays reserved for the process that claimed it; longer than
#: a pass of ``limit`` sends normally takes, so that no other process sends it meanwhile
LEASE_SECONDS = 600


@dataclass(frozen=True, kw_only=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def retry_delay(failures: int) -> timedelta:
    """The backoff after ``failures`` failed attempts (1 → 30 s, 2 → 2 min, 3 → 10 min …)."""
    return RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]


def email_parts(text: str) -> tuple[str, str]:
    """An e-mail in the outbox is ``"Subject\\n\\nBody"``; without a body the subject is both."""
    subject, _, body = text.partition("\n")
    subject = subject.strip()
    return subject, body.strip("\n") or subject


def deliver_due(
    services: Services, *, limit: int = 100, lease_seconds: int = LEASE_SECONDS
) -> DeliveryReport:
    """One delivery pass over the due SMS and e-mail messages; see the module docstring.

    Delivery errors are recorded on the message, never raised; only a storage failure
    (``StorageUnavailable``) escapes.
    """
    with services.uow() as uow:
        claimed = uow.outbox.claim_due(
            now=services.clock.now(), limit=limit, lease_seconds=lease_seconds, channels=CHANNELS
        )
        uow.commit()
    sent = failed = 0
    for message in claimed:
        if _deliver(services, message):
            sent += 1
        else:
            failed += 1
    return DeliveryReport(sent=sent, failed=failed)


def recent_messages(
    services: Services, *, to: str | None = None, limit: int = 200
) -> list[OutboxMessage]:
    """The last ``limit`` SMS and e-mail messages (to one address), oldest first."""
    with services.uow() as uow:
        return uow.outbox.recent(to=to, limit=limit, channels=CHANNELS)


def seal_stored_messages(services: Services) -> int:
    """Seal the SMS and e-mail bodies an older version stored in clear (issue 12, finding
    2); run with the migrations, since Alembic has no master key."""
    with services.uow() as uow:
        sealed = uow.outbox.seal_clear_bodies()
        uow.commit()
    return sealed


def _deliver(services: Services, message: OutboxMessage) -> bool:
    keeps_text = services.sms.keeps_text if message.channel == SMS else services.mail.keeps_text
    try:
        if message.channel == SMS:
            services.sms.send(to=message.to, text=message.text)
        else:
            subject, body = email_parts(message.text)
            services.mail.send(to=message.to, subject=subject, text=body)
    except DeliveryFailed as exc:
        _record_failure(services, message, exc.message, exc.retryable, keeps_text)
        return False
    except Exception as exc:  # a broken adapter must not stop the other messages
        log.exception(
            "outbox message %s: unexpected error from the %s gateway", message.id, message.channel
        )
        _record_failure(services, message, f"{type(exc).__name__}: {exc}", True, keeps_text)
        return False
    with services.uow() as uow:
        uow.outbox.mark_sent(message.id, now=services.clock.now(), keep_text=keeps_text)
        uow.commit()
    return True


def _record_failure(
    services: Services, message: OutboxMessage, error: str, retryable: bool, keeps_text: bool
) -> None:
    failures = message.attempts + 1
    now = services.clock.now()
    if retryable and failures < services.policy.outbox_max_attempts:
        retry_at = now + retry_delay(failures)
    else:
        retry_at = None
        error = f"gave up after {failures} attempt{'s' if failures > 1 else ''}: {error}"
    log.warning("outbox message %s (%s): %s", message.id, message.channel, error)
    with services.uow() as uow:
        uow.outbox.mark_failed(message.id, error=error, retry_at=retry_at, keep_text=keeps_text)
        uow.commit()
