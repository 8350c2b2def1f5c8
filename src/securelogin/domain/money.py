"""Money: ``Decimal`` USD in the code, integer cents in the database (SPEC §1)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
#: a bound far above any real account, so that a typo cannot overflow a BIGINT
MAX_CENTS = 10**15
#: SPEC §10.2: an amount is a JSON string of ASCII digits with at most two decimals
AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


class MoneyError(ValueError):
    """A text is not an amount of USD with at most two decimals."""


def parse_usd(text: object) -> Decimal:
    """Read ``"2500000.00"`` as a Decimal; refuse floats, NaN, >2 decimals and huge values."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise MoneyError('must be a decimal string such as "123.45"')
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise MoneyError('must be a decimal string such as "123.45"') from exc
    if not value.is_finite():
        raise MoneyError("must be a finite amount")
    if value != value.quantize(CENT):
        raise MoneyError("must have at most two decimals")
    if abs(value) * 100 >= MAX_CENTS:
        raise MoneyError("is too large")
    return value.quantize(CENT)


def parse_amount_text(text: object) -> Decimal:
    """An amount as SPEC §10.2 writes it, and nothing else: a string matching
    :data:`AMOUNT_PATTERN` — no number, boolean, sign, space, exponent, ``_`` separator
    or non-ASCII digit (``Decimal`` and ``int`` would read ``"1_000"``, ``"1e3"``, ``"５"``)."""
    if not isinstance(text, str) or _AMOUNT.fullmatch(text) is None:
        raise MoneyError('must be a string of digits with at most two decimals, such as "123.45"')
    return parse_usd(text)


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_usd(amount: Decimal | int | str) -> str:
    """Money as people read it, the one way every page, message and command writes it:
    ``USD 1,497,500.00`` (``-USD 20.00`` below zero).  An ``int`` is cents; a ``str`` is
    the API's canonical ``"1497500.00"``."""
    value = from_cents(amount) if isinstance(amount, int) else Decimal(amount).quantize(CENT)
    sign = "-" if value < 0 else ""
    return f"{sign}USD {abs(value):,.2f}"
