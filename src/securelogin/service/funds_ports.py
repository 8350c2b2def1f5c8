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
from securelogin.service.ceremony.ports import CeremonyRow


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
class AccountState:
    """What a withdrawal's check reads, in one statement (after the account's lock when
    it books, R-LIMIT-5): the user's access to the account, its money, the debits of the
    business day (R-LIMIT-3) and of its 5-business-day window (R-LIMIT-4), and what of
    the user the limits and the audit need."""

    #: None when the user holds no grant on the account
    access: AccountAccess | None
    funds: Funds
    day_total_cents: int
    window_total_cents: int
    username: str
    opted_out: bool


@dataclass(frozen=True, kw_only=True)
class WithdrawalRow:
    """A withdrawal with what its confirmation needs besides, read with it in one
    statement: its user's name and opt-out, its device's kind and public id (the limits'
    tier, R-LIMIT-1) and its confirmation's ceremony."""

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
    username: str
    opted_out: bool
    device_kind: str | None
    device_public_id: str | None
    ceremony: CeremonyRow | None


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
    def accounts_of(self, user_id: int) -> list[AccountAccess]: ...

    def lock(self, account_id: int) -> None:
        """Take the per-account lock only; read what it guards with the next statements
        (on PostgreSQL a statement that waits for the lock reads other tables as of its
        start, so it must not be the one that reads them)."""
        ...

    def lock_account(self, account_id: int) -> Funds:
        """Take the per-account lock (``SELECT … FOR UPDATE`` on the ``accounts`` row;
        SQLite transactions are already serialised by ``BEGIN IMMEDIATE``), then read
        the money under it in a statement of its own.  Take it before any other read of
        the account's money."""
        ...

    def funds(self, account_id: int) -> Funds:
        """The same figures without the lock (displays and pre-checks only)."""
        ...

    def account_state(
        self,
        *,
        user_id: int,
        day: date,
        days: Sequence[date],
        account_id: int | None = None,
        number: str | None = None,
    ) -> AccountState | None:
        """One statement, no lock: the account (by ``account_id``, or by ``number`` among
        the user's granted accounts), its funds, and the debits of ``day`` and of
        ``days`` (≤ 5 per-day rows read).  None when there is no such account (by number:
        none the user holds a grant on).  A check under the lock calls
        :meth:`lock` first and this next: on PostgreSQL only a statement that
        starts after the lock is granted sees what the lock's previous holder wrote."""
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
        """Insert (one statement, no savepoint); False if the user already used this
        idempotency key — the row of a twin in flight is waited for, then seen."""
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
