"""Who gets which session (SPEC §1 "Session", R-LOGIN-4/7/8/9/11) and when a login is
locked (R-LOGIN-3).  Pure: the clock's reading and the catalogue are parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from securelogin.domain.devices.catalogue import DeviceKind, DeviceState, KindInfo

TEMPORARY_FULL = timedelta(days=2)
TEMPORARY_CARD_ONLY = timedelta(days=10)


class AccessLevel(StrEnum):
    FULL = "full"
    CARD_ONLY = "card_only"
    DOCUMENTS_ONLY = "documents_only"
    TRADING_PASSWORD_ONLY = "trading_password_only"  # noqa: S105 - an access level


class Platform(StrEnum):
    PORTAL = "portal"
    TRADING = "trading"


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A device as the choice of the second factor sees it."""

    id: int
    kind: DeviceKind
    state: DeviceState
    activated_at: datetime | None
    expires_at: datetime | None


def usable_until(device: Candidate) -> datetime | None:
    """When an active device stops working (a temporary code after 12 days: R-LOGIN-9)."""
    if device.kind is DeviceKind.TEMPORARY_CODE and device.activated_at is not None:
        end = device.activated_at + TEMPORARY_FULL + TEMPORARY_CARD_ONLY
        return min(end, device.expires_at) if device.expires_at else end
    return device.expires_at


def is_usable(device: Candidate, *, now: datetime) -> bool:
    until = usable_until(device)
    return device.state is DeviceState.ACTIVE and (until is None or now < until)


def choose_factor(
    devices: Sequence[Candidate],
    *,
    catalogue: Mapping[DeviceKind, KindInfo],
    now: datetime,
    requested: int | None = None,
) -> Candidate | None:
    """R-LOGIN-4: the strongest usable device, or the one the client picked among them.

    Ties go to the earliest device, so that the choice is stable between logins.
    Returns None when the user has no usable device; raises LookupError when the
    requested device is not one of the user's usable devices.
    """
    usable = [d for d in devices if is_usable(d, now=now) and d.kind in catalogue]
    if requested is not None:
        for device in usable:
            if device.id == requested:
                return device
        raise LookupError("not one of the user's active devices")
    if not usable:
        return None
    return max(usable, key=lambda d: (catalogue[d.kind].rank, -d.id))


def temporary_access(issued_at: datetime, *, now: datetime) -> tuple[AccessLevel, datetime]:
    """R-LOGIN-9: ``full`` for 2 days from the code's issue, then ``card_only`` for 10 more
    days; returns the level and when it ends."""
    full_until = issued_at + TEMPORARY_FULL
    if now < full_until:
        return AccessLevel.FULL, full_until
    return AccessLevel.CARD_ONLY, full_until + TEMPORARY_CARD_ONLY


def lock_ends(
    failures: int, last_failure: datetime | None, *, threshold: int, window: timedelta
) -> datetime | None:
    """R-LOGIN-3: locked until ``window`` after the last failure once ``threshold``
    consecutive failures happened within the window; None when not locked."""
    if last_failure is None or failures < threshold:
        return None
    return last_failure + window
