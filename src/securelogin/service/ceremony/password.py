"""The password as a factor of the ceremony (R-WD-4): a user of rank 0 with no device
confirms a withdrawal by re-entering the password (prompt ``{"type":"password"}``).
Registered for ``Purpose.WITHDRAWAL`` in ``bootstrap.py``."""

from __future__ import annotations

from dataclasses import dataclass

from securelogin.domain.devices.base import Prompt, PromptType
from securelogin.service.ports import PasswordHasher, UnitOfWork


@dataclass(frozen=True, kw_only=True)
class PasswordFactor:
    """Checks the answer against the user's Argon2id hash (R-LOGIN-2)."""

    passwords: PasswordHasher

    @property
    def prompt(self) -> Prompt:
        return Prompt(type=PromptType.PASSWORD)

    def expected(self, uow: UnitOfWork, user_id: int) -> str | None:
        user = uow.users.by_id(user_id)
        return None if user is None else user.password_hash

    def check(self, expected: str, response: str) -> bool:
        return self.passwords.verify(expected, response)
