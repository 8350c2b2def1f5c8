"""Closing an account (R-CLOSE-1, R-RETURN-3/4, R-LOGIN-8), and its preview.

One unit of work under the account lock: the account becomes ``closed``; every session of
its users ends; the users whose accounts are now all closed have every device settled —
physical devices go ``return_pending`` (reason ``account_closing``; the deposit is taken
if they are not received within ``closure_return_days``, see the jobs), lost or stolen
ones cost a deposit still on hold at once, code cards are shredded, other devices
deactivated — and from their next login they get ``documents_only`` (R-LOGIN-8).  A final
activity statement is stored for the account.  Users who still have another open account
keep their devices.

:func:`preview_closure` shows an admin what closing will do before they confirm: it builds
the same :class:`ClosurePlan` as :func:`close_account` (one call of the pure
:func:`~securelogin.domain.lifecycle.settle_on_close` per device) and writes nothing.
:func:`close_account` with ``confirmation=`` (the console) refuses unless the admin typed
the account number (``invalid_input``, field ``confirmation``; nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import AccountStatus
from securelogin.domain.lifecycle import (
    SETTLED_FROM,
    HoldState,
    ReturnReason,
    Settlement,
    settle_on_close,
)
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.domain.returns import Region
from securelogin.errors import AccountClosed, InvalidInput, NotFound
from securelogin.service.context import Services
from securelogin.service.lifecycle.documents import DocumentKind, store_document
from securelogin.service.lifecycle.returns import begin_return, charge_deposits
from securelogin.service.lifecycle_ports import OwnedDevice
from securelogin.service.messages import notify
from securelogin.service.ports import AccountRow, UnitOfWork, UserRow

#: the longest text accepted as an account number (longer input is no account)
NUMBER_MAX = 32


@dataclass(frozen=True, kw_only=True)
class DeviceStep:
    """What closing does with one device of a user (R-CLOSE-1)."""

    device: OwnedDevice
    settlement: Settlement
    #: deposits still on hold: taken at once (``take_deposit``), or left on hold while
    #: the device is on its way back (``return``)
    held_cents: int

    @property
    def label(self) -> str:
        return self.device.serial or self.device.public_id


@dataclass(frozen=True, kw_only=True)
class UserPlan:
    user: UserRow
    #: the user has another open account: their devices stay as they are
    keeps_devices: bool
    #: sessions that end (every session of the user that is not revoked yet)
    sessions: int
    devices: tuple[DeviceStep, ...]

    @property
    def username(self) -> str:
        return self.user.username

    def steps(self, settlement: Settlement) -> list[DeviceStep]:
        if self.keeps_devices:
            return []
        return [d for d in self.devices if d.settlement is settlement]


@dataclass(frozen=True, kw_only=True)
class ClosurePlan:
    """What closing the account will do (the preview), computed with the same rules as
    the closure itself."""

    account: str
    holder: str
    balance_cents: int
    users: tuple[UserPlan, ...]

    def labels(self, settlement: Settlement) -> list[str]:
        return [d.label for u in self.users for d in u.steps(settlement)]

    @property
    def returns(self) -> list[str]:
        return self.labels(Settlement.RETURN)

    @property
    def shredded(self) -> list[str]:
        return self.labels(Settlement.SHRED)

    @property
    def deactivated(self) -> list[str]:
        return self.labels(Settlement.REVOKE)

    @property
    def deposits_cents(self) -> int:
        return sum(d.held_cents for u in self.users for d in u.steps(Settlement.TAKE_DEPOSIT))

    @property
    def sessions(self) -> int:
        return sum(u.sessions for u in self.users)


@dataclass(kw_only=True)
class ClosureReport:
    account: str
    users: list[str] = field(default_factory=list)
    sessions_ended: int = 0
    returns: list[str] = field(default_factory=list)
    shredded: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    deposits_charged_cents: int = 0
    statement: str = ""


def _number(account: str) -> str:
    return account.strip().upper()[:NUMBER_MAX]


def _open_account(uow: UnitOfWork, number: str) -> AccountRow:
    row = uow.accounts.by_number(number) if number else None
    if row is None:
        raise NotFound(f"no account {number}")
    if row.status is AccountStatus.CLOSED:
        raise AccountClosed(f"account {number} is closed already")
    return row


def _held_cents(uow: UnitOfWork, device_id: int) -> int:
    return sum(
        h.amount_cents for h in uow.deposits.holds_of_device(device_id) if h.state == HoldState.HELD
    )


def _plan(services: Services, uow: UnitOfWork, row: AccountRow) -> ClosurePlan:
    catalogue = services.policy.catalogue
    users = []
    for user_id in uow.closure.users_of_account(row.id):
        user = uow.users.by_id(user_id)
        assert user is not None  # noqa: S101 - grants reference users
        keeps = any(
            g.status is AccountStatus.OPEN and g.account != row.number
            for g in uow.users.grants_of(user_id)
        )
        steps = []
        for device in uow.lifecycle.devices_of(user_id):
            if device.owner_id != user_id or DeviceKind(device.kind) not in catalogue:
                continue  # shared with the user: its owner settles it
            kind, state = DeviceKind(device.kind), DeviceState(device.state)
            what = settle_on_close(kind, state, catalogue[kind])
            held = _held_cents(uow, device.id) if what is not Settlement.NOTHING else 0
            steps.append(DeviceStep(device=device, settlement=what, held_cents=held))
        users.append(
            UserPlan(
                user=user,
                keeps_devices=keeps,
                sessions=uow.session_control.open_sessions(user_id),
                devices=tuple(steps),
            )
        )
    return ClosurePlan(
        account=row.number,
        holder=uow.closure.holder_name(row.id),
        balance_cents=row.balance_cents,
        users=tuple(users),
    )


def preview_closure(services: Services, operator: Operator, *, account: str) -> ClosurePlan:
    """R-CLOSE-1: what closing ``account`` would do; reads only."""
    require_role(operator, Role.ADMIN)
    with services.uow() as uow:
        return _plan(services, uow, _open_account(uow, _number(account)))


def close_account(
    services: Services,
    operator: Operator,
    *,
    account: str,
    confirmation: str | None = None,
) -> ClosureReport:
    """R-CLOSE-1.  ``confirmation`` (the console): the account number typed again."""
    require_role(operator, Role.ADMIN)
    now = services.clock.now()
    number = _number(account)
    if confirmation is not None and _number(confirmation) != number:
        raise InvalidInput("type the account number to confirm", field="confirmation")
    report = ClosureReport(account=number)
    with services.uow() as uow:
        row = _open_account(uow, number)
        uow.funds.lock_account(row.id)
        plan = _plan(services, uow, row)  # read under the lock: what the preview showed
        if not uow.closure.close_account(row.id, now=now):
            raise AccountClosed(f"account {number} is closed already")
        for user in plan.users:
            report.users.append(user.username)
            report.sessions_ended += uow.session_control.revoke_sessions(user.user.id, now=now)
            if user.keeps_devices:
                continue
            for step in user.devices:
                _settle(services, uow, step, report, now=now, actor=operator.actor)
            notify(
                uow,
                user_id=user.user.id,
                phone=user.user.phone,
                subject=f"Account {number} is closed",
                body=(
                    "Your account is closed. You can still log in with your password to read "
                    "and download your activity statements and tax forms. Please return your "
                    "physical security devices (see Returns in the Client Portal); a device "
                    "that is not returned costs its deposit."
                ),
            )
        period = now.astimezone(ZoneInfo(services.policy.timezone)).date().isoformat()
        report.statement = store_document(
            services,
            uow,
            account_id=row.id,
            account_number=row.number,
            kind=DocumentKind.ACTIVITY_STATEMENT,
            period=f"final {period}",
            now=now,
        )
        uow.audit.record(
            AuditEvent(
                action="account.closed",
                actor=operator.actor,
                subject=number,
                data={
                    "users": ",".join(report.users),
                    "returns": ",".join(report.returns),
                    "shredded": ",".join(report.shredded),
                    "deactivated": ",".join(report.deactivated),
                    "charged_cents": report.deposits_charged_cents,
                },
            )
        )
        uow.commit()
    return report


def _settle(
    services: Services,
    uow: UnitOfWork,
    step: DeviceStep,
    report: ClosureReport,
    *,
    now: datetime,
    actor: str,
) -> None:
    """One device of a user whose accounts are all closed (R-CLOSE-1, R-RETURN-3/4)."""
    device, what = step.device, step.settlement
    if what is Settlement.RETURN:
        begin_return(
            services,
            uow,
            device,
            ReturnReason.ACCOUNT_CLOSING,
            Region.US_CANADA,
            now=now,
            actor=actor,
        )
        report.returns.append(step.label)
    elif what is Settlement.TAKE_DEPOSIT:
        report.deposits_charged_cents += charge_deposits(
            uow, device, now=now, reason=device.state, actor=actor
        )
    elif what is Settlement.SHRED:
        uow.lifecycle.move_device(device.id, frm=SETTLED_FROM, to=DeviceState.REVOKED)
        report.shredded.append(step.label)
    elif what is Settlement.REVOKE:
        uow.lifecycle.move_device(device.id, frm=SETTLED_FROM, to=DeviceState.REVOKED)
        report.deactivated.append(step.label)
