"""Account money (SPEC §1 "Account", §6): the business calendar, the limit check under
the account's lock (R-LIMIT-3/4/5), amounts, and deposits.

The check reads the account row (locked), its held deposits and at most five
per-business-day totals, in one statement: its cost does not grow with the account's
history.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

import holidays

from securelogin.domain.audit import AuditEvent
from securelogin.domain.identity import AccountStatus
from securelogin.domain.limits import (
    BusinessCalendar,
    LimitCheck,
    Limits,
    Remaining,
    business_day_of,
    check_withdrawal,
    window,
)
from securelogin.domain.money import MoneyError, from_cents, parse_amount_text, to_cents
from securelogin.errors import AccountClosed, InvalidInput, UnknownAccount
from securelogin.service.context import Policy, Services
from securelogin.service.funds_ports import AccountState
from securelogin.service.ports import UnitOfWork


def parse_amount(amount: object) -> Decimal:
    try:
        value = parse_amount_text(amount)
    except MoneyError as exc:
        raise InvalidInput(f"amount {exc}", field="amount") from None
    if value <= 0:
        raise InvalidInput("amount must be greater than zero", field="amount")
    return value


@lru_cache(maxsize=8)
def _calendar(timezone: str, exchange: str) -> BusinessCalendar:
    closed = holidays.financial_holidays(exchange)
    return BusinessCalendar(timezone=timezone, is_holiday=lambda day: day in closed)


def calendar_for(policy: Policy) -> BusinessCalendar:
    """R-LIMIT-2: the configured exchange calendar (default NYSE) in the brokerage's zone."""
    return _calendar(policy.timezone, policy.calendar)


def remaining_json(remaining: Remaining) -> dict[str, str | None]:
    def text(cents: int | None) -> str | None:
        return None if cents is None else str(from_cents(cents))

    return {"today": text(remaining.today_cents), "window": text(remaining.window_cents)}


def limit_days(services: Services, requested_at: datetime) -> tuple[date, tuple[date, ...]]:
    """R-LIMIT-2/3/4: the business day of ``requested_at`` and its 5-business-day window."""
    calendar = calendar_for(services.policy)
    day = business_day_of(requested_at, calendar)
    return day, window(day, calendar)


def account_state(
    services: Services,
    uow: UnitOfWork,
    *,
    user_id: int,
    requested_at: datetime,
    locked: bool,
    account_id: int | None = None,
    number: str | None = None,
) -> AccountState | None:
    """The account, the user's access, funds and the day's and window's debits in one
    statement.  With ``locked`` (by ``account_id``) the account's lock is taken first,
    in a statement of its own, so that this read starts after it (R-LIMIT-5)."""
    day, days = limit_days(services, requested_at)
    if locked:
        if account_id is None:
            raise ValueError("the account's lock is taken by its id")
        uow.funds.lock(account_id)
    return uow.funds.account_state(
        user_id=user_id, account_id=account_id, number=number, day=day, days=days
    )


def check_state(state: AccountState, *, limits: Limits, amount_cents: int) -> LimitCheck:
    """R-WD-2, R-LIMIT-3, R-LIMIT-4 on what :func:`account_state` read."""
    return check_withdrawal(
        amount_cents,
        limits=limits,
        available_cents=state.funds.available_cents,
        day_total=state.day_total_cents,
        window_totals=[state.window_total_cents],
    )


def check_limits(
    services: Services,
    uow: UnitOfWork,
    *,
    user_id: int,
    account_id: int,
    limits: Limits,
    amount_cents: int,
    requested_at: datetime,
    locked: bool,
) -> LimitCheck:
    """Funds and the two limits for one amount, one statement reading ≤ 5 per-day rows
    (R-LIMIT-3/4).  With ``locked`` the account's lock is taken first (R-LIMIT-5)."""
    state = account_state(
        services,
        uow,
        user_id=user_id,
        account_id=account_id,
        requested_at=requested_at,
        locked=locked,
    )
    if state is None:
        raise UnknownAccount
    return check_state(state, limits=limits, amount_cents=amount_cents)


def deposit(services: Services, *, account: str, amount: object, actor: str = "admin") -> Decimal:
    """Credit an account (funding desk / demo); returns the new balance.  Takes the
    account's lock like every change of its money."""
    value = parse_amount(amount)
    with services.uow() as uow:
        row = uow.accounts.by_number(account.strip().upper())
        if row is None:
            raise UnknownAccount
        funds = uow.funds.lock_account(row.id)
        if funds.status is not AccountStatus.OPEN:
            raise AccountClosed("This account is closed")
        uow.funds.credit(
            account_id=row.id,
            amount_cents=to_cents(value),
            reference="deposit",
            now=services.clock.now(),
        )
        uow.audit.record(
            AuditEvent(
                action="funds.deposited",
                actor=actor,
                subject=row.number,
                data={"amount": str(value)},
            )
        )
        uow.commit()
    return from_cents(funds.balance_cents + to_cents(value))
