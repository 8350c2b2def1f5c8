"""Business days and withdrawal limits (SPEC §6, R-LIMIT-1..4), as pure functions.

The calendar is passed in (STYLE.md rule 1): a time zone and a holiday predicate, by
default NYSE trading days in America/New_York (the service builds it from the
``holidays`` package).  Money is integer cents here; ``None`` is "unlimited".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from securelogin.domain.devices.catalogue import NO_DEVICE, DeviceKind, KindInfo
from securelogin.domain.money import to_cents

#: R-LIMIT-4: the business day itself and the 4 business days before it
WINDOW_DAYS = 5
#: no exchange calendar closes for more than a few days in a row; a bound against bad data
MAX_CLOSED_RUN = 30


@dataclass(frozen=True, kw_only=True)
class BusinessCalendar:
    """Trading days: Monday–Friday that are not holidays, in ``timezone``."""

    timezone: str
    is_holiday: Callable[[date], bool]

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def local_date(self, at: datetime) -> date:
        if at.tzinfo is None:
            raise ValueError("naive datetime; business days need an aware instant")
        return at.astimezone(ZoneInfo(self.timezone)).date()


def business_day_of(at: datetime, calendar: BusinessCalendar) -> date:
    """R-LIMIT-2: the day requested, in the brokerage's zone, or the next business day
    when that day is a weekend or an exchange holiday."""
    day = calendar.local_date(at)
    for _ in range(MAX_CLOSED_RUN):
        if calendar.is_business_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no business day within {MAX_CLOSED_RUN} days of {day}")


def window(day: date, calendar: BusinessCalendar, size: int = WINDOW_DAYS) -> tuple[date, ...]:
    """R-LIMIT-4: ``day`` (a business day) and the ``size - 1`` business days before it,
    oldest first."""
    days = [day]
    current = day
    while len(days) < size:
        for _ in range(MAX_CLOSED_RUN):
            current -= timedelta(days=1)
            if calendar.is_business_day(current):
                break
        else:
            raise ValueError(f"no business day within {MAX_CLOSED_RUN} days before {current}")
        days.append(current)
    return tuple(reversed(days))


class LimitRule(StrEnum):
    """Why a withdrawal cannot pass; the values are the stable codes of SPEC §10.2."""

    FUNDS = "insufficient_funds"
    DAILY = "daily_limit_exceeded"
    WINDOW = "five_day_limit_exceeded"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The limits of one tier, in cents (None = unlimited)."""

    rank: int
    daily_cents: int | None
    window_cents: int | None


@dataclass(frozen=True, kw_only=True)
class Remaining:
    """What the daily and the 5-business-day limits still allow (None = unlimited)."""

    today_cents: int | None
    window_cents: int | None


@dataclass(frozen=True, kw_only=True)
class LimitCheck:
    """The verdict for one amount: ``refused_by`` is None when it may pass. ``remaining``
    is what is left *before* this amount (a refusal says how much is still available,
    R-WD-3); ``after`` is what is left once it is booked."""

    refused_by: LimitRule | None
    remaining: Remaining
    after: Remaining
    available_cents: int


def limits_for(
    *,
    device_kind: DeviceKind | None,
    opted_out: bool,
    catalogue: Mapping[DeviceKind, KindInfo],
) -> Limits:
    """R-LIMIT-1: the tier of the confirming device; rank 0 for users who opted out
    (whatever they hold) and for users with no device."""
    info = NO_DEVICE if opted_out or device_kind is None else catalogue[device_kind]
    return Limits(
        rank=info.rank,
        daily_cents=None if info.daily_limit is None else to_cents(info.daily_limit),
        window_cents=None if info.five_day_limit is None else to_cents(info.five_day_limit),
    )


def remaining(limits: Limits, *, day_total: int, window_total: int) -> Remaining:
    """Limit minus what was already booked, never below zero."""
    return Remaining(
        today_cents=None if limits.daily_cents is None else max(0, limits.daily_cents - day_total),
        window_cents=(
            None if limits.window_cents is None else max(0, limits.window_cents - window_total)
        ),
    )


def check_withdrawal(
    amount_cents: int,
    *,
    limits: Limits,
    available_cents: int,
    day_total: int,
    window_totals: Sequence[int],
) -> LimitCheck:
    """R-WD-2, R-LIMIT-3, R-LIMIT-4 in that order: funds, then the day, then the window.

    ``day_total`` is what the account already withdrew or transferred out on the
    withdrawal's business day; ``window_totals`` the same per day of its window."""
    if amount_cents <= 0:
        raise ValueError("amount must be positive")
    window_total = sum(window_totals)
    before = remaining(limits, day_total=day_total, window_total=window_total)
    after = remaining(
        limits, day_total=day_total + amount_cents, window_total=window_total + amount_cents
    )
    refused_by = None
    if amount_cents > available_cents:
        refused_by = LimitRule.FUNDS
    elif before.today_cents is not None and amount_cents > before.today_cents:
        refused_by = LimitRule.DAILY
    elif before.window_cents is not None and amount_cents > before.window_cents:
        refused_by = LimitRule.WINDOW
    return LimitCheck(
        refused_by=refused_by,
        remaining=before,
        after=before if refused_by else after,
        available_cents=available_cents,
    )
