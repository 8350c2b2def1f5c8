"""Where devices go back to (R-RETURN-1): the regional return addresses and support
numbers of the original return article (shared/reference/seed-articles.txt), held as data.

Japan has its address twice: in English and in Japanese.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from securelogin.errors import InvalidInput

#: R-RETURN-1: the advice shown with every return address
ADVICE_ENVELOPE = "padded envelope"
ADVICE_COURIER = "tracked courier (UPS, FedEx, DHL or USPS Express Mail)"
#: R-RETURN-1: "receipt shows 3–5 business days after shipping"
RECEIPT_BUSINESS_DAYS = (3, 5)


class Region(StrEnum):
    US_CANADA = "us_canada"
    EUROPE = "europe"
    ASIA = "asia"
    AUSTRALIA = "australia"
    JAPAN = "japan"


@dataclass(frozen=True, kw_only=True)
class ReturnAddress:
    region: Region
    lines: tuple[str, ...]
    phones: tuple[str, ...]
    #: the same address in the local language (Japan), else empty
    local_lines: tuple[str, ...] = ()
    local_phones: tuple[str, ...] = ()


RETURN_ADDRESSES: dict[Region, ReturnAddress] = {
    Region.US_CANADA: ReturnAddress(
        region=Region.US_CANADA,
        lines=(
            "Interactive Brokers, LLC.",
            "Attn: Token Return Department",
            "3 Pickwick Plaza",
            "Greenwich, CT 06830",
            "USA",
        ),
        phones=(
            "US: 1 (877) 442-2757 (toll free)",
            "US: 1 (312) 542-6901 (direct)",
            "Canada: 1 (877) 745-4222 (toll free)",
            "Canada: 1 (514) 847-3499 (direct)",
        ),
    ),
    Region.EUROPE: ReturnAddress(
        region=Region.EUROPE,
        lines=(
            "Interactive Brokers (U.K.) LTD.",
            "Attn: Token Return Department",
            "Gubelstrasse 28",
            "CH-6301 Zug",
            "Switzerland",
        ),
        phones=(
            "Europe: 00800-42-276537 (toll free)",
            "Europe: +41-41-726-9500 (direct)",
            "Russia: 8-800-100-8556 (toll free)",
            "Russia: +41-41-726-9506 (Русский)",
        ),
    ),
    Region.ASIA: ReturnAddress(
        region=Region.ASIA,
        lines=(
            "Interactive Brokers, LLC.",
            "Attn: Token Return Department",
            "Suite 1512, Two Pacific Place",
            "88 Queensway",
            "Admiralty",
            "Hong Kong",
        ),
        phones=("+852-2156-7907 (廣東話)", "+86 (21) 6086 8586 (普通话)"),
    ),
    Region.AUSTRALIA: ReturnAddress(
        region=Region.AUSTRALIA,
        lines=(
            "Interactive Brokers, LLC.",
            "Attn: Token Return Department",
            "PO Box R229",
            "Royal Exchange, NSW, 1225",
            "Australia",
        ),
        phones=("+61 (2) 8093-7300",),
    ),
    Region.JAPAN: ReturnAddress(
        region=Region.JAPAN,
        lines=(
            "Interactive Brokers Securities Japan, Inc.",
            "Attn: Token Return Department",
            "Kasumigaseki Building 25F",
            "2-5 Kasumigaseki 3 Chome, Chiyoda Ku",
            "Tokyo 100-6025",
            "Japan",
        ),
        phones=("+81 (3) 4588 9710 (direct, English)",),
        local_lines=(
            "インタラクティブ・ブローカーズ証券株式会社",
            "〒100-6025",
            "東京都千代田区霞ヶ関3-2-5",
            "霞ヶ関ビルディング25階",
            "セキュリティデバイス部",
        ),
        local_phones=("+81 (3) 4588 9700 直通 (日本語)",),
    ),
}

#: country of residence (ISO 3166 alpha-2) → return region; others default to US/Canada
_EUROPE = [
    "AT",
    "BE",
    "BG",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GB",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "RU",
    "SE",
    "SI",
    "SK",
    "UA",
]
_ASIA = ["CN", "HK", "MO", "TW", "SG", "KR", "IN", "ID", "MY", "PH", "TH", "VN"]
REGION_OF_COUNTRY: dict[str, Region] = {
    **{c: Region.EUROPE for c in _EUROPE},
    **{c: Region.ASIA for c in _ASIA},
    "AU": Region.AUSTRALIA,
    "NZ": Region.AUSTRALIA,
    "JP": Region.JAPAN,
    "US": Region.US_CANADA,
    "CA": Region.US_CANADA,
}


def region_for(country: str | None) -> Region:
    """The return region of a country of residence (US/Canada when unknown)."""
    return REGION_OF_COUNTRY.get((country or "").upper(), Region.US_CANADA)


def parse_region(text: str) -> Region:
    try:
        return Region(text)
    except ValueError:
        raise InvalidInput(
            f"region must be one of {', '.join(r.value for r in Region)}", field="region"
        ) from None
