"""Returns and deposits (R-RETURN-1..4).

* The user starts a return (damaged, replaced, consolidated, account closing): a
  physical device becomes ``return_pending`` and the portal shows the regional return
  address and advice.  Code cards are never returned: they are shredded and deactivated
  (R-RETURN-4).
* Logistics records receipt: the device becomes ``returned`` and its deposit hold is
  released (R-RETURN-2).
* The deposit is taken — hold → charge plus a ledger row — when the device is lost,
  stolen or intentionally damaged, or not returned when the account closes (R-RETURN-3).

Settling a hold is one conditional update ``held → released|charged``: exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import CARD_KINDS, DeviceKind, DeviceState
from securelogin.domain.lifecycle import RETURNABLE_STATES, HoldState, ReturnReason
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.domain.returns import RETURN_ADDRESSES, Region, ReturnAddress, parse_region
from securelogin.errors import InvalidInput, NotFound, WrongState
from securelogin.service.context import Services
from securelogin.service.lifecycle_ports import OwnedDevice, ReturnRow
from securelogin.service.messages import notify
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

#: R-RETURN-3: why a deposit may be taken
CHARGE_REASONS = frozenset({"lost", "stolen", "intentionally_damaged", "not_returned"})


@dataclass(frozen=True, kw_only=True)
class ReturnStarted:
    device_id: str
    kind: DeviceKind
    shredded: bool
    address: ReturnAddress | None
    #: a shredded card was the user's last active device: the page says how to get one
    no_device_left: bool = False


def parse_reason(text: str) -> ReturnReason:
    try:
        return ReturnReason(text)
    except ValueError:
        raise InvalidInput(
            f"reason must be one of {', '.join(r.value for r in ReturnReason)}", field="reason"
        ) from None


def returnable_devices(services: Services, session: CurrentSession) -> list[OwnedDevice]:
    """The user's own physical devices that can be sent back (or shredded: code cards)."""
    catalogue = services.policy.catalogue
    with services.uow() as uow:
        devices = uow.lifecycle.devices_of(session.user_id)
    return [
        d
        for d in devices
        if d.owner_id == session.user_id
        and d.state in RETURNABLE_STATES
        and DeviceKind(d.kind) in catalogue
        and catalogue[DeviceKind(d.kind)].physical
    ]


def my_returns(services: Services, session: CurrentSession) -> list[ReturnRow]:
    with services.uow() as uow:
        return uow.returns.returns_of(session.user_id)


def start_return(
    services: Services,
    session: CurrentSession,
    *,
    device_id: str,
    reason: str,
    region: str = Region.US_CANADA.value,
) -> ReturnStarted:
    why = parse_reason(reason)
    where = parse_region(region)
    now = services.clock.now()
    with services.uow() as uow:
        device = uow.lifecycle.device_by_public_id(device_id)
        if device is None or device.owner_id != session.user_id:
            raise NotFound("no such device")
        user = uow.users.by_id(session.user_id)
        assert user is not None  # noqa: S101
        started = begin_return(services, uow, device, why, where, now=now, actor=user.username)
        uow.commit()
    return started


def begin_return(
    services: Services,
    uow: UnitOfWork,
    device: OwnedDevice,
    reason: ReturnReason,
    region: Region,
    *,
    now: datetime,
    actor: str,
) -> ReturnStarted:
    """One device into ``return_pending`` (or shredded, for code cards)."""
    kind = DeviceKind(device.kind)
    info = services.policy.catalogue.get(kind)
    if info is None or not info.physical:
        raise InvalidInput("only physical devices are returned", field="device_id")
    if device.state not in RETURNABLE_STATES:
        raise WrongState(f"this device is {device.state} and cannot be returned")
    owner = uow.users.by_id(device.owner_id) if device.owner_id else None
    subject = owner.username if owner else actor
    if kind in CARD_KINDS:  # R-RETURN-4
        if not uow.lifecycle.move_device(device.id, frm=RETURNABLE_STATES, to=DeviceState.REVOKED):
            raise WrongState("this card was deactivated already")
        uow.audit.record(
            AuditEvent(
                action="device.shredded",
                actor=actor,
                subject=subject,
                data={"device_id": device.public_id, "serial": device.serial, "reason": reason},
            )
        )
        left = [
            d
            for d in (uow.lifecycle.devices_of(owner.id) if owner else [])
            if d.id != device.id and d.state == DeviceState.ACTIVE
        ]
        return ReturnStarted(
            device_id=device.public_id,
            kind=kind,
            shredded=True,
            address=None,
            no_device_left=owner is not None and not left,
        )
    if not uow.lifecycle.move_device(
        device.id, frm=RETURNABLE_STATES, to=DeviceState.RETURN_PENDING
    ):
        raise WrongState("this device is on its way back already")
    uow.returns.add_return(
        device_id=device.id,
        user_id=device.owner_id or 0,
        reason=reason.value,
        region=region.value,
        now=now,
    )
    uow.audit.record(
        AuditEvent(
            action="device.return_started",
            actor=actor,
            subject=subject,
            data={
                "device_id": device.public_id,
                "serial": device.serial,
                "reason": reason,
                "region": region,
            },
        )
    )
    return ReturnStarted(
        device_id=device.public_id, kind=kind, shredded=False, address=RETURN_ADDRESSES[region]
    )


def pending_returns(services: Services, operator: Operator) -> list[ReturnRow]:
    require_role(operator, Role.LOGISTICS)
    with services.uow() as uow:
        return uow.returns.returns_in(("pending",))


def record_receipt(services: Services, operator: Operator, *, return_id: int) -> ReturnRow:
    """R-RETURN-2: ``returned``, deposit released — exactly once."""
    require_role(operator, Role.LOGISTICS)
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.returns.return_(return_id)
        if row is None:
            raise NotFound(f"no return {return_id}")
        if not uow.returns.receive_return(return_id, now=now):
            raise WrongState(f"return {return_id} was received already")
        uow.lifecycle.move_device(
            row.device_id, frm={DeviceState.RETURN_PENDING}, to=DeviceState.RETURNED
        )
        released = 0
        for hold in uow.deposits.holds_of_device(row.device_id):
            if hold.state == HoldState.HELD:
                uow.funds.lock_account(hold.account_id)
                released += uow.deposits.settle_hold(hold.id, to=HoldState.RELEASED, now=now)
        uow.audit.record(
            AuditEvent(
                action="device.returned",
                actor=operator.actor,
                subject=row.username,
                data={
                    "device_id": row.device_public_id,
                    "serial": row.serial,
                    "released": released,
                },
            )
        )
        user = uow.users.by_id(row.user_id)
        notify(
            uow,
            user_id=row.user_id,
            phone=user.phone if user else None,
            subject=f"We received your security device {row.serial or row.device_public_id}",
            body="Thank you for returning your device."
            + (" The device deposit hold has been released." if released else ""),
        )
        done = uow.returns.return_(return_id)
        uow.commit()
    assert done is not None  # noqa: S101
    return done


def take_deposit(services: Services, operator: Operator, *, device_id: str, reason: str) -> int:
    """R-RETURN-3 by logistics: the device's held deposit becomes a charge; returns cents."""
    require_role(operator, Role.LOGISTICS)
    if reason not in CHARGE_REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(sorted(CHARGE_REASONS))}", field="reason"
        )
    now = services.clock.now()
    with services.uow() as uow:
        device = uow.lifecycle.device_by_public_id(device_id) or _by_serial(uow, device_id)
        if device is None:
            raise NotFound(f"no device {device_id}")
        charged = charge_deposits(uow, device, now=now, reason=reason, actor=operator.actor)
        if not charged:
            raise WrongState(f"device {device_id} has no deposit on hold")
        uow.commit()
    return charged


def _by_serial(uow: UnitOfWork, serial: str) -> OwnedDevice | None:
    row = uow.device_access.by_serial(serial)
    return None if row is None else uow.lifecycle.device(row.id)


def charge_deposits(
    uow: UnitOfWork, device: OwnedDevice, *, now: datetime, reason: str, actor: str
) -> int:
    """Every held deposit of the device → charged, with its ledger row; returns cents."""
    charged = 0
    for hold in uow.deposits.holds_of_device(device.id):
        if hold.state != HoldState.HELD:
            continue
        uow.funds.lock_account(hold.account_id)
        if uow.deposits.settle_hold(hold.id, to=HoldState.CHARGED, now=now):
            uow.deposits.charge(
                account_id=hold.account_id,
                amount_cents=hold.amount_cents,
                reference=f"device deposit {device.serial or device.public_id}: {reason}",
                now=now,
            )
            charged += hold.amount_cents
    if charged:
        owner = uow.users.by_id(device.owner_id) if device.owner_id else None
        uow.audit.record(
            AuditEvent(
                action="deposit.charged",
                actor=actor,
                subject=owner.username if owner else device.public_id,
                data={"device_id": device.public_id, "cents": charged, "reason": reason},
            )
        )
    return charged
