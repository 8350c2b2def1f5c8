"""The portal's message centre (R-OPS-5): a channel of the outbox.

Use cases call :func:`notify` inside their own unit of work: it enqueues one ``portal``
message (and an SMS when the user has a phone); :func:`deliver_portal` moves due
``portal`` messages into the user's message centre.  Claiming, storing and marking sent
happen in one transaction, so a message lands in the centre exactly once even when
several processes deliver at once (the outbox claim skips locked rows).
"""

from __future__ import annotations

from dataclasses import dataclass

from securelogin.service.context import Services
from securelogin.service.lifecycle_ports import MessageRow
from securelogin.service.notifications import email_parts
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

PORTAL = "portal"
RECIPIENT_PREFIX = "user:"
LEASE_SECONDS = 120
INBOX_SIZE = 50


@dataclass(frozen=True, kw_only=True)
class Inbox:
    messages: list[MessageRow]
    unread: int


def notify(
    uow: UnitOfWork,
    *,
    user_id: int,
    phone: str | None,
    subject: str,
    body: str,
    sms: str | None = None,
) -> None:
    """Queue a message for the user's message centre (and an SMS when given and possible)."""
    uow.outbox.enqueue(
        channel=PORTAL, to=f"{RECIPIENT_PREFIX}{user_id}", text=f"{subject}\n\n{body}"
    )
    if sms is not None and phone:
        uow.outbox.enqueue(channel="sms", to=phone, text=sms)


def deliver_portal(services: Services, *, limit: int = 200) -> int:
    """One delivery pass of the ``portal`` channel; returns how many messages landed."""
    now = services.clock.now()
    with services.uow() as uow:
        claimed = uow.outbox.claim_due(
            now=now, limit=limit, lease_seconds=LEASE_SECONDS, channels=(PORTAL,)
        )
        for message in claimed:
            subject, body = email_parts(message.text)
            user_id = int(message.to.removeprefix(RECIPIENT_PREFIX))
            uow.message_centre.add_message(user_id=user_id, subject=subject, body=body, now=now)
            uow.outbox.mark_sent(message.id, now=now, keep_text=True)
        uow.commit()
    return len(claimed)


def inbox(services: Services, session: CurrentSession) -> Inbox:
    with services.uow() as uow:
        return Inbox(
            messages=uow.message_centre.messages(session.user_id, limit=INBOX_SIZE),
            unread=uow.message_centre.unread(session.user_id),
        )


def unread_count(services: Services, session: CurrentSession) -> int:
    with services.uow() as uow:
        return uow.message_centre.unread(session.user_id)


def mark_all_read(services: Services, session: CurrentSession) -> None:
    with services.uow() as uow:
        uow.message_centre.mark_read(session.user_id, now=services.clock.now())
        uow.commit()
