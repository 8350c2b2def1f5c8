"""R-RESTRICT-1: what other systems may ask about a user — SLS participation, tier, Pink
Sheet/OTCBB trading, and the withdrawal limits with what is left of them today and in the
5-business-day window, per account the user may withdraw from."""

from __future__ import annotations

from dataclasses import dataclass

from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import AccountStatus, PolicyViolation, Right, normalize_username
from securelogin.domain.limits import Limits, Remaining, limits_for
from securelogin.errors import AccessDenied, UnknownUser
from securelogin.service import sessions
from securelogin.service.ceremony.factors import choose_device
from securelogin.service.context import Services
from securelogin.service.funds import service_keys
from securelogin.service.funds.funds import check_limits
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import Tier


@dataclass(frozen=True, kw_only=True)
class AccountLimits:
    account: str
    available_cents: int
    remaining: Remaining


@dataclass(frozen=True, kw_only=True)
class Restrictions:
    username: str
    sls_participant: bool
    tier: Tier
    may_trade_pink_sheets: bool
    limits: Limits
    accounts: list[AccountLimits]
    #: the user holds no usable device and confirms withdrawals with the password
    #: (R-WD-4) — within exactly these limits
    confirms_with_password: bool = False


def restrictions_for(services: Services, *, bearer: str, username: str) -> Restrictions:
    """A service key may ask about anyone; a session only about its own user."""
    try:
        name = normalize_username(username)
    except PolicyViolation:
        raise UnknownUser from None
    if service_keys.is_service_key(bearer):
        service_keys.authenticate_service(services, bearer)
        caller_id = None
    else:
        caller_id = sessions.authenticate(services, bearer).user_id
    with services.uow() as uow:
        user = uow.users.by_username(name)
        if user is None or (caller_id is not None and caller_id != user.id):
            if caller_id is not None:
                raise AccessDenied("A session may only ask about its own user")
            raise UnknownUser
        return describe(services, uow, user_id=user.id)


def describe(services: Services, uow: UnitOfWork, *, user_id: int) -> Restrictions:
    """The tier is the user's strongest active device (R-LIMIT-1 default); rank 0 when
    the user opted out (R-OPT-2) or has no device.  The figures are those a withdrawal
    confirmed by that device — or by the password, with none — can book (R-WD-4)."""
    now = services.clock.now()
    user = uow.users.by_id(user_id)
    assert user is not None  # noqa: S101 - callers pass an existing user
    device = choose_device(services, uow, user_id=user.id, requested=None, now=now)
    kind = DeviceKind(device.kind) if device is not None else None
    limits = limits_for(
        device_kind=kind, opted_out=user.opted_out, catalogue=services.policy.catalogue
    )
    accounts = []
    for access in uow.funds.accounts_of(user.id):
        if access.status is not AccountStatus.OPEN or Right.WITHDRAW not in access.rights:
            continue
        check = check_limits(
            services,
            uow,
            user_id=user.id,
            account_id=access.account_id,
            limits=limits,
            amount_cents=1,
            requested_at=now,
            locked=False,
        )
        accounts.append(
            AccountLimits(
                account=access.number,
                available_cents=check.available_cents,
                remaining=check.remaining,
            )
        )
    return Restrictions(
        username=user.username,
        sls_participant=not user.opted_out,
        tier=Tier(rank=limits.rank, device_kind=None if user.opted_out else kind),
        may_trade_pink_sheets=not user.opted_out,
        limits=limits,
        accounts=accounts,
        confirms_with_password=device is None,
    )


def my_limits(services: Services, session: sessions.CurrentSession) -> Restrictions:
    """The portal's withdrawal page: the same figures for the session's user."""
    with services.uow() as uow:
        return describe(services, uow, user_id=session.user_id)
