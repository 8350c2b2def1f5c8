"""Background work (R-OPS-4): safe when several processes run it at the same time.

One pass does, each item in its own short unit of work:

1. reminders — shipped devices 3 days before their auto-activation; the reminder is
   claimed by a conditional update (``reminded_at IS NULL``), so it goes out once;
2. auto-activation — devices shipped 21 days ago; ``shipped → active`` is one
   conditional update (:func:`securelogin.service.lifecycle.lifecycle.finish_activation`), so each
   device is activated exactly once whoever gets there first (user, worker, worker);
3. expiry of temporary devices — temporary codes 12 days after issue, online cards at
   their ``expires_at`` (``active → expired``, conditional);
4. deposits of devices not returned ``closure_return_days`` after their account closed
   (R-RETURN-3; ``held → charged``, conditional);
5. clean-up of challenges that expired more than ``challenge_retention`` ago, and of the
   failure counters of unknown usernames older than the lockout window (R-LOGIN-3);
6. delivery of the outbox: the portal message centre, then SMS and e-mail.

Lists are read without locks; the guards are in the writes.  A second process that read
the same list simply loses each conditional update and does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceState
from securelogin.domain.lifecycle import ReturnReason, auto_activation_at
from securelogin.service import messages, notifications
from securelogin.service.context import Services
from securelogin.service.lifecycle.lifecycle import finish_activation
from securelogin.service.lifecycle.returns import charge_deposits

log = logging.getLogger(__name__)
SYSTEM = "system:jobs"


@dataclass(frozen=True, kw_only=True)
class JobReport:
    reminded: int = 0
    activated: int = 0
    expired: int = 0
    deposits_charged: int = 0
    challenges_deleted: int = 0
    portal_delivered: int = 0
    sent: int = 0


def run_once(services: Services, *, deliver: bool = True) -> JobReport:
    """One pass of every job; see the module docstring."""
    reminded = send_reminders(services)
    activated = auto_activate(services)
    expired = expire_temporary_devices(services)
    charged = charge_unreturned(services)
    deleted = clean_challenges(services)
    clean_name_failures(services)
    portal = sent = 0
    if deliver:
        portal = messages.deliver_portal(services)
        sent = notifications.deliver_due(services).sent
    return JobReport(
        reminded=reminded,
        activated=activated,
        expired=expired,
        deposits_charged=charged,
        challenges_deleted=deleted,
        portal_delivered=portal,
        sent=sent,
    )


def send_reminders(services: Services) -> int:
    policy = services.policy.lifecycle
    now = services.clock.now()
    cutoff = now - timedelta(days=policy.auto_activation_days - policy.reminder_days_before)
    with services.uow() as uow:
        due = uow.replacements.shipped_before(cutoff, unreminded=True)
    done = 0
    for row in due:
        with services.uow() as uow:
            if not uow.replacements.mark_reminded(row.id, now=now):
                continue  # another process sent it
            assert row.shipped_at is not None  # noqa: S101 - shipped requests have the time
            when = auto_activation_at(row.shipped_at, policy)
            user = uow.users.by_id(row.user_id)
            messages.notify(
                uow,
                user_id=row.user_id,
                phone=user.phone if user else None,
                subject=f"Your security device {row.serial} activates on {when.date().isoformat()}",
                body=(
                    f"For your security, your replacement device {row.serial} becomes active "
                    f"automatically on {when.date().isoformat()}. You can activate it now in "
                    "the Client Portal. If you did not receive it, contact Client Services."
                ),
                sms=(
                    f"securelogin: your security device {row.serial} activates automatically "
                    f"on {when.date().isoformat()}."
                ),
            )
            uow.audit.record(
                AuditEvent(
                    action="replacement.reminded",
                    actor=SYSTEM,
                    subject=row.username,
                    data={"request": row.public_id, "activates_at": when.isoformat()},
                )
            )
            uow.commit()
            done += 1
    return done


def auto_activate(services: Services) -> int:
    now = services.clock.now()
    cutoff = now - timedelta(days=services.policy.lifecycle.auto_activation_days)
    with services.uow() as uow:
        due = uow.replacements.shipped_before(cutoff, unreminded=False)
    done = 0
    for row in due:
        with services.uow() as uow:
            if finish_activation(services, uow, row, now=now, actor=SYSTEM):
                uow.commit()
                done += 1
    return done


def expire_temporary_devices(services: Services) -> int:
    now = services.clock.now()
    issued_before = now - timedelta(days=services.policy.lifecycle.temporary_code_days)
    with services.uow() as uow:
        due = uow.lifecycle.expired_temporary(code_issued_before=issued_before, now=now)
    done = 0
    for device_id in due:
        with services.uow() as uow:
            device = uow.lifecycle.device(device_id)
            if device is None or not uow.lifecycle.move_device(
                device_id,
                frm={DeviceState.ACTIVE, DeviceState.PENDING_ACTIVATION},
                to=DeviceState.EXPIRED,
            ):
                continue
            owner = uow.users.by_id(device.owner_id) if device.owner_id else None
            uow.audit.record(
                AuditEvent(
                    action="device.expired",
                    actor=SYSTEM,
                    subject=owner.username if owner else device.public_id,
                    data={"device_id": device.public_id, "kind": device.kind},
                )
            )
            uow.commit()
            done += 1
    return done


def charge_unreturned(services: Services) -> int:
    now = services.clock.now()
    cutoff = now - timedelta(days=services.policy.lifecycle.closure_return_days)
    with services.uow() as uow:
        due = [
            r
            for r in uow.returns.returns_in(("pending",))
            if r.reason == ReturnReason.ACCOUNT_CLOSING and r.created_at <= cutoff
        ]
    charged = 0
    for row in due:
        with services.uow() as uow:
            device = uow.lifecycle.device(row.device_id)
            if device is not None and charge_deposits(
                uow, device, now=now, reason="not_returned", actor=SYSTEM
            ):
                uow.commit()
                charged += 1
    return charged


def clean_name_failures(services: Services) -> int:
    """Unknown usernames whose last failure left the lockout window restart at 1 anyway:
    their rows go, so that a spray of made-up names does not grow the table for ever."""
    before = services.clock.now() - timedelta(hours=services.policy.lockout_window_hours)
    with services.uow() as uow:
        deleted = uow.name_failures.forget_before(before)
        uow.commit()
    return deleted


def clean_challenges(services: Services) -> int:
    before = services.clock.now() - services.policy.lifecycle.challenge_retention
    with services.uow() as uow:
        deleted = uow.lifecycle.delete_expired_challenges(before=before)
        uow.commit()
    return deleted
