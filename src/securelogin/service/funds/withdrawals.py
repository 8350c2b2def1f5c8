"""Withdrawals within device-tier limits (SPEC §6: R-WD-1..4, R-LIMIT-1..5).

A withdrawal is asked for with an ``Idempotency-Key`` (R-WD-1), pre-checked against the
funds and the limits of the device that will confirm it (refused at once when it cannot
pass), and confirmed with a fresh second factor bound to its amount and destination
(R-WD-4).  The confirmation books it atomically: the account's row is locked, funds and
at most five per-business-day totals are read, the ledger row, the balance and the day's
total are written, all in one transaction (R-LIMIT-5).

The confirmation is a ceremony of purpose ``withdrawal`` (``service/ceremony/``), so the
whole per-kind machinery — unique challenges, 3 answers, single use, replay guards, the
push with number matching — applies unchanged; ``withdrawals.ceremony_id`` names it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from securelogin.domain.devices.base import Binding
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import AccountStatus, Right
from securelogin.domain.limits import (
    LimitCheck,
    LimitRule,
    Limits,
    Remaining,
    limits_for,
)
from securelogin.domain.money import format_usd, from_cents, to_cents
from securelogin.errors import (
    AccountClosed,
    IdempotencyKeyReused,
    InvalidInput,
    NoWithdrawRight,
    SecureLoginError,
    StorageUnavailable,
    UnknownAccount,
    UnknownWithdrawal,
    WithdrawalClosed,
    WithdrawalRefused,
)
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony.factors import (
    FactorView,
    choose_device,
    deliver_codes,
    factor_view,
    factor_without_device,
    open_ceremony,
)
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.context import Services
from securelogin.service.funds.funds import (
    account_state,
    check_limits,
    check_state,
    parse_amount,
    remaining_json,
)
from securelogin.service.funds.withdrawal_confirm import (
    binding_for,
    bound_view,
    limits_of,
    require_full,
)
from securelogin.service.funds_ports import (
    AccountAccess,
    AccountState,
    NewWithdrawal,
    WithdrawalRow,
    WithdrawalStatus,
)
from securelogin.service.login_ports import DeviceRow
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

#: 1–100 visible ASCII characters (inner spaces allowed): what the OpenAPI document says
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,98}[!-~])?$"
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
MAX_DESTINATION = 64


@dataclass(frozen=True, kw_only=True)
class WithdrawalStarted:
    """``201 {"withdrawal_id","status":"confirmation_required","factor"}``."""

    withdrawal_id: str
    status: WithdrawalStatus
    factor: FactorView | None
    remaining: Remaining


@dataclass(frozen=True, kw_only=True)
class WithdrawalView:
    withdrawal_id: str
    account: str
    amount: Decimal
    destination: str
    status: WithdrawalStatus
    reason: str | None
    business_day: date | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class WithdrawalRequest:
    """A checked request body: amount in cents, destination 1–64 printable characters."""

    account: str
    amount_cents: int
    destination: str
    idempotency_key: str
    device_id: str | None = None

    @property
    def digest(self) -> str:
        body = {
            "account": self.account,
            "amount_cents": self.amount_cents,
            "destination": self.destination,
            "device_id": self.device_id,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def parse_request(
    *,
    account: str,
    amount: object,
    destination: str,
    idempotency_key: str | None,
    device_id: str | None = None,
) -> WithdrawalRequest:
    """Bad input is refused with ``invalid_input`` naming the field; nothing is written."""
    key = (idempotency_key or "").strip()
    if IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise InvalidInput(
            "Send an Idempotency-Key header of 1-100 visible ASCII characters",
            field="idempotency_key",
        )
    value = parse_amount(amount)
    if not (1 <= len(destination) <= MAX_DESTINATION) or not destination.isprintable():
        raise InvalidInput("destination must be 1-64 printable characters", field="destination")
    return WithdrawalRequest(
        account=account.strip().upper(),
        amount_cents=to_cents(value),
        destination=destination,
        idempotency_key=key,
        device_id=device_id,
    )


def _refusal(check: LimitCheck) -> WithdrawalRefused:
    assert check.refused_by is not None  # noqa: S101 - only called for refusals
    left = remaining_json(check.remaining)
    available = str(from_cents(check.available_cents))
    messages = {
        "insufficient_funds": f"Insufficient funds: {format_usd(check.available_cents)} available",
        "daily_limit_exceeded": (
            f"Daily withdrawal limit: {_left(check.remaining.today_cents)} left today"
        ),
        "five_day_limit_exceeded": (
            f"5-business-day withdrawal limit: {_left(check.remaining.window_cents)}"
            " left in the window"
        ),
    }
    return WithdrawalRefused(
        messages[check.refused_by.value],
        rule=check.refused_by.value,
        remaining=left,
        available=available,
    )


def _left(cents: int | None) -> str:
    return "no limit" if cents is None else format_usd(cents)


def _new_id(services: Services, prefix: str) -> str:
    raw = base64.urlsafe_b64encode(services.random.token_bytes(16)).decode().rstrip("=")
    return prefix + raw


def _access(access: AccountAccess | None) -> AccountAccess:
    if access is None:
        raise UnknownAccount
    if access.status is not AccountStatus.OPEN:
        raise AccountClosed("This account is closed; withdrawals are not possible")
    if Right.WITHDRAW not in access.rights:
        raise NoWithdrawRight
    return access


def request_withdrawal(
    services: Services,
    session: CurrentSession,
    request: WithdrawalRequest,
    *,
    client_ip: str | None = None,
) -> WithdrawalStarted:
    """R-WD-1: the same key and body give the same answer and one row; the same key with
    another body is refused.  A request that cannot pass is refused at once (and that
    refusal is what the key answers from then on).  ``client_ip`` is where the request
    came from, shown in the withdrawal's push (R-KEY-4 "from where")."""
    require_full(session)
    started = _request_once(services, session, request, client_ip)
    if started.factor is not None and started.factor.prompt.sent_to is not None:
        deliver_codes(services)
    return started


def _request_once(
    services: Services, session: CurrentSession, request: WithdrawalRequest, client_ip: str | None
) -> WithdrawalStarted:
    """One transaction.  The idempotency key is looked up by the insert itself (a used key
    inserts nothing): a replay does the checks again, inserts nothing and answers with the
    first row, and everything this attempt wrote (its ceremony) is rolled back.  A check
    that fails looks the key up before it answers, so a replay still gets its first
    answer when the account closed or the device went since."""
    now = services.clock.now()
    with services.uow() as uow:
        try:
            answer = _request_checked(services, uow, session, request, client_ip, now)
        except _Replay:
            found = uow.funds.withdrawal_by_key(session.user_id, request.idempotency_key)
        except StorageUnavailable:
            raise
        except SecureLoginError:
            found = uow.funds.withdrawal_by_key(session.user_id, request.idempotency_key)
            if found is None:
                raise
        else:
            if isinstance(answer, WithdrawalRefused):
                raise answer  # committed: the key answers with this refusal from now on
            return answer
        if found is None:  # pragma: no cover - the key's row made the insert a no-op
            raise WithdrawalClosed
        return _replay(services, uow, found, request)


class _Replay(Exception):
    """The insert found the idempotency key used (by an earlier or a twin request)."""


def _request_checked(
    services: Services,
    uow: UnitOfWork,
    session: CurrentSession,
    request: WithdrawalRequest,
    client_ip: str | None,
    now: datetime,
) -> WithdrawalStarted | WithdrawalRefused:
    """The checks and the rows; a refusal is committed, then returned to be raised."""
    state, access, device, check = _precheck(services, uow, session, request, now)
    row = NewWithdrawal(
        id=_new_id(services, "wd_"),
        account_id=access.account_id,
        user_id=session.user_id,
        idempotency_key=request.idempotency_key,
        request_hash=request.digest,
        amount_cents=request.amount_cents,
        destination=request.destination,
        status=WithdrawalStatus.CONFIRMATION_REQUIRED,
        reason=None,
        device_id=device.id if device is not None else None,
        ceremony_id=None,
        created_at=now,
        expires_at=now + timedelta(seconds=services.policy.login_ttl_seconds),
    )
    details = {
        "withdrawal": row.id,
        "account": access.number,
        "amount": str(from_cents(request.amount_cents)),
        "destination": request.destination,
        "kind": device.kind if device is not None else "password",
    }
    if check.refused_by is not None:
        row = dataclasses.replace(
            row, status=WithdrawalStatus.REFUSED, reason=check.refused_by.value
        )
        if not uow.funds.add_withdrawal(row):
            raise _Replay
        record_user_event(uow, "withdrawal.refused", state.username, reason=row.reason, **details)
        uow.commit()
        return _refusal(check)
    factor = _open_confirmation(services, uow, row, device, now, client_ip)
    record_user_event(uow, "withdrawal.requested", state.username, **details)
    uow.commit()
    return WithdrawalStarted(
        withdrawal_id=row.id,
        status=WithdrawalStatus.CONFIRMATION_REQUIRED,
        factor=factor,
        remaining=check.remaining,
    )


def _precheck(
    services: Services,
    uow: UnitOfWork,
    session: CurrentSession,
    request: WithdrawalRequest,
    now: datetime,
) -> tuple[AccountState, AccountAccess, DeviceRow | None, LimitCheck]:
    """In one statement on one snapshot, with no lock: the account and the user's rights
    on it, funds and the day's and window's debits (R-WD-2, R-LIMIT-3/4); then the
    confirming device and its tier (R-LIMIT-1).  A pre-check only: the confirmation
    checks again under the account's lock before it books (R-LIMIT-5).  A user with no
    device confirms with the password, at rank 0 (R-WD-4), as the restrictions API says."""
    state = account_state(
        services,
        uow,
        user_id=session.user_id,
        number=request.account,
        requested_at=now,
        locked=False,
    )
    if state is None:
        raise UnknownAccount
    access = _access(state.access)
    device = choose_device(
        services, uow, user_id=session.user_id, requested=request.device_id, now=now
    )
    if device is None:
        factor_without_device(services, Purpose.WITHDRAWAL)  # DeviceRequired if none
    limits = limits_for(
        device_kind=DeviceKind(device.kind) if device is not None else None,
        opted_out=state.opted_out,
        catalogue=services.policy.catalogue,
    )
    check = check_state(state, limits=limits, amount_cents=request.amount_cents)
    return state, access, device, check


def _open_confirmation(
    services: Services,
    uow: UnitOfWork,
    row: NewWithdrawal,
    device: DeviceRow | None,
    now: datetime,
    client_ip: str | None,
) -> FactorView:
    """The confirmation's ceremony with its challenge bound to amount, destination and a
    fresh nonce (R-WD-4) — with no device, the password's prompt, which names them too —
    then the withdrawal that names it."""
    binding = binding_for(services, row.amount_cents, row.destination)
    ceremony, factor = open_ceremony(
        services,
        uow,
        purpose=Purpose.WITHDRAWAL,
        subject=row.id,
        user_id=row.user_id,
        device=device,
        expires_at=row.expires_at,
        now=now,
        platform="portal",
        client_ip=client_ip,
        binding=binding,
    )
    if not uow.funds.add_withdrawal(dataclasses.replace(row, ceremony_id=ceremony.id)):
        raise _Replay
    return bound_view(factor, binding)


def _replay(
    services: Services, uow: UnitOfWork, found: WithdrawalRow, request: WithdrawalRequest
) -> WithdrawalStarted:
    """The same key again: the first answer, or a refusal if the body differs."""
    if found.request_hash != request.digest:
        raise IdempotencyKeyReused
    limits = limits_of(services, found)
    if found.status is WithdrawalStatus.REFUSED and found.ceremony_id is None:
        check = check_limits(
            services,
            uow,
            user_id=found.user_id,
            account_id=found.account_id,
            limits=limits,
            amount_cents=found.amount_cents,
            requested_at=found.created_at,
            locked=False,
        )
        raise _refusal(
            dataclasses.replace(check, refused_by=LimitRule(found.reason or "insufficient_funds"))
        )
    factor, status = None, found.status
    if (
        status is WithdrawalStatus.CONFIRMATION_REQUIRED
        and services.clock.now() >= found.expires_at
    ):
        status = WithdrawalStatus.EXPIRED
    if status is WithdrawalStatus.CONFIRMATION_REQUIRED and found.ceremony_id is not None:
        factor = _current_factor(uow, found)
    return WithdrawalStarted(
        withdrawal_id=found.id,
        status=status,
        factor=factor,
        remaining=_remaining(services, uow, found, limits),
    )


def _current_factor(uow: UnitOfWork, found: WithdrawalRow) -> FactorView | None:
    view = factor_view(uow, found.ceremony_id) if found.ceremony_id else None
    if view is None:
        return None
    binding = Binding(
        amount=str(from_cents(found.amount_cents)), destination=found.destination, nonce=b""
    )
    return bound_view(view, binding)


def _remaining(
    services: Services, uow: UnitOfWork, found: WithdrawalRow, limits: Limits
) -> Remaining:
    now = services.clock.now()
    check = check_limits(
        services,
        uow,
        user_id=found.user_id,
        account_id=found.account_id,
        limits=limits,
        amount_cents=1,
        requested_at=now,
        locked=False,
    )
    return check.remaining


def withdrawal_status(
    services: Services, session: CurrentSession, withdrawal_id: str
) -> WithdrawalView:
    """``GET /withdrawals/{id}``: one of the caller's withdrawals (expiry is computed)."""
    now = services.clock.now()
    with services.uow() as uow:
        found = uow.funds.withdrawal(withdrawal_id)
    if found is None or found.user_id != session.user_id:
        raise UnknownWithdrawal
    status = found.status
    if status is WithdrawalStatus.CONFIRMATION_REQUIRED and now >= found.expires_at:
        status = WithdrawalStatus.EXPIRED
    return WithdrawalView(
        withdrawal_id=found.id,
        account=found.account_number,
        amount=from_cents(found.amount_cents),
        destination=found.destination,
        status=status,
        reason=found.reason,
        business_day=found.business_day,
        created_at=found.created_at,
        expires_at=found.expires_at,
    )


def withdrawal_changes(services: Services, withdrawal_ids: list[str]) -> set[str]:
    """Long-poll wake-ups, one query for all waiters: which of these withdrawals were
    decided (by a typed answer or a push approval, in any process) or expired."""
    with services.uow() as uow:
        waiting = uow.funds.still_waiting(withdrawal_ids, now=services.clock.now())
    return set(withdrawal_ids) - waiting


def pending_confirmation(
    services: Services, session: CurrentSession, withdrawal_id: str
) -> tuple[WithdrawalView, FactorView | None]:
    """The portal's confirmation step: the withdrawal and the prompt its device shows."""
    view = withdrawal_status(services, session, withdrawal_id)
    with services.uow() as uow:
        found = uow.funds.withdrawal(withdrawal_id)
        factor = None
        if found is not None and view.status is WithdrawalStatus.CONFIRMATION_REQUIRED:
            factor = _current_factor(uow, found)
    return view, factor
