"""The limits engine (SPEC §6, R-LIMIT-1..4): business days on the NYSE calendar in
America/New_York, the rolling 5-business-day window, and the checks, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securelogin.domain.devices.catalogue import DEFAULT_CATALOGUE, DeviceKind
from securelogin.domain.limits import (
    BusinessCalendar,
    LimitRule,
    Limits,
    business_day_of,
    check_withdrawal,
    limits_for,
    window,
)
from securelogin.service.context import Policy
from securelogin.service.funds.funds import calendar_for

NY = ZoneInfo("America/New_York")
NYSE = calendar_for(Policy())


def ny(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY).astimezone(UTC)


# --- R-LIMIT-2: the business day of a request -------------------------------------------


def test_R_LIMIT_2_a_weekday_is_its_own_business_day() -> None:
    assert business_day_of(ny(2026, 11, 24), NYSE) == date(2026, 11, 24)


def test_R_LIMIT_2_a_weekend_request_belongs_to_monday() -> None:
    assert business_day_of(ny(2026, 11, 28), NYSE) == date(2026, 11, 30)
    assert business_day_of(ny(2026, 11, 29, 23, 59), NYSE) == date(2026, 11, 30)


def test_R_LIMIT_2_thanksgiving_belongs_to_the_friday_after() -> None:
    assert business_day_of(ny(2026, 11, 26), NYSE) == date(2026, 11, 27)


def test_R_LIMIT_2_christmas_on_friday_belongs_to_monday_the_28th() -> None:
    assert business_day_of(ny(2026, 12, 25), NYSE) == date(2026, 12, 28)


def test_R_LIMIT_2_new_year_belongs_to_the_next_trading_day() -> None:
    assert business_day_of(ny(2026, 1, 1), NYSE) == date(2026, 1, 2)
    assert business_day_of(ny(2027, 1, 1), NYSE) == date(2027, 1, 4)  # Friday → Monday


def test_R_LIMIT_2_good_friday_belongs_to_monday() -> None:
    assert business_day_of(ny(2026, 4, 3), NYSE) == date(2026, 4, 6)


def test_R_LIMIT_2_the_day_is_taken_in_new_york_not_utc() -> None:
    # 2026-11-24 23:30 New York is already the 25th in UTC
    late = ny(2026, 11, 24, 23, 30)
    assert late.date() == date(2026, 11, 25)
    assert business_day_of(late, NYSE) == date(2026, 11, 24)
    # Friday 23:59:59 New York stays Friday; one second later it is Saturday → Monday
    friday = datetime(2026, 11, 20, 23, 59, 59, tzinfo=NY)
    assert business_day_of(friday, NYSE) == date(2026, 11, 20)
    assert business_day_of(friday + timedelta(seconds=1), NYSE) == date(2026, 11, 23)


def test_R_LIMIT_2_dst_ends_midnight_is_still_local_midnight() -> None:
    # DST ended 2026-11-01 (Sunday): Monday 00:00 EST is 05:00 UTC, not 04:00
    assert business_day_of(datetime(2026, 11, 2, 4, 30, tzinfo=UTC), NYSE) == date(2026, 11, 2)
    assert business_day_of(datetime(2026, 11, 3, 4, 30, tzinfo=UTC), NYSE) == date(2026, 11, 2)
    assert business_day_of(datetime(2026, 11, 3, 5, 0, tzinfo=UTC), NYSE) == date(2026, 11, 3)


def test_R_LIMIT_2_dst_starts_midnight_is_still_local_midnight() -> None:
    # DST began 2026-03-08 (Sunday): Monday 00:00 EDT is 04:00 UTC
    assert business_day_of(datetime(2026, 3, 10, 3, 59, tzinfo=UTC), NYSE) == date(2026, 3, 9)
    assert business_day_of(datetime(2026, 3, 10, 4, 0, tzinfo=UTC), NYSE) == date(2026, 3, 10)


def test_R_LIMIT_2_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        business_day_of(datetime(2026, 11, 24, 12, 0), NYSE)


# --- R-LIMIT-4: the rolling window -------------------------------------------------------


def test_R_LIMIT_4_window_skips_the_weekend() -> None:
    assert window(date(2026, 11, 24), NYSE) == (
        date(2026, 11, 18),
        date(2026, 11, 19),
        date(2026, 11, 20),
        date(2026, 11, 23),
        date(2026, 11, 24),
    )


def test_R_LIMIT_4_window_skips_thanksgiving() -> None:
    assert window(date(2026, 11, 30), NYSE) == (
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    )


def test_R_LIMIT_4_window_skips_christmas_and_new_year() -> None:
    assert window(date(2026, 12, 29), NYSE) == (
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
    )
    assert window(date(2027, 1, 4), NYSE) == (
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 4),
    )


def test_R_LIMIT_4_window_skips_good_friday() -> None:
    assert window(date(2026, 4, 7), NYSE) == (
        date(2026, 3, 31),
        date(2026, 4, 1),
        date(2026, 4, 2),
        date(2026, 4, 6),
        date(2026, 4, 7),
    )


def test_R_LIMIT_4_the_calendar_is_configurable() -> None:
    weekdays_only = BusinessCalendar(timezone="Asia/Tokyo", is_holiday=lambda d: False)
    assert window(date(2026, 11, 26), weekdays_only)[-2:] == (
        date(2026, 11, 25),
        date(2026, 11, 26),
    )
    # 2026-11-27 01:00 UTC is already Friday in Tokyo
    assert business_day_of(datetime(2026, 11, 26, 16, 0, tzinfo=UTC), weekdays_only) == date(
        2026, 11, 27
    )


# --- R-LIMIT-1, R-LIMIT-3, R-LIMIT-4, R-WD-2: the checks ---------------------------------


def test_R_LIMIT_1_limits_follow_the_confirming_device() -> None:
    sms = limits_for(device_kind=DeviceKind.SMS, opted_out=False, catalogue=DEFAULT_CATALOGUE)
    assert (sms.rank, sms.daily_cents, sms.window_cents) == (1, 20_000_000, 60_000_000)
    plus = limits_for(device_kind=DeviceKind.DSC_PLUS, opted_out=False, catalogue=DEFAULT_CATALOGUE)
    assert (plus.rank, plus.daily_cents, plus.window_cents) == (4, None, None)
    temp = limits_for(
        device_kind=DeviceKind.TEMPORARY_CODE, opted_out=False, catalogue=DEFAULT_CATALOGUE
    )
    assert (temp.rank, temp.daily_cents, temp.window_cents) == (0, 5_000_000, 10_000_000)


def test_R_LIMIT_1_opted_out_users_get_rank_0_whatever_they_hold() -> None:
    out = limits_for(device_kind=DeviceKind.DSC_PLUS, opted_out=True, catalogue=DEFAULT_CATALOGUE)
    assert (out.rank, out.daily_cents, out.window_cents) == (0, 5_000_000, 10_000_000)


SMS_LIMITS = Limits(rank=1, daily_cents=20_000_000, window_cents=60_000_000)


def test_R_LIMIT_3_the_daily_limit_counts_the_day_and_the_new_amount() -> None:
    ok = check_withdrawal(
        5_000_000, limits=SMS_LIMITS, available_cents=10**12, day_total=15_000_000,
        window_totals=[15_000_000],
    )  # fmt: skip
    assert ok.refused_by is None and ok.after.today_cents == 0
    over = check_withdrawal(
        5_000_001, limits=SMS_LIMITS, available_cents=10**12, day_total=15_000_000,
        window_totals=[15_000_000],
    )  # fmt: skip
    assert over.refused_by is LimitRule.DAILY
    assert over.remaining.today_cents == 5_000_000


def test_R_LIMIT_4_the_window_limit_counts_five_days() -> None:
    over = check_withdrawal(
        10_000_000, limits=SMS_LIMITS, available_cents=10**12, day_total=0,
        window_totals=[20_000_000, 20_000_000, 15_000_000, 0, 0],
    )  # fmt: skip
    assert over.refused_by is LimitRule.WINDOW
    assert over.remaining.window_cents == 5_000_000 and over.remaining.today_cents == 20_000_000


def test_R_WD_2_funds_are_checked_first() -> None:
    poor = check_withdrawal(
        100, limits=SMS_LIMITS, available_cents=99, day_total=0, window_totals=[]
    )
    assert poor.refused_by is LimitRule.FUNDS and poor.available_cents == 99


def test_R_LIMIT_3_unlimited_tiers_report_null_remaining() -> None:
    free = Limits(rank=4, daily_cents=None, window_cents=None)
    ok = check_withdrawal(10**14, limits=free, available_cents=10**15, day_total=10**14,
                          window_totals=[10**14])  # fmt: skip
    assert ok.refused_by is None and ok.remaining.today_cents is None


# --- a model-based test against a plain reference -----------------------------------------


def _reference(
    requests: list[tuple[int, int]], limits: Limits, balance: int, start: date
) -> list[bool]:
    """The plainest model: list every accepted withdrawal with its business day and
    re-add the sums from scratch on each request (calendar: every weekday that is not
    an NYSE holiday, counted by walking day by day)."""
    booked: list[tuple[date, int]] = []
    verdicts = []
    for offset_hours, amount in requests:
        at = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=offset_hours
        )
        local = at.astimezone(NY).date()
        while local.weekday() >= 5 or NYSE.is_holiday(local):
            local += timedelta(days=1)
        days: list[date] = []
        d = local
        while len(days) < 5:
            if d.weekday() < 5 and not NYSE.is_holiday(d):
                days.append(d)
            d -= timedelta(days=1)
        spent = balance - sum(a for _, a in booked)
        today = sum(a for day, a in booked if day == local)
        in_window = sum(a for day, a in booked if day in days)
        ok = (
            amount <= spent
            and (limits.daily_cents is None or today + amount <= limits.daily_cents)
            and (limits.window_cents is None or in_window + amount <= limits.window_cents)
        )
        verdicts.append(ok)
        if ok:
            booked.append((local, amount))
    return verdicts


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=0, max_value=18), st.integers(1, 120_000_00)),
        min_size=1,
        max_size=25,
    ),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 20)),
    kind=st.sampled_from([DeviceKind.TEMPORARY_CODE, DeviceKind.SMS, DeviceKind.DSC]),
    balance=st.integers(min_value=0, max_value=2_000_000_00),
)
def test_R_LIMIT_3_and_4_the_engine_agrees_with_a_plain_model(
    steps: list[tuple[int, int]], start: date, kind: DeviceKind, balance: int
) -> None:
    limits = limits_for(device_kind=kind, opted_out=False, catalogue=DEFAULT_CATALOGUE)
    requests = []
    hours = 0
    for gap, amount in steps:
        hours += gap * 7  # spread over days, weekends and holidays
        requests.append((hours, amount))
    totals: dict[date, int] = {}
    available = balance
    verdicts = []
    for offset_hours, amount in requests:
        at = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=offset_hours
        )
        day = business_day_of(at, NYSE)
        days = window(day, NYSE)
        check = check_withdrawal(
            amount,
            limits=limits,
            available_cents=available,
            day_total=totals.get(day, 0),
            window_totals=[totals.get(d, 0) for d in days],
        )
        verdicts.append(check.refused_by is None)
        if check.refused_by is None:
            totals[day] = totals.get(day, 0) + amount
            available -= amount
    assert verdicts == _reference(requests, limits, balance, start)
