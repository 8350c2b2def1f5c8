"""Argon2id password hashing at OWASP parameters (R-LOGIN-2), with the dummy verification
that makes unknown users cost the same as known ones (R-LOGIN-1)."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Passwords:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self.parameters = (memory_kib, time_cost, parallelism)
        # A real hash of a random password, so the dummy check does the full work.
        self._dummy = _dummy_hash(memory_kib, time_cost, parallelism)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


@functools.lru_cache(maxsize=8)
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    """One dummy hash per process and parameter set: every ``Argon2Passwords`` of a
    process (one per wiring of the services) checks against the same one instead of
    spending a full hash when it is made."""
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )
    return hasher.hash(secrets.token_urlsafe(16))
