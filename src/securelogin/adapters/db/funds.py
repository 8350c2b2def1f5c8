"""Repositories of withdrawals and limits (SPEC §6).

R-LIMIT-5: every change of an account's money first locks its ``accounts`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises
writers), then reads balance, holds and at most five per-day totals, then books.  The
per-day totals are kept in the same transaction as the ledger row, so a check never
reads the ledger itself and its cost does not grow with history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.adapters.db import tables_funds as f
from securelogin.domain.identity import AccountStatus, Right
from securelogin.service.funds_ports import (
    AccountAccess,
    DebitKind,
    Funds,
    NewWithdrawal,
    WithdrawalRow,
    WithdrawalStatus,
)

#: tests switch this off to show that the race tests fail without the lock (R-LIMIT-5)
LOCKING = True


def _funds_query(*, lock: bool) -> Select[Any]:
    a, h = t.accounts, t.account_holds
    held = (
        select(func.coalesce(func.sum(h.c.amount_cents), 0))
        .where(h.c.account_id == a.c.id, h.c.state == "held")
        .scalar_subquery()
    )
    query = select(a.c.status, a.c.balance_cents, held).where(a.c.id == bindparam("account_id"))
    return query.with_for_update(of=a) if lock else query


# The limit check's statements are built once (R-LIMIT-3/4 on every confirmation): building
# a SQLAlchemy construct per call cost more CPU than PostgreSQL spends answering it.
_LOCK_FUNDS = _funds_query(lock=True)
_READ_FUNDS = _funds_query(lock=False)
_DAY_TOTALS = select(
    f.withdrawal_day_totals.c.business_day, f.withdrawal_day_totals.c.total_cents
).where(
    f.withdrawal_day_totals.c.account_id == bindparam("account_id"),
    f.withdrawal_day_totals.c.business_day.in_(bindparam("days", expanding=True)),
)


class SqlFunds:
    def __init__(self, conn: Connection, *, locking: bool = True) -> None:
        self.locking = locking
        self.conn = conn

    def access(self, user_id: int, account_number: str) -> AccountAccess | None:
        rows = self._access(user_id, account_number)
        return rows[0] if rows else None

    def accounts_of(self, user_id: int) -> list[AccountAccess]:
        return self._access(user_id, None)

    def _access(self, user_id: int, number: str | None) -> list[AccountAccess]:
        a, g = t.accounts, t.grants
        query = (
            select(a.c.id, a.c.number, a.c.status, g.c.rights)
            .join(g, g.c.account_id == a.c.id)
            .where(g.c.user_id == user_id)
            .order_by(a.c.number)
        )
        if number is not None:
            query = query.where(a.c.number == number)
        return [
            AccountAccess(
                account_id=i,
                number=n,
                status=AccountStatus(s),
                rights=frozenset(Right(r) for r in rights.split()),
            )
            for i, n, s, rights in self.conn.execute(query)
        ]

    def lock_account(self, account_id: int) -> Funds:
        return self._funds(account_id, lock=LOCKING and self.locking)

    def funds(self, account_id: int) -> Funds:
        return self._funds(account_id, lock=False)

    def _funds(self, account_id: int, *, lock: bool) -> Funds:
        """One round trip: the account row (locked when asked) and its held deposits."""
        query = _LOCK_FUNDS if lock else _READ_FUNDS
        status, balance, held_cents = self.conn.execute(query, {"account_id": account_id}).one()
        return Funds(
            account_id=account_id,
            status=AccountStatus(status),
            balance_cents=int(balance),
            held_cents=int(held_cents or 0),
        )

    def day_totals(self, account_id: int, days: Sequence[date]) -> dict[date, int]:
        rows = self.conn.execute(_DAY_TOTALS, {"account_id": account_id, "days": list(days)})
        return {day: int(total) for day, total in rows}

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
        entry = self.conn.execute(
            insert(t.ledger_entries)
            .values(
                account_id=account_id,
                kind=kind.value,
                amount_cents=-amount_cents,
                business_day=business_day,
                reference=reference,
                created_at=now,
            )
            .returning(t.ledger_entries.c.id)
        ).scalar_one()
        self.conn.execute(
            update(t.accounts)
            .where(t.accounts.c.id == account_id)
            .values(balance_cents=t.accounts.c.balance_cents - amount_cents)
        )
        self._add_to_day(account_id, business_day, amount_cents)
        return int(entry)

    def _add_to_day(self, account_id: int, day: date, amount_cents: int) -> None:
        d = f.withdrawal_day_totals
        dialect = self.conn.dialect.name
        values = {"account_id": account_id, "business_day": day, "total_cents": amount_cents}
        statement: Any
        if dialect == "postgresql":
            statement = postgresql.insert(d).values(**values)
        else:
            statement = sqlite.insert(d).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[d.c.account_id, d.c.business_day],
            set_={"total_cents": d.c.total_cents + statement.excluded.total_cents},
        )
        self.conn.execute(statement)

    def credit(self, *, account_id: int, amount_cents: int, reference: str, now: datetime) -> int:
        entry = self.conn.execute(
            insert(t.ledger_entries)
            .values(
                account_id=account_id,
                kind="deposit",
                amount_cents=amount_cents,
                reference=reference,
                created_at=now,
            )
            .returning(t.ledger_entries.c.id)
        ).scalar_one()
        self.conn.execute(
            update(t.accounts)
            .where(t.accounts.c.id == account_id)
            .values(balance_cents=t.accounts.c.balance_cents + amount_cents)
        )
        return int(entry)

    def add_withdrawal(self, row: NewWithdrawal) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(f.withdrawals).values(
                        id=row.id,
                        account_id=row.account_id,
                        user_id=row.user_id,
                        idempotency_key=row.idempotency_key,
                        request_hash=row.request_hash,
                        amount_cents=row.amount_cents,
                        destination=row.destination,
                        status=row.status.value,
                        reason=row.reason,
                        device_id=row.device_id,
                        ceremony_id=row.ceremony_id,
                        created_at=row.created_at,
                        expires_at=row.expires_at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def _select(self) -> Any:
        w = f.withdrawals
        return select(w, t.accounts.c.number.label("account_number")).join(
            t.accounts, t.accounts.c.id == w.c.account_id
        )

    def withdrawal(self, withdrawal_id: str) -> WithdrawalRow | None:
        row = self.conn.execute(self._select().where(f.withdrawals.c.id == withdrawal_id)).first()
        return None if row is None else _withdrawal(row)

    def withdrawal_by_key(self, user_id: int, idempotency_key: str) -> WithdrawalRow | None:
        w = f.withdrawals
        row = self.conn.execute(
            self._select().where(w.c.user_id == user_id, w.c.idempotency_key == idempotency_key)
        ).first()
        return None if row is None else _withdrawal(row)

    def still_waiting(self, withdrawal_ids: Sequence[str], *, now: datetime) -> set[str]:
        w = f.withdrawals.c
        rows = self.conn.scalars(
            select(w.id).where(
                w.id.in_(list(withdrawal_ids)),
                w.status == WithdrawalStatus.CONFIRMATION_REQUIRED.value,
                w.expires_at > now,
            )
        )
        return {str(r) for r in rows}

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
        w = f.withdrawals
        result = self.conn.execute(
            update(w)
            .where(w.c.id == withdrawal_id, w.c.status == WithdrawalStatus.CONFIRMATION_REQUIRED)
            .values(
                status=status.value,
                reason=reason,
                business_day=business_day,
                ledger_entry_id=ledger_entry_id,
                decided_at=now,
            )
        )
        return result.rowcount == 1


def _withdrawal(row: Any) -> WithdrawalRow:
    return WithdrawalRow(
        id=row.id,
        account_id=row.account_id,
        account_number=row.account_number,
        user_id=row.user_id,
        idempotency_key=row.idempotency_key,
        request_hash=row.request_hash,
        amount_cents=row.amount_cents,
        destination=row.destination,
        status=WithdrawalStatus(row.status),
        reason=row.reason,
        device_id=row.device_id,
        ceremony_id=row.ceremony_id,
        business_day=row.business_day,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_at=row.decided_at,
    )


class SqlServiceKeys:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, name: str, key_hash: str, now: datetime) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(f.service_keys).values(name=name, key_hash=key_hash, created_at=now)
                )
        except IntegrityError:
            return False
        return True

    def name_of(self, key_hash: str) -> str | None:
        k = f.service_keys
        found = self.conn.scalar(
            select(k.c.name).where(k.c.key_hash == key_hash, k.c.revoked_at.is_(None))
        )
        return None if found is None else str(found)

    def revoke(self, name: str, *, now: datetime) -> bool:
        k = f.service_keys
        result = self.conn.execute(
            update(k).where(k.c.name == name, k.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        return result.rowcount == 1
