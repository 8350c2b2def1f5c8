"""Entities, accounts, users and grants as plain values (SPEC §1), with their input rules.

Pure: no I/O.  The common-password list is passed in by the caller (R-LOGIN-2).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Right(StrEnum):
    TRADE = "trade"
    WITHDRAW = "withdraw"
    SECURITY_SETTINGS = "security_settings"


class EntityKind(StrEnum):
    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True)
class Identification:
    """Identification data of an entity; stored encrypted, compared by HMAC fingerprint."""

    date_of_birth: date | None = None
    citizenship: str | None = None
    residence: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    ssn: str | None = None

    def canonical(self) -> bytes:
        """A stable byte form: equal data gives equal bytes (for the fingerprint)."""
        parts = [
            self.date_of_birth.isoformat() if self.date_of_birth else "",
            (self.citizenship or "").upper(),
            (self.residence or "").upper(),
            (self.document_type or "").lower(),
            re.sub(r"[\s-]", "", self.document_number or "").upper(),
            re.sub(r"\D", "", self.ssn or ""),
        ]
        return "\x1f".join(parts).encode()


class PolicyViolation(ValueError):
    """A username, password or phone number breaks its rule."""


USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
ACCOUNT_RE = re.compile(r"^[A-Z]{1,3}[0-9]{4,12}$")


def normalize_username(text: str) -> str:
    """Usernames are lower case, 3–32 ASCII characters (SPEC §1)."""
    name = text.strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise PolicyViolation(
            "must be 3-32 characters: a letter, then letters, digits, '.', '_' or '-'"
        )
    return name


def check_phone(text: str) -> str:
    """Phone numbers are E.164: ``+`` then 7–15 digits."""
    if not PHONE_RE.fullmatch(text):
        raise PolicyViolation("must be an E.164 number such as +15551230001")
    return text


def check_password(password: str, *, common: Collection[str]) -> str:
    """R-LOGIN-2: 8–64 characters, a letter and a digit, not a common password."""
    if not 8 <= len(password) <= 64:
        raise PolicyViolation("must be 8-64 characters long")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise PolicyViolation("must contain at least one letter and one digit")
    if password.lower() in common:
        raise PolicyViolation("is too common; choose another")
    return password


def mask_phone(phone: str) -> str:
    """``+15551230089`` → ``+1•••••••89`` (SPEC §10.2 prompt ``sent_to``); always seven
    dots, so the mask does not tell the number's length either."""
    return f"{phone[:2]}{'•' * 7}{phone[-2:]}"
