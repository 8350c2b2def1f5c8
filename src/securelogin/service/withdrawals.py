"""Withdrawals within device-tier limits (SPEC §6: R-WD-1..4, R-LIMIT-1..5).

A withdrawal is asked for with an ``Idempotency-Key`` (R-WD-1), pre-checked against the
funds and the limits of the device that will confirm it (refused at once when it cannot
pass), and confirmed with a fresh second factor bound to its amount and destination
(R-WD-4).  The confirmation books it atomically: the account's row is locked, funds and
at most five per-business-day totals are read, the ledger row, the balance and the day's
total are written, all in one transaction (R-LIMIT-5).

The confirmation's challenge hangs off an internal ``logins`` row with status
``withdrawal`` (never exposed, never answerable as a login), so the whole per-kind
machinery of :mod:`securelogin.service.factors` — unique challenges, 3 answers, single
use, replay guards — applies unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from securelogin.domain.access import AccessLevel
from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.base import Binding
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import AccountStatus, Right
from securelogin.domain.limits import (
    LimitCheck,
    LimitRule,
    Limits,
    Remaining,
    business_day_of,
    limits_for,
)
from securelogin.domain.money import from_cents, to_cents
from securelogin.errors import (
    AccessDenied,
    AccountClosed,
    ConfirmationFailed,
    DeviceRequired,
    IdempotencyKeyReused,
    InvalidInput,
    Locked,
    NoWithdrawRight,
    UnknownAccount,
    UnknownWithdrawal,
    WithdrawalClosed,
    WithdrawalExpired,
    WithdrawalRefused,
)
from securelogin.service.context import Services
from securelogin.service.factors import (
    FactorView,
    check_answer,
    choose_device,
    factor_view,
    issue_challenge,
)
from securelogin.service.funds import (
    calendar_for,
    check_limits,
    parse_amount,
    remaining_json,
)
from securelogin.service.funds_ports import (
    AccountAccess,
    DebitKind,
    NewWithdrawal,
    WithdrawalRow,
    WithdrawalStatus,
)
from securelogin.service.login import deliver_codes, locked_until, lockout
from securelogin.service.login_ports import FailureCounter
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

#: the status of the internal logins row that carries a withdrawal's challenge
CONFIRMATION_LOGIN = "withdrawal"
MAX_ANSWERS = 3
MAX_KEY_LENGTH = 100
MAX_DESTINATION = 64


@dataclass(frozen=True, kw_only=True)
class WithdrawalStarted:
    """``201 {"withdrawal_id","status":"confirmation_required","factor"}``."""

    withdrawal_id: str
    status: WithdrawalStatus
    factor: FactorView | None
    remaining: Remaining


@dataclass(frozen=True, kw_only=True)
class ConfirmResult:
    """``200 {"status":"accepted"|"refused","reason"?,"remaining"}`` (SPEC §10.2)."""

    withdrawal_id: str
    status: WithdrawalStatus
    reason: str | None
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
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "Send an Idempotency-Key header of 1-100 printable characters",
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
        "insufficient_funds": f"Insufficient funds: USD {available} available",
        "daily_limit_exceeded": f"Daily withdrawal limit: USD {left['today']} left today",
        "five_day_limit_exceeded": (
            f"5-business-day withdrawal limit: USD {left['window']} left in the window"
        ),
    }
    return WithdrawalRefused(
        messages[check.refused_by.value],
        rule=check.refused_by.value,
        remaining=left,
        available=available,
    )


def _new_id(services: Services, prefix: str) -> str:
    raw = base64.urlsafe_b64encode(services.random.token_bytes(16)).decode().rstrip("=")
    return prefix + raw


def _account_for(uow: UnitOfWork, user_id: int, number: str) -> AccountAccess:
    access = uow.funds.access(user_id, number)
    if access is None:
        raise UnknownAccount
    if access.status is not AccountStatus.OPEN:
        raise AccountClosed("This account is closed; withdrawals are not possible")
    if Right.WITHDRAW not in access.rights:
        raise NoWithdrawRight
    return access


def _require_full(session: CurrentSession) -> None:
    if session.access_level is not AccessLevel.FULL:
        raise AccessDenied("This session may not withdraw funds")


def request_withdrawal(
    services: Services, session: CurrentSession, request: WithdrawalRequest
) -> WithdrawalStarted:
    """R-WD-1: the same key and body give the same answer and one row; the same key with
    another body is refused.  A request that cannot pass is refused at once (and that
    refusal is what the key answers from then on)."""
    _require_full(session)
    for _ in range(2):  # a concurrent insert of the same key: the second round finds it
        started = _request_once(services, session, request)
        if started is not None:
            break
    else:  # pragma: no cover - the key's row exists after the first round
        raise WithdrawalClosed
    if started.factor is not None and started.factor.prompt.sent_to is not None:
        deliver_codes(services)
    return started


def _request_once(
    services: Services, session: CurrentSession, request: WithdrawalRequest
) -> WithdrawalStarted | None:
    now = services.clock.now()
    with services.uow() as uow:
        found = uow.funds.withdrawal_by_key(session.user_id, request.idempotency_key)
        if found is not None:
            return _replay(services, uow, found, request)
        access = _account_for(uow, session.user_id, request.account)
        user = uow.users.by_id(session.user_id)
        assert user is not None  # noqa: S101 - a session always has its user
        device = choose_device(services, uow, user_id=user.id, requested=request.device_id, now=now)
        if device is None:
            raise DeviceRequired
        limits = limits_for(
            device_kind=DeviceKind(device.kind),
            opted_out=user.opted_out,
            catalogue=services.policy.catalogue,
        )
        check = check_limits(
            services,
            uow,
            account_id=access.account_id,
            limits=limits,
            amount_cents=request.amount_cents,
            requested_at=now,
            locked=True,
        )
        found = uow.funds.withdrawal_by_key(session.user_id, request.idempotency_key)
        if found is not None:  # a twin request committed while we waited for the lock
            return _replay(services, uow, found, request)
        withdrawal_id = _new_id(services, "wd_")
        expires_at = now + timedelta(seconds=services.policy.login_ttl_seconds)
        row = NewWithdrawal(
            id=withdrawal_id,
            account_id=access.account_id,
            user_id=user.id,
            idempotency_key=request.idempotency_key,
            request_hash=request.digest,
            amount_cents=request.amount_cents,
            destination=request.destination,
            status=WithdrawalStatus.CONFIRMATION_REQUIRED,
            reason=None,
            device_id=device.id,
            login_id=None,
            created_at=now,
            expires_at=expires_at,
        )
        audit = {
            "withdrawal": withdrawal_id,
            "account": access.number,
            "amount": str(from_cents(request.amount_cents)),
            "destination": request.destination,
            "kind": device.kind,
        }
        if check.refused_by is not None:
            row = dataclasses.replace(
                row, status=WithdrawalStatus.REFUSED, reason=check.refused_by.value
            )
            if not uow.funds.add_withdrawal(row):
                return None
            _audit(uow, "withdrawal.refused", user.username, reason=row.reason, **audit)
            uow.commit()
            raise _refusal(check)
        login_id = _new_id(services, "wl_")
        uow.logins.add(
            login_id=login_id,
            user_id=user.id,
            platform="portal",
            device_id=device.id,
            status=CONFIRMATION_LOGIN,
            now=now,
            expires_at=expires_at,
        )
        if not uow.funds.add_withdrawal(dataclasses.replace(row, login_id=login_id)):
            return None
        binding = Binding(
            amount=str(from_cents(request.amount_cents)),
            destination=request.destination,
            nonce=services.random.token_bytes(16),
        )
        factor = issue_challenge(
            services,
            uow,
            device=device,
            login_id=login_id,
            expires_at=expires_at,
            now=now,
            binding=binding,
        )
        _audit(uow, "withdrawal.requested", user.username, **audit)
        uow.commit()
    return WithdrawalStarted(
        withdrawal_id=withdrawal_id,
        status=WithdrawalStatus.CONFIRMATION_REQUIRED,
        factor=_bound_view(factor, binding),
        remaining=check.remaining,
    )


def _bound_view(factor: FactorView, binding: Binding) -> FactorView:
    """R-WD-4: every withdrawal prompt names the amount and the destination."""
    prompt = dataclasses.replace(
        factor.prompt, amount=binding.amount, destination=binding.destination
    )
    return dataclasses.replace(factor, prompt=prompt)


def _replay(
    services: Services, uow: UnitOfWork, found: WithdrawalRow, request: WithdrawalRequest
) -> WithdrawalStarted:
    """The same key again: the first answer, or a refusal if the body differs."""
    if found.request_hash != request.digest:
        raise IdempotencyKeyReused
    limits = _limits_of(services, uow, found)
    if found.status is WithdrawalStatus.REFUSED and found.login_id is None:
        check = check_limits(
            services,
            uow,
            account_id=found.account_id,
            limits=limits,
            amount_cents=found.amount_cents,
            requested_at=found.created_at,
            locked=False,
        )
        raise _refusal(
            dataclasses.replace(check, refused_by=LimitRule(found.reason or "insufficient_funds"))
        )
    factor = None
    if found.status is WithdrawalStatus.CONFIRMATION_REQUIRED and found.login_id is not None:
        factor = _current_factor(uow, found)
    return WithdrawalStarted(
        withdrawal_id=found.id,
        status=found.status,
        factor=factor,
        remaining=_remaining(services, uow, found.account_id, limits),
    )


def _current_factor(uow: UnitOfWork, found: WithdrawalRow) -> FactorView | None:
    login = uow.logins.get(found.login_id) if found.login_id else None
    view = factor_view(uow, login) if login is not None else None
    if view is None:
        return None
    binding = Binding(
        amount=str(from_cents(found.amount_cents)), destination=found.destination, nonce=b""
    )
    return _bound_view(view, binding)


def _limits_of(services: Services, uow: UnitOfWork, found: WithdrawalRow) -> Limits:
    """R-LIMIT-1: the tier of the device that confirms this withdrawal."""
    user = uow.users.by_id(found.user_id)
    device = uow.device_access.by_id(found.device_id) if found.device_id else None
    return limits_for(
        device_kind=DeviceKind(device.kind) if device else None,
        opted_out=bool(user and user.opted_out),
        catalogue=services.policy.catalogue,
    )


def _remaining(services: Services, uow: UnitOfWork, account_id: int, limits: Limits) -> Remaining:
    now = services.clock.now()
    check = check_limits(
        services,
        uow,
        account_id=account_id,
        limits=limits,
        amount_cents=1,
        requested_at=now,
        locked=False,
    )
    return check.remaining


def confirm_withdrawal(
    services: Services, session: CurrentSession, withdrawal_id: str, response: str
) -> ConfirmResult:
    """``POST /withdrawals/{id}/confirm``: check the bound answer, then book or refuse
    atomically under the account's lock (R-LIMIT-5).  A wrong answer is counted as a
    second-factor failure (R-LOGIN-3) *before* it is evaluated, in its own transaction."""
    _require_full(session)
    now = services.clock.now()
    _reserve_failure(services, session.user_id, withdrawal_id, now)
    with services.uow() as uow:
        found = _open_withdrawal(uow, withdrawal_id, now, user_id=session.user_id)
        login = uow.logins.get(found.login_id) if found.login_id else None
        if login is None:
            raise WithdrawalClosed
        outcome = check_answer(
            services, uow, login=login, response=response, now=now, max_answers=MAX_ANSWERS
        )
        user = uow.users.by_id(found.user_id)
        username = user.username if user else "?"
        if outcome.accepted is None:
            _audit(uow, "withdrawal.confirmation_failed", username, withdrawal=found.id)
            if outcome.exhausted:
                _decide_refused(uow, found, "confirmation_failed", username, now)
            uow.commit()
            raise ConfirmationFailed
        result = _book(services, uow, found, username, now, via="challenge")
        uow.failures.clear(found.user_id, FailureCounter.FACTOR)
        uow.commit()
    return result


def confirmed_by_push(services: Services, withdrawal_id: str, device_id: int) -> ConfirmResult:
    """The interface for push devices (issue 4, R-KEY-4, R-WD-4).

    Call it after the mobile key's signed approval of *this* withdrawal was verified
    (number matched, signature over amount and destination checked) for the device
    ``device_id`` (the ``devices.id`` the push went to).  It does exactly what a correct
    ``/confirm`` answer does: in one transaction it checks that the withdrawal still
    waits for a confirmation from that device and has not expired, retires its open
    challenges (the OCRA fallback can no longer be used), locks the account, re-checks
    funds and both limits, and books it or refuses it.  Raises ``UnknownWithdrawal``
    (other device, unknown id), ``WithdrawalClosed`` (already decided) or
    ``WithdrawalExpired``.  Returns the :class:`ConfirmResult` the API answers.
    """
    now = services.clock.now()
    with services.uow() as uow:
        found = _open_withdrawal(uow, withdrawal_id, now, user_id=None)
        if found.device_id != device_id:
            raise UnknownWithdrawal
        if found.login_id is not None:
            uow.challenges.retire(found.login_id, now=now)
        user = uow.users.by_id(found.user_id)
        result = _book(services, uow, found, user.username if user else "?", now, via="push")
        uow.commit()
    return result


def _reserve_failure(services: Services, user_id: int, withdrawal_id: str, now: datetime) -> None:
    """Count the answer as a failure up front (cleared on success), only for a withdrawal
    that can still be confirmed."""
    with services.uow() as uow:
        _open_withdrawal(uow, withdrawal_id, now, user_id=user_id)
        reserved = uow.failures.reserve(
            user_id, FailureCounter.FACTOR, now=now, lockout=lockout(services, now)
        )
        if reserved is None:
            user = uow.users.by_id(user_id)
            raise Locked(retry_at=locked_until(services, user, now) if user else None)
        uow.commit()


def _open_withdrawal(
    uow: UnitOfWork, withdrawal_id: str, now: datetime, *, user_id: int | None
) -> WithdrawalRow:
    found = uow.funds.withdrawal(withdrawal_id)
    if found is None or (user_id is not None and found.user_id != user_id):
        raise UnknownWithdrawal
    if found.status is not WithdrawalStatus.CONFIRMATION_REQUIRED:
        raise WithdrawalClosed
    if now >= found.expires_at:
        raise WithdrawalExpired
    return found


def _decide_refused(
    uow: UnitOfWork, found: WithdrawalRow, reason: str, username: str, now: datetime
) -> None:
    uow.funds.decide(
        found.id,
        status=WithdrawalStatus.REFUSED,
        reason=reason,
        business_day=None,
        ledger_entry_id=None,
        now=now,
    )
    _audit(uow, "withdrawal.refused", username, withdrawal=found.id, reason=reason)


def _book(
    services: Services,
    uow: UnitOfWork,
    found: WithdrawalRow,
    username: str,
    now: datetime,
    *,
    via: str,
) -> ConfirmResult:
    """R-LIMIT-5: lock, re-check, then write ledger, balance and day total together."""
    limits = _limits_of(services, uow, found)
    access = uow.funds.access(found.user_id, found.account_number)
    check = check_limits(
        services,
        uow,
        account_id=found.account_id,
        limits=limits,
        amount_cents=found.amount_cents,
        requested_at=found.created_at,
        locked=True,
    )
    if access is None or access.status is not AccountStatus.OPEN:
        _decide_refused(uow, found, "account_closed", username, now)
        return ConfirmResult(
            withdrawal_id=found.id,
            status=WithdrawalStatus.REFUSED,
            reason="account_closed",
            remaining=check.remaining,
        )
    if check.refused_by is not None:
        _decide_refused(uow, found, check.refused_by.value, username, now)
        return ConfirmResult(
            withdrawal_id=found.id,
            status=WithdrawalStatus.REFUSED,
            reason=check.refused_by.value,
            remaining=check.remaining,
        )
    day = business_day_of(found.created_at, calendar_for(services.policy))
    entry = uow.funds.book_debit(
        account_id=found.account_id,
        kind=DebitKind.WITHDRAWAL,
        amount_cents=found.amount_cents,
        business_day=day,
        reference=found.id,
        now=now,
    )
    if not uow.funds.decide(
        found.id,
        status=WithdrawalStatus.ACCEPTED,
        reason=None,
        business_day=day,
        ledger_entry_id=entry,
        now=now,
    ):
        raise WithdrawalClosed  # a twin confirmation won; this transaction rolls back
    _audit(
        uow,
        "withdrawal.confirmed",
        username,
        withdrawal=found.id,
        account=found.account_number,
        amount=str(from_cents(found.amount_cents)),
        destination=found.destination,
        business_day=day.isoformat(),
        via=via,
    )
    return ConfirmResult(
        withdrawal_id=found.id,
        status=WithdrawalStatus.ACCEPTED,
        reason=None,
        remaining=check.after,
    )


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


def _audit(uow: UnitOfWork, action: str, username: str, **data: str | int | None) -> None:
    uow.audit.record(
        AuditEvent(
            action=action,
            actor=username,
            subject=username,
            data={k: v for k, v in data.items() if v is not None},
        )
    )


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
