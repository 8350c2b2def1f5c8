"""Replacement physical devices by mail (R-LOST-3, R-LOST-4 / R-OPS-3).

The user's side: a draft (shipping address, 4-digit soft PIN, the account for the USD 20
deposit hold) → the overview → confirm: the hold is placed under the account lock (the
same ``accounts`` row lock the withdrawals take, so a hold and a withdrawal never spend
the same dollars) and an estimated ship date is given in business days.

Logistics: list the open requests, assign a device from the inventory by serial (a DSC+
takes the soft PIN as its PIN material), mark it shipped.  Each step is a conditional
update of the request's state, so a double click or two operators never do it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from securelogin.domain.access import AccessLevel
from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import AccountStatus
from securelogin.domain.lifecycle import (
    ADDRESS_MAX,
    RequestState,
    add_business_days,
    auto_activation_at,
    check_soft_pin,
)
from securelogin.domain.money import format_usd
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.errors import (
    AccessDenied,
    DepositNotCovered,
    InvalidInput,
    NotFound,
    NotInStock,
    WrongState,
)
from securelogin.service.context import Services
from securelogin.service.lifecycle_ports import RequestRow
from securelogin.service.messages import notify
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

OPEN_STATES = (RequestState.REQUESTED, RequestState.ASSIGNED, RequestState.SHIPPED)
HOLD_REASON = "device_deposit"


@dataclass(frozen=True, kw_only=True)
class Replacement:
    """A replacement request as the user and logistics see it (no PIN)."""

    request_id: str
    username: str
    kind: DeviceKind
    state: RequestState
    address: str
    account: str
    deposit: Decimal
    estimated_ship_date: date | None
    serial: str | None
    shipped_at: datetime | None
    activates_at: datetime | None


def view(services: Services, row: RequestRow) -> Replacement:
    policy = services.policy.lifecycle
    return Replacement(
        request_id=row.public_id,
        username=row.username,
        kind=DeviceKind(row.kind),
        state=RequestState(row.state),
        address=row.address,
        account=row.account_number,
        deposit=Decimal(policy.deposit_cents) / 100,
        estimated_ship_date=row.estimated_ship_date,
        serial=row.serial,
        shipped_at=row.shipped_at,
        activates_at=auto_activation_at(row.shipped_at, policy) if row.shipped_at else None,
    )


@cache
def _holidays(calendar: str, year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays(calendar, years=[year]))


def estimated_ship_date(services: Services, now: datetime) -> date:
    """R-LOST-3: ``ship_business_days`` business days after today (brokerage time zone)."""
    today = now.astimezone(ZoneInfo(services.policy.timezone)).date()
    days = _holidays(services.policy.calendar, today.year) | _holidays(
        services.policy.calendar, today.year + 1
    )
    return add_business_days(today, services.policy.lifecycle.ship_business_days, holidays=days)


# --- the user's side (R-LOST-3) ----------------------------------------------------------


def draft_replacement(
    services: Services,
    session: CurrentSession,
    *,
    address: str,
    pin: str,
    account: str | None = None,
) -> Replacement:
    """Check the entries and keep them as a draft for the overview; nothing is held yet."""
    if session.access_level is not AccessLevel.FULL:
        raise AccessDenied("Requesting a device needs a full session")
    check_soft_pin(pin)
    address = "\n".join(line.strip() for line in address.strip().splitlines() if line.strip())
    if not address or len(address) > ADDRESS_MAX:
        raise InvalidInput(
            f"the shipping address needs 1–{ADDRESS_MAX} characters", field="address"
        )
    now = services.clock.now()
    public_id = "rq_" + services.random.token_bytes(10).hex()
    with services.uow() as uow:
        if any(r.state in OPEN_STATES for r in uow.replacements.requests_of(session.user_id)):
            raise WrongState("A replacement device is already on its way")
        account_id = _deposit_account(uow, session.user_id, account)
        uow.replacements.add_request(
            public_id=public_id,
            user_id=session.user_id,
            account_id=account_id,
            kind=services.policy.lifecycle.replacement_kind.value,
            address=address,
            pin_secret=services.box.seal(pin.encode(), context=f"replacement-pin:{public_id}"),
            now=now,
        )
        row = uow.replacements.request(public_id)
        uow.commit()
    assert row is not None  # noqa: S101 - just inserted
    return view(services, row)


def overview(services: Services, session: CurrentSession, request_id: str) -> Replacement:
    with services.uow() as uow:
        return view(services, _own_request(uow, session, request_id))


def my_requests(services: Services, session: CurrentSession) -> list[Replacement]:
    with services.uow() as uow:
        rows = uow.replacements.requests_of(session.user_id)
    return [view(services, r) for r in rows if r.state != RequestState.DRAFT]


def confirm_replacement(
    services: Services, session: CurrentSession, request_id: str
) -> Replacement:
    """Place the USD 20 hold under the account lock and submit the request (exactly once)."""
    now = services.clock.now()
    deposit = services.policy.lifecycle.deposit_cents
    with services.uow() as uow:
        row = _own_request(uow, session, request_id)
        if row.state != RequestState.DRAFT:
            raise WrongState("This request was submitted already")
        if any(r.state in OPEN_STATES for r in uow.replacements.requests_of(session.user_id)):
            raise WrongState("A replacement device is already on its way")
        if uow.funds.lock_account(row.account_id).available_cents < deposit:
            raise DepositNotCovered(
                f"account {row.account_number} does not have {format_usd(deposit)} "
                "available for the device deposit"
            )
        hold_id = uow.deposits.add_hold(
            account_id=row.account_id, amount_cents=deposit, reason=HOLD_REASON, now=now
        )
        ship = estimated_ship_date(services, now)
        if not uow.replacements.move_request(
            row.id,
            frm={RequestState.DRAFT},
            to=RequestState.REQUESTED,
            hold_id=hold_id,
            confirmed_at=now,
            estimated_ship_date=ship,
        ):
            raise WrongState("This request was submitted already")
        uow.audit.record(
            AuditEvent(
                action="replacement.requested",
                actor=row.username,
                subject=row.username,
                data={
                    "request": row.public_id,
                    "kind": row.kind,
                    "account": row.account_number,
                    "deposit_cents": deposit,
                    "estimated_ship_date": ship.isoformat(),
                },
            )
        )
        done = uow.replacements.request(request_id)
        uow.commit()
    assert done is not None  # noqa: S101
    return view(services, done)


def _own_request(uow: UnitOfWork, session: CurrentSession, request_id: str) -> RequestRow:
    row = uow.replacements.request(request_id)
    if row is None or row.user_id != session.user_id:
        raise NotFound("no such replacement request")
    return row


def _deposit_account(uow: UnitOfWork, user_id: int, account: str | None) -> int:
    """The named account, or the user's first open account (R-LOST-3 default)."""
    grants = [g for g in uow.users.grants_of(user_id) if g.status is AccountStatus.OPEN]
    chosen = next((g for g in grants if g.account == account), None) if account else None
    if account and chosen is None:
        raise InvalidInput(f"{account} is not one of your open accounts", field="account")
    chosen = chosen or (grants[0] if grants else None)
    if chosen is None:
        raise InvalidInput("you have no open account to carry the deposit", field="account")
    row = uow.accounts.by_number(chosen.account)
    assert row is not None  # noqa: S101 - a grant names an existing account
    return row.id


def deposit_accounts(services: Services, session: CurrentSession) -> list[str]:
    with services.uow() as uow:
        return [
            g.account
            for g in uow.users.grants_of(session.user_id)
            if g.status is AccountStatus.OPEN
        ]


# --- logistics (R-LOST-4, R-OPS-3) -------------------------------------------------------


def open_requests(services: Services, operator: Operator) -> list[Replacement]:
    require_role(operator, Role.LOGISTICS)
    with services.uow() as uow:
        rows = uow.replacements.requests_in(OPEN_STATES)
    return [view(services, r) for r in rows]


def assign_device(
    services: Services, operator: Operator, *, request_id: str, serial: str
) -> Replacement:
    """Give a device from the inventory to the request (state ``ordered``)."""
    require_role(operator, Role.LOGISTICS)
    now = services.clock.now()
    with services.uow() as uow:
        row = _request(uow, request_id)
        if row.state != RequestState.REQUESTED:
            raise WrongState(f"request {request_id} is {row.state}, not waiting for a device")
        stock = uow.inventory.by_serial(serial.strip())
        if stock is None or stock.state != DeviceState.IN_STOCK or stock.owner_id is not None:
            raise NotInStock(f"device {serial} is not in stock")
        if stock.kind != row.kind:
            raise InvalidInput(
                f"device {serial} is a {stock.kind}, the request is for a {row.kind}",
                field="serial",
            )
        pin_secret = None
        if row.kind == DeviceKind.DSC_PLUS:
            pin = services.box.open(row.pin_secret, context=f"replacement-pin:{row.public_id}")
            pin_secret = services.box.seal(pin, context=f"device-pin:{stock.public_id}")
        uow.inventory.assign(
            serial=stock.serial,
            user_id=row.user_id,
            state=DeviceState.ORDERED,
            at=now,
            pin_secret=pin_secret,
        )
        if not uow.replacements.move_request(
            row.id, frm={RequestState.REQUESTED}, to=RequestState.ASSIGNED, device_id=stock.id
        ):
            raise WrongState(f"request {request_id} was decided already")
        if row.hold_id is not None:
            uow.deposits.set_hold_device(row.hold_id, stock.id)
        uow.audit.record(
            AuditEvent(
                action="replacement.assigned",
                actor=operator.actor,
                subject=row.username,
                data={"request": row.public_id, "serial": stock.serial},
            )
        )
        done = uow.replacements.request(request_id)
        uow.commit()
    assert done is not None  # noqa: S101
    return view(services, done)


def ship(services: Services, operator: Operator, *, request_id: str) -> Replacement:
    """Mark the assigned device shipped: the 21 days to auto-activation start now."""
    require_role(operator, Role.LOGISTICS)
    now = services.clock.now()
    with services.uow() as uow:
        row = _request(uow, request_id)
        if row.state != RequestState.ASSIGNED or row.device_id is None:
            raise WrongState(f"request {request_id} is {row.state}, not ready to ship")
        if not uow.replacements.move_request(
            row.id, frm={RequestState.ASSIGNED}, to=RequestState.SHIPPED, shipped_at=now
        ) or not uow.lifecycle.move_device(
            row.device_id, frm={DeviceState.ORDERED}, to=DeviceState.SHIPPED, shipped_at=now
        ):
            raise WrongState(f"request {request_id} was shipped already")
        activates = auto_activation_at(now, services.policy.lifecycle)
        uow.audit.record(
            AuditEvent(
                action="replacement.shipped",
                actor=operator.actor,
                subject=row.username,
                data={"request": row.public_id, "serial": row.serial},
            )
        )
        user = uow.users.by_id(row.user_id)
        notify(
            uow,
            user_id=row.user_id,
            phone=user.phone if user else None,
            subject=f"Your security device {row.serial} has shipped",
            body=(
                "Your replacement security device is on its way. Activate it in the Client "
                "Portal as soon as it arrives; for your security it activates automatically "
                f"on {activates.date().isoformat()}."
            ),
            sms=f"securelogin: your security device {row.serial} has shipped.",
        )
        done = uow.replacements.request(request_id)
        uow.commit()
    assert done is not None  # noqa: S101
    return view(services, done)


def _request(uow: UnitOfWork, request_id: str) -> RequestRow:
    row = uow.replacements.request(request_id.strip())
    if row is None or row.state == RequestState.DRAFT:
        raise NotFound(f"no replacement request {request_id}")
    return row
