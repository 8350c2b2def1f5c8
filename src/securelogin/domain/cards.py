"""Security code cards (SPEC §2, §3): the values, and how a card is laid out for print.

Pure: the randomness is a parameter (``draw`` is ``secrets.randbelow`` in production), and
the layout is plain arithmetic shared by the PDF and the HTML renderer so that both show
the same grid.  A card has numbered positions ``1..N``; each carries a 3-character value.
The login screen names two positions and the user types both values, concatenated without
spaces (KB1042); case and spaces are ignored.

New cards draw from :data:`CARD_ALPHABET`, which has no look-alike pairs (SPEC §2: none of
``0 O 1 I L 2 Z 5 S 8 B``), so a client who reads ``O`` for ``0`` cannot fail a login on
it.  Cards issued earlier drew from ``A–Z0–9`` (:data:`ISSUED_CARD_CHARACTERS`) and keep
working: values are stored only as hashes of what was printed, whatever the alphabet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

#: SPEC §2: no look-alike pairs.  25 symbols: a 6-character answer carries 27.9 bits
#: (A–Z0–9 gave 31.0); the lock-out after a few wrong answers (R-LOGIN-3) is what bounds
#: guessing, not these bits.
LOOK_ALIKES = frozenset("0O1IL2Z5S8B")
CARD_ALPHABET = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if c not in LOOK_ALIKES)
#: what a card issued before the look-alike rule may carry (imported cards, old prints)
ISSUED_CARD_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
VALUE_LENGTH = 3
DEFAULT_POSITIONS = 200
#: two are needed for a challenge; 300 (30 rows of 10) still prints readably on one page
MIN_POSITIONS = 2
MAX_POSITIONS = 300
#: SPEC §2: columns of the printed grid (rows follow from the number of positions)
DEFAULT_COLUMNS = 10

HOW_TO_USE = (
    "When the login screen shows two numbers, type the two codes next to them, without spaces."
)
KEEP_SAFE = (
    "Keep this card safe and private. Anyone who has it and your password can log in to "
    "your account. Never send a photo or a copy of it, and never tell the codes to "
    "anyone: our staff will never ask for them. If the card is lost or stolen, call "
    "Client Services at once. When it is replaced, shred it: code cards are never returned."
)


class CardError(ValueError):
    """A card request or a card breaks its shape (positions, values)."""


def generate_card(
    draw: Callable[[int], int], *, positions: int = DEFAULT_POSITIONS
) -> dict[int, str]:
    """Fresh values for positions ``1..positions``; ``draw(n)`` returns 0 ≤ x < n uniformly
    (``secrets.randbelow``: SPEC §3 "generated with ``secrets``")."""
    _check_positions(positions)
    size = len(CARD_ALPHABET)
    return {
        position: "".join(CARD_ALPHABET[draw(size)] for _ in range(VALUE_LENGTH))
        for position in range(1, positions + 1)
    }


def _check_positions(positions: int) -> None:
    if not MIN_POSITIONS <= positions <= MAX_POSITIONS:
        raise CardError(
            f"a code card has between {MIN_POSITIONS} and {MAX_POSITIONS} positions, "
            f"not {positions}"
        )


def is_card_value(value: str) -> bool:
    """A value a card may carry: new cards' alphabet or the ``A–Z0–9`` of earlier cards."""
    return len(value) == VALUE_LENGTH and all(c in ISSUED_CARD_CHARACTERS for c in value)


@dataclass(frozen=True, kw_only=True)
class PrintableCard:
    """What goes on paper: the only place where card values exist in the clear."""

    #: the printed serial; online cards have none and print their device id instead
    serial: str
    holder: str
    issued: date
    values: Mapping[int, str]
    #: online cards (R-LOST-2) are valid for a limited time and say so on the page
    online: bool = False
    expires: date | None = None

    def __post_init__(self) -> None:
        _check_positions(len(self.values))
        if sorted(self.values) != list(range(1, len(self.values) + 1)):
            raise CardError("card positions must be numbered 1..N without gaps")
        if not all(is_card_value(v) for v in self.values.values()):
            raise CardError("card values are 3 characters from A-Z and 0-9")

    @property
    def title(self) -> str:
        return "Online Security Code Card" if self.online else "Security Code Card"

    @property
    def serial_label(self) -> str:
        return "Card" if self.online else "Serial"

    @property
    def grid(self) -> CardGrid:
        return card_grid(len(self.values))

    @property
    def example(self) -> str:
        """A worked example for the printed instructions (positions only, never values)."""
        first, second = example_positions(len(self.values))
        return (
            f"Example: for {first} and {second}, type the code at {first} followed by the "
            f"code at {second} ({2 * VALUE_LENGTH} characters)."
        )


def example_positions(positions: int) -> tuple[int, int]:
    first = max(1, min(12, positions // 2))
    return first, max(first + 1, positions * 3 // 4)


@dataclass(frozen=True, kw_only=True)
class CardGrid:
    """Positions arranged for print, numbered down each column (like the paper card):
    ``rows[r][c]`` is the position in row ``r``, column ``c``, or ``None`` past the end."""

    columns: int
    rows: tuple[tuple[int | None, ...], ...]

    @property
    def row_count(self) -> int:
        return len(self.rows)


def card_grid(positions: int, *, columns: int = DEFAULT_COLUMNS) -> CardGrid:
    """The grid both renderers draw: at most ``columns`` columns, filled column by column,
    every column as full as the one before it."""
    _check_positions(positions)
    if columns < 1:
        raise CardError("a card grid needs at least one column")
    row_count = math.ceil(positions / columns)
    used = math.ceil(positions / row_count)
    rows = tuple(
        tuple(
            position if (position := c * row_count + r + 1) <= positions else None
            for c in range(used)
        )
        for r in range(row_count)
    )
    return CardGrid(columns=used, rows=rows)
