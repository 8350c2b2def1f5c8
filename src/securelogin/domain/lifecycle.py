"""Rules of the device lifecycle (SPEC §5.4–5.6, R-OPS-4), as pure functions.

No clock, no storage: times, the exchange calendar's holidays and the numbers of
:class:`LifecyclePolicy` are parameters.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from securelogin.domain.devices.catalogue import CARD_KINDS, DeviceKind, DeviceState, KindInfo
from securelogin.errors import InvalidSoftPin

SOFT_PIN = re.compile(r"[0-9]{4}")
ADDRESS_MAX = 500


@dataclass(frozen=True, kw_only=True)
class LifecyclePolicy:
    """The configurable numbers of §5.4–5.6 (SPEC: every number is configuration)."""

    #: R-LOST-3: the physical device a replacement request asks for
    replacement_kind: DeviceKind = DeviceKind.DSC_PLUS
    #: R-LOST-3: the device deposit hold, in cents (USD 20)
    deposit_cents: int = 2000
    #: R-LOST-3: estimated ship date = this many business days after the confirmation
    ship_business_days: int = 2
    #: R-LOST-4: a shipped device activates itself this many days after shipping …
    auto_activation_days: int = 21
    #: … and the user is told this many days before
    reminder_days_before: int = 3
    #: R-LOGIN-9: a temporary code is usable 2 + 10 days from its issue
    temporary_code_days: int = 12
    #: R-OPS-4: expired challenges are deleted this long after they expire
    challenge_retention: timedelta = timedelta(hours=24)
    #: R-RETURN-3: a device not received this many days after its account closed is charged
    closure_return_days: int = 30


class RequestState(StrEnum):
    """R-LOST-3/4: a replacement request from the user's draft to its activation."""

    DRAFT = "draft"
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    SHIPPED = "shipped"
    ACTIVATED = "activated"
    CANCELLED = "cancelled"


class ReturnReason(StrEnum):
    """R-RETURN-1: why a device comes back."""

    DAMAGED = "damaged"
    REPLACED = "replaced"
    CONSOLIDATED = "consolidated"
    ACCOUNT_CLOSING = "account_closing"


class HoldState(StrEnum):
    HELD = "held"
    RELEASED = "released"
    CHARGED = "charged"


#: devices that can still be used or are on their way (closure settles these)
LIVE_STATES = frozenset(
    {
        DeviceState.ORDERED,
        DeviceState.SHIPPED,
        DeviceState.PENDING_ACTIVATION,
        DeviceState.ACTIVE,
    }
)
#: R-RETURN-3: a device in one of these states costs its deposit
DEPOSIT_TAKEN_STATES = frozenset({DeviceState.LOST, DeviceState.STOLEN})
#: states from which a user may send a device back
RETURNABLE_STATES = frozenset(
    {DeviceState.ACTIVE, DeviceState.DAMAGED, DeviceState.REPLACED, DeviceState.SHIPPED}
)


def check_soft_pin(pin: str) -> str:
    """R-LOST-3: exactly four digits (ASCII; full-width digits are refused)."""
    if not SOFT_PIN.fullmatch(pin):
        raise InvalidSoftPin
    return pin


def is_business_day(day: date, *, holidays: Container[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, *, holidays: Container[date]) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself never counts)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_business_day(current, holidays=holidays):
            left -= 1
    return current


def auto_activation_at(shipped_at: datetime, policy: LifecyclePolicy) -> datetime:
    """R-LOST-4: a shipped device becomes active by itself at this time."""
    return shipped_at + timedelta(days=policy.auto_activation_days)


def reminder_at(shipped_at: datetime, policy: LifecyclePolicy) -> datetime:
    """R-LOST-4: the user hears about the auto-activation this long before it happens."""
    return auto_activation_at(shipped_at, policy) - timedelta(days=policy.reminder_days_before)


class Settlement(StrEnum):
    """What closing an account does with one device (R-CLOSE-1, R-RETURN-3/4)."""

    RETURN = "return"  # physical device still out there: return_pending, hold stays
    TAKE_DEPOSIT = "take_deposit"  # lost or stolen: a hold still held becomes a charge
    SHRED = "shred"  # code cards: shredded, deactivated, never returned
    REVOKE = "revoke"  # nothing physical, or never left the warehouse: deactivated
    NOTHING = "nothing"  # already settled (returned, revoked, expired …)


#: the states closure moves to ``revoked`` (shred, revoke)
SETTLED_FROM = LIVE_STATES | {DeviceState.DAMAGED}


def settle_on_close(kind: DeviceKind, state: DeviceState, info: KindInfo) -> Settlement:
    """R-CLOSE-1: the one decision per device that both the closure and its preview use."""
    if state in DEPOSIT_TAKEN_STATES:
        return Settlement.TAKE_DEPOSIT
    if state not in SETTLED_FROM:
        return Settlement.NOTHING
    if kind in CARD_KINDS:
        return Settlement.SHRED
    if info.physical and state in RETURNABLE_STATES:
        return Settlement.RETURN
    return Settlement.REVOKE
