"""Closing an account (R-CLOSE-1, R-RETURN-3/4, R-LOGIN-8).

One unit of work under the account lock: the account becomes ``closed``; every session of
its users ends; the users whose accounts are now all closed have every device settled —
physical devices go ``return_pending`` (reason ``account_closing``; the deposit is taken
if they are not received within ``closure_return_days``, see the jobs), lost or stolen
ones cost their deposit at once, code cards are shredded, other devices deactivated —
and from their next login they get ``documents_only`` (R-LOGIN-8).  A final activity
statement is stored for the account.  Users who still have another open account keep
their devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import AccountStatus
from securelogin.domain.lifecycle import (
    LIVE_STATES,
    RETURNABLE_STATES,
    ReturnReason,
    Settlement,
    settle_on_close,
)
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.domain.returns import Region
from securelogin.errors import AccountClosed, NotFound
from securelogin.service.context import Services
from securelogin.service.documents import DocumentKind, store_document
from securelogin.service.messages import notify
from securelogin.service.returns import begin_return, charge_deposits


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


def close_account(services: Services, operator: Operator, *, account: str) -> ClosureReport:
    require_role(operator, Role.ADMIN)
    now = services.clock.now()
    number = account.strip().upper()
    report = ClosureReport(account=number)
    with services.uow() as uow:
        row = uow.accounts.by_number(number)
        if row is None:
            raise NotFound(f"no account {number}")
        if row.status is AccountStatus.CLOSED:
            raise AccountClosed(f"account {number} is closed already")
        uow.funds.lock_account(row.id)
        if not uow.lifecycle.close_account(row.id, now=now):
            raise AccountClosed(f"account {number} is closed already")
        for user_id in uow.lifecycle.users_of_account(row.id):
            user = uow.users.by_id(user_id)
            assert user is not None  # noqa: S101
            report.users.append(user.username)
            report.sessions_ended += uow.lifecycle.revoke_sessions(user_id, now=now)
            if not uow.lifecycle.all_accounts_closed(user_id):
                continue
            for device in uow.lifecycle.devices_of(user_id):
                if (
                    device.owner_id != user_id
                    or DeviceKind(device.kind) not in services.policy.catalogue
                ):
                    continue
                kind, state = DeviceKind(device.kind), DeviceState(device.state)
                what = settle_on_close(kind, state, services.policy.catalogue[kind])
                label = device.serial or device.public_id
                if what is Settlement.RETURN and state in RETURNABLE_STATES:
                    begin_return(
                        services,
                        uow,
                        device,
                        ReturnReason.ACCOUNT_CLOSING,
                        Region.US_CANADA,
                        now=now,
                        actor=operator.actor,
                    )
                    report.returns.append(label)
                elif what is Settlement.RETURN:  # never left the warehouse
                    uow.lifecycle.move_device(device.id, frm=LIVE_STATES, to=DeviceState.REVOKED)
                    report.deactivated.append(label)
                elif what is Settlement.TAKE_DEPOSIT:
                    report.deposits_charged_cents += charge_deposits(
                        uow, device, now=now, reason=device.state, actor=operator.actor
                    )
                elif what is Settlement.SHRED:
                    uow.lifecycle.move_device(
                        device.id, frm=LIVE_STATES | {DeviceState.DAMAGED}, to=DeviceState.REVOKED
                    )
                    report.shredded.append(label)
                elif what is Settlement.REVOKE:
                    uow.lifecycle.move_device(device.id, frm=LIVE_STATES, to=DeviceState.REVOKED)
                    report.deactivated.append(label)
            notify(
                uow,
                user_id=user_id,
                phone=user.phone,
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
