"""Confirming a withdrawal (R-WD-4, R-LIMIT-5): the bound answer or the push approval,
then the atomic booking under the account's lock.

One transaction takes the user's answer lock (R-LOGIN-3: only wrong answers count, a
right one is never refused because others are in flight), checks the answer against
*this* withdrawal's challenge, locks the account, re-checks funds and both limits, writes the
ledger row, the balance and the day's total, decides the withdrawal and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from securelogin.domain.access import AccessLevel
from securelogin.domain.ceremony import CeremonyClosed, CeremonyOutcome
from securelogin.domain.devices.base import Binding
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import AccountStatus
from securelogin.domain.limits import Limits, Remaining, business_day_of, limits_for
from securelogin.domain.money import from_cents
from securelogin.errors import (
    AccessDenied,
    AlreadyUsed,
    ConfirmationFailed,
    UnknownWithdrawal,
    WithdrawalClosed,
    WithdrawalExpired,
)
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony import record
from securelogin.service.ceremony.answers import evaluated
from securelogin.service.ceremony.counting import Verdict
from securelogin.service.ceremony.factors import FactorView, issue_challenge
from securelogin.service.ceremony.outcomes import Approval, Denial
from securelogin.service.ceremony.ports import CeremonyRow
from securelogin.service.context import Services
from securelogin.service.funds.funds import account_state, calendar_for, check_state
from securelogin.service.funds_ports import DebitKind, WithdrawalRow, WithdrawalStatus
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

MAX_ANSWERS = 3


@dataclass(frozen=True, kw_only=True)
class ConfirmResult:
    """``200 {"status":"accepted"|"refused","reason"?,"remaining"}`` (SPEC §10.2)."""

    withdrawal_id: str
    status: WithdrawalStatus
    reason: str | None
    remaining: Remaining


def require_full(session: CurrentSession) -> None:
    if session.access_level is not AccessLevel.FULL:
        raise AccessDenied("This session may not withdraw funds")


def bound_view(factor: FactorView, binding: Binding) -> FactorView:
    """R-WD-4: every withdrawal prompt names the amount and the destination."""
    prompt = replace(factor.prompt, amount=binding.amount, destination=binding.destination)
    return replace(factor, prompt=prompt)


def confirm_withdrawal(
    services: Services, session: CurrentSession, withdrawal_id: str, response: str
) -> ConfirmResult:
    """``POST /withdrawals/{id}/confirm``: under the user's answer lock (R-LOGIN-3),
    check the bound answer, then book or refuse atomically under the account's lock
    (R-LIMIT-5).  Only a wrong answer counts as a second-factor failure; a twin of the
    answer that decided this withdrawal is ``WithdrawalClosed``, a code accepted before
    ``AlreadyUsed`` — neither counts.  The password of a user with no device (R-WD-4) is
    checked the same way, its hash with no lock held (``ceremony.answers``)."""
    require_full(session)
    now = services.clock.now()

    def open_ceremony(uow: UnitOfWork) -> tuple[CeremonyRow, WithdrawalRow]:
        found = _open_withdrawal(uow, withdrawal_id, now, user_id=session.user_id)
        return _ceremony(found), found

    with evaluated(
        services,
        user_id=session.user_id,
        response=response,
        now=now,
        max_answers=MAX_ANSWERS,
        open_ceremony=open_ceremony,
    ) as turn:
        uow, held, found, outcome = turn.uow, turn.held, turn.subject, turn.outcome
        if outcome.accepted is None:
            record_user_event(
                uow, "withdrawal.confirmation_failed", held.username, withdrawal=found.id
            )
            if outcome.exhausted:
                _decide_refused(uow, found, "confirmation_failed", held.username, now)
            uow.commit()
            if outcome.verdict is Verdict.ALREADY_USED:
                raise AlreadyUsed
            raise ConfirmationFailed
        via = "challenge" if found.device_id is not None else "password"
        result = _book(services, uow, found, held.username, now, via=via)
        uow.commit()
    return result


def confirmed_by_push(
    services: Services, withdrawal_id: str, device_id: int | str
) -> ConfirmResult:
    """Book a withdrawal whose push was approved, in a transaction of its own (the push
    answer itself uses :func:`push_approved`, inside the approval's transaction).

    ``device_id`` is the device the push went to (``devices.id`` or its public id).  It
    does exactly what a correct ``/confirm`` answer does: ends the confirmation's
    ceremony as approved (its typed fallback can no longer be used), locks the account,
    re-checks funds and both limits, and books it or refuses it.  Raises
    ``UnknownWithdrawal`` (other device, unknown id), ``WithdrawalClosed`` (already
    decided) or ``WithdrawalExpired``.
    """
    now = services.clock.now()
    with services.uow() as uow:
        found = _open_withdrawal(uow, withdrawal_id, now, user_id=None)
        _approving_device(found, device_id)
        try:
            record.finish(uow, _ceremony(found), CeremonyOutcome.APPROVED, now)
        except CeremonyClosed:
            raise WithdrawalClosed from None
        result = _book_approved(services, uow, found, now)
        uow.commit()
    return result


def push_approved(services: Services, uow: UnitOfWork, approval: Approval) -> None:
    """The withdrawal's push was approved (wired in bootstrap.py; the ceremony ended as
    authenticated in this unit of work): book or refuse it in the approval's own unit
    of work, so that both commit together or neither does."""
    found = _open_withdrawal(uow, approval.subject, approval.at, user_id=None)
    _approving_device(found, approval.device_id)
    _book_approved(services, uow, found, approval.at)


def push_denied(services: Services, uow: UnitOfWork, denial: Denial) -> None:
    """The withdrawal's push was denied on the device (wired in bootstrap.py; its
    ceremony ended as denied): the withdrawal is refused in the same commit, so the page
    waiting for it moves on at once instead of offering a fallback that cannot pass."""
    found = uow.funds.withdrawal(denial.subject)
    if found is None or found.status is not WithdrawalStatus.CONFIRMATION_REQUIRED:
        return
    _decide_refused(uow, found, "confirmation_failed", found.username, denial.at)


def _approving_device(found: WithdrawalRow, device_id: int | str) -> None:
    """The approval came from the device the withdrawal's push went to (read with it)."""
    if found.device_id is None or device_id not in (found.device_id, found.device_public_id):
        raise UnknownWithdrawal


def _book_approved(
    services: Services, uow: UnitOfWork, found: WithdrawalRow, now: datetime
) -> ConfirmResult:
    return _book(services, uow, found, found.username, now, via="push")


def _ceremony(found: WithdrawalRow) -> CeremonyRow:
    """The confirmation's ceremony, read with the withdrawal (in the same statement)."""
    if found.ceremony is None:
        raise WithdrawalClosed
    return found.ceremony


def push_fallback(services: Services, session: CurrentSession, withdrawal_id: str) -> FactorView:
    """R-LOGIN-5 for withdrawals: "Click here if you do not receive the notification" —
    the mobile key's offline OCRA challenge, bound to amount, destination and a fresh
    nonce (R-WD-4); the push stays valid too, whichever succeeds first wins."""
    now = services.clock.now()
    with services.uow() as uow:
        found = _open_withdrawal(uow, withdrawal_id, now, user_id=session.user_id)
        device = uow.device_access.by_id(found.device_id) if found.device_id else None
        ceremony = _ceremony(found)
        if device is None or device.kind != DeviceKind.MOBILE_KEY:
            raise WithdrawalClosed
        binding = binding_for(services, found.amount_cents, found.destination)
        factor = issue_challenge(
            services,
            uow,
            device=device,
            ceremony=ceremony,
            expires_at=found.expires_at,
            now=now,
            binding=binding,
            fallback=True,
        )
        uow.commit()
    return bound_view(factor, binding)


def binding_for(services: Services, amount_cents: int, destination: str) -> Binding:
    return Binding(
        amount=str(from_cents(amount_cents)),
        destination=destination,
        nonce=services.random.token_bytes(16),
    )


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
    record_user_event(uow, "withdrawal.refused", username, withdrawal=found.id, reason=reason)


def _book(
    services: Services,
    uow: UnitOfWork,
    found: WithdrawalRow,
    username: str,
    now: datetime,
    *,
    via: str,
) -> ConfirmResult:
    """R-LIMIT-5: lock, re-check, then write ledger, balance and day total together.
    The account's lock first, then one statement reads the user's grant, the funds and
    the day's and window's debits (it starts after the lock, so it sees what the lock's
    previous holder booked); the limits' tier came with the withdrawal (R-LIMIT-1)."""
    state = account_state(
        services,
        uow,
        user_id=found.user_id,
        account_id=found.account_id,
        requested_at=found.created_at,
        locked=True,
    )
    if state is None:  # pragma: no cover - the withdrawal's account and user exist
        raise UnknownWithdrawal
    check = check_state(state, limits=limits_of(services, found), amount_cents=found.amount_cents)
    if state.access is None or state.funds.status is not AccountStatus.OPEN:
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
    record_user_event(
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


def limits_of(services: Services, found: WithdrawalRow) -> Limits:
    """R-LIMIT-1: the tier of the device that confirms this withdrawal (its kind and the
    user's opt-out are read with the withdrawal)."""
    return limits_for(
        device_kind=DeviceKind(found.device_kind) if found.device_kind else None,
        opted_out=found.opted_out,
        catalogue=services.policy.catalogue,
    )
