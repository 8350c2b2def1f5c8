"""Factors a user *knows* instead of holds (R-WD-4): how a rank-0 user with no device —
opted out, or every device lost or returned — confirms a withdrawal.

Such a factor is a plug-in of the ceremony, registered per purpose at the composition
root (``Services.without_device``: ``{Purpose.WITHDRAWAL: PasswordFactor}``); a purpose
without one still needs a device.  The ceremony treats it like a device kind — the same
challenge row (with no device), the same 3 answers, single use, expiry and failure
counter (R-LOGIN-3, R-LOGIN-6) — with one difference it declares by its nature: its
check is deliberately slow (Argon2id, R-LOGIN-2), so the ceremony runs it with no lock
held, between two short turns under the user's answer lock
(``ceremony.answers.evaluated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from securelogin.domain.devices.base import Prompt
from securelogin.service.ports import UnitOfWork


class KnownFactor(Protocol):
    @property
    def prompt(self) -> Prompt:
        """What the client is shown (SPEC §10.2: ``{"type":"password"}``)."""
        ...

    def expected(self, uow: UnitOfWork, user_id: int) -> str | None:
        """What an answer is checked against (a password hash), read in the ceremony's
        unit of work; None when the user has nothing to check against."""
        ...

    def check(self, expected: str, response: str) -> bool:
        """The slow check; runs with no lock and no transaction held."""
        ...


@dataclass(frozen=True, kw_only=True)
class Checked:
    """The result of a slow check of one answer to one challenge, whose answer was
    already taken (one of its 3) in the first turn."""

    challenge_id: int
    attempts: int
    right: bool


@dataclass(frozen=True, kw_only=True)
class SlowCheck:
    """An answer taken but not yet evaluated: run :meth:`run` with no lock held, then
    evaluate again with its :class:`Checked` result."""

    challenge_id: int
    attempts: int
    factor: KnownFactor
    expected: str

    def run(self, response: str) -> Checked:
        return Checked(
            challenge_id=self.challenge_id,
            attempts=self.attempts,
            right=self.factor.check(self.expected, response),
        )
