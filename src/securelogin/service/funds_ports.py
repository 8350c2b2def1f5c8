"""Ports of withdrawals and limits (SPEC §6): the account ledger, per-business-day totals,
withdrawal requests and service API keys.

Lock order (R-LIMIT-5): a use case that changes an account's money takes
:meth:`FundsRepository.lock_account` first, before it reads balance, holds or totals,
and holds it until the commit.  Code that places a deposit hold (issue 6) takes the same
lock before inserting into ``account_holds``, so holds and withdrawals never overshoot
the available funds together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from securelogin.domain.identity import AccountStatus, Right


class WithdrawalStatus(StrEnum):
    CONFIRMATION_REQUIRED = "confirmation_required"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"


class DebitKind(StrEnum):
    """Ledger kinds that count against the limits (R-LIMIT-3: withdrawals and transfers out)."""

    WITHDRAWAL = "withdrawal"
    TRANSFER_OUT = "transfer_out"


@dataclass(frozen=True, kw_only=True)
class AccountAccess:
    """An account as one user sees it: its status and the user's rights on it."""

    account_id: int
    number: str
    status: AccountStatus
    rights: frozenset[Right]


@dataclass(frozen=True, kw_only=True)
class Funds:
    """An account's money while its lock is held: available = balance − held holds."""

    account_id: int
    status: AccountStatus
    balance_cents: int
    held_cents: int

    @property
    def available_cents(self) -> int:
        return self.balance_cents - self.held_cents


@dataclass(frozen=True, kw_only=True)
class WithdrawalRow:
    id: str
    account_id: int
    account_number: str
    user_id: int
    idempotency_key: str
    request_hash: str
    amount_cents: int
    destination: str
    status: WithdrawalStatus
    reason: str | None
    device_id: int | None
    ceremony_id: str | None
    business_day: date | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class NewWithdrawal:
    id: str
    account_id: int
    user_id: int
    idempotency_key: str
    request_hash: str
    amount_cents: int
    destination: str
    status: WithdrawalStatus
    reason: str | None
    device_id: int | None
    ceremony_id: str | None
    created_at: datetime
    expires_at: datetime


class FundsRepository(Protocol):
    def access(self, user_id: int, account_number: str) -> AccountAccess | None:
        """The account and the user's rights on it; None if the user has no grant."""
        ...

    def accounts_of(self, user_id: int) -> list[AccountAccess]: ...

    def lock_account(self, account_id: int) -> Funds:
        """Take the per-account lock (``SELECT … FOR UPDATE`` on the ``accounts`` row;
        SQLite transactions are already serialised by ``BEGIN IMMEDIATE``) and read the
        money under it.  Take it before any other read of the account's money."""
        ...

    def funds(self, account_id: int) -> Funds:
        """The same figures without the lock (displays and pre-checks only)."""
        ...

    def day_totals(self, account_id: int, days: Sequence[date]) -> dict[date, int]:
        """Debits per business day (≤ len(days) rows read; days with none are absent)."""
        ...

    def book_debit(
        self,
        *,
        account_id: int,
        kind: DebitKind,
        amount_cents: int,
        business_day: date,
        reference: str,
        now: datetime,
    ) -> int:
        """One ledger row, the balance and the day's total, in the caller's transaction."""
        ...

    def credit(self, *, account_id: int, amount_cents: int, reference: str, now: datetime) -> int:
        """A deposit: one ledger row and the balance."""
        ...

    def add_withdrawal(self, row: NewWithdrawal) -> bool:
        """Insert; False if the user already used this idempotency key."""
        ...

    def withdrawal(self, withdrawal_id: str) -> WithdrawalRow | None: ...

    def withdrawal_by_key(self, user_id: int, idempotency_key: str) -> WithdrawalRow | None: ...

    def still_waiting(self, withdrawal_ids: Sequence[str], *, now: datetime) -> set[str]:
        """Which of these withdrawals still wait for a confirmation (one query: the
        long-poll's poller asks this for every waiter at once)."""
        ...

    def decide(
        self,
        withdrawal_id: str,
        *,
        status: WithdrawalStatus,
        reason: str | None,
        business_day: date | None,
        ledger_entry_id: int | None,
        now: datetime,
    ) -> bool:
        """Leave ``confirmation_required`` exactly once; False if it already left."""
        ...


class ServiceKeyRepository(Protocol):
    def add(self, *, name: str, key_hash: str, now: datetime) -> bool:
        """False if the name is taken."""
        ...

    def name_of(self, key_hash: str) -> str | None:
        """The name of an unrevoked key with this hash."""
        ...

    def revoke(self, name: str, *, now: datetime) -> bool: ...
