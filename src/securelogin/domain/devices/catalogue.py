"""The device catalogue of SPEC §2: kinds, ranks and the limits that follow them.

This is the default table; an installation may pass its own (SPEC: every number is
configuration).  ``None`` means unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class DeviceKind(StrEnum):
    TEMPORARY_CODE = "temporary_code"
    SMS = "sms"
    CODE_CARD = "code_card"
    ONLINE_CODE_CARD = "online_code_card"
    MOBILE_KEY = "mobile_key"
    DSC = "dsc"
    DSC_PLUS = "dsc_plus"
    PLATINUM_CARD = "platinum_card"
    GOLD_CARD = "gold_card"
    TOTP_APP = "totp_app"
    PASSKEY = "passkey"


class DeviceState(StrEnum):
    """SPEC §1: ordered → shipped → pending_activation → active → {…}."""

    ORDERED = "ordered"
    SHIPPED = "shipped"
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    LOST = "lost"
    DAMAGED = "damaged"
    STOLEN = "stolen"
    EXPIRED = "expired"
    REPLACED = "replaced"
    RETURN_PENDING = "return_pending"
    RETURNED = "returned"
    REVOKED = "revoked"
    #: hardware imported from a PSKC file, not yet assigned to anybody
    IN_STOCK = "in_stock"


#: kinds whose seeds come from the manufacturer (PSKC, SPEC §2) or an import file as hex
HARDWARE_KINDS: tuple[DeviceKind, ...] = (
    DeviceKind.DSC,
    DeviceKind.DSC_PLUS,
    DeviceKind.PLATINUM_CARD,
    DeviceKind.GOLD_CARD,
)
#: printed or online security code cards: two positions asked, values stored as hashes
CARD_KINDS: frozenset[DeviceKind] = frozenset({DeviceKind.CODE_CARD, DeviceKind.ONLINE_CODE_CARD})


@dataclass(frozen=True, kw_only=True)
class KindInfo:
    kind: DeviceKind
    rank: int
    daily_limit: Decimal | None
    five_day_limit: Decimal | None
    temporary: bool = False
    physical: bool = False
    shareable: bool = False


def _usd(value: int) -> Decimal:
    return Decimal(value)


#: rank 0 also applies to users with no device or who opted out (SPEC §2, first row)
NO_DEVICE = KindInfo(
    kind=DeviceKind.TEMPORARY_CODE, rank=0, daily_limit=_usd(50_000), five_day_limit=_usd(100_000)
)

DEFAULT_CATALOGUE: dict[DeviceKind, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(
            kind=DeviceKind.TEMPORARY_CODE,
            rank=0,
            daily_limit=_usd(50_000),
            five_day_limit=_usd(100_000),
            temporary=True,
        ),
        KindInfo(
            kind=DeviceKind.SMS, rank=1, daily_limit=_usd(200_000), five_day_limit=_usd(600_000)
        ),
        KindInfo(
            kind=DeviceKind.CODE_CARD,
            rank=1,
            daily_limit=_usd(200_000),
            five_day_limit=_usd(600_000),
            physical=True,
            shareable=True,
        ),
        KindInfo(
            kind=DeviceKind.ONLINE_CODE_CARD,
            rank=1,
            daily_limit=_usd(200_000),
            five_day_limit=_usd(600_000),
            temporary=True,
        ),
        KindInfo(
            kind=DeviceKind.TOTP_APP,
            rank=1,
            daily_limit=_usd(200_000),
            five_day_limit=_usd(600_000),
        ),
        KindInfo(
            kind=DeviceKind.MOBILE_KEY,
            rank=2,
            daily_limit=_usd(1_000_000),
            five_day_limit=_usd(1_000_000),
            shareable=True,
        ),
        KindInfo(
            kind=DeviceKind.PASSKEY,
            rank=2,
            daily_limit=_usd(1_000_000),
            five_day_limit=_usd(1_000_000),
        ),
        KindInfo(
            kind=DeviceKind.DSC,
            rank=3,
            daily_limit=_usd(1_000_000),
            five_day_limit=_usd(1_500_000),
            physical=True,
            shareable=True,
        ),
        KindInfo(
            kind=DeviceKind.DSC_PLUS,
            rank=4,
            daily_limit=None,
            five_day_limit=None,
            physical=True,
            shareable=True,
        ),
        KindInfo(
            kind=DeviceKind.PLATINUM_CARD,
            rank=4,
            daily_limit=None,
            five_day_limit=None,
            physical=True,
            shareable=True,
        ),
        KindInfo(
            kind=DeviceKind.GOLD_CARD,
            rank=4,
            daily_limit=None,
            five_day_limit=None,
            physical=True,
            shareable=True,
        ),
    )
}
