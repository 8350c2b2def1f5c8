"""Money as people read it: one formatter, ``USD 1,497,500.00``, for every page, message
and command (SPEC §1: USD amounts; issue 13 item 10)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from securelogin.domain.money import format_usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (149_750_000, "USD 1,497,500.00"),  # cents
        (Decimal("1497500"), "USD 1,497,500.00"),
        ("1497500.00", "USD 1,497,500.00"),  # the API's canonical text
        ("2500", "USD 2,500.00"),
        (2000, "USD 20.00"),
        (5, "USD 0.05"),
        (0, "USD 0.00"),
        (-2000, "-USD 20.00"),
        (Decimal("1000000.5"), "USD 1,000,000.50"),
    ],
)
def test_SPEC_1_money_is_written_one_way(amount: Decimal | int | str, shown: str) -> None:
    assert format_usd(amount) == shown
