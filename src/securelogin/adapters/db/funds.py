"""Repositories of withdrawals and limits (SPEC §6).

R-LIMIT-5: every change of an account's money first locks its ``accounts`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises
writers), then reads balance, holds and at most five per-day totals, then books.  The
per-day totals are kept in the same transaction as the ledger row, so a check never
reads the ledger itself and its cost does not grow with history.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.adapters.db import tables_funds as f
from securelogin.adapters.db.logins import ceremony_row
from securelogin.domain.identity import AccountStatus, Right
from securelogin.service.funds_ports import (
    AccountAccess,
    AccountState,
    DebitKind,
    Funds,
    NewWithdrawal,
    WithdrawalRow,
    WithdrawalStatus,
)

#: tests switch this off to show that the race tests fail without the lock (R-LIMIT-5)
LOCKING = True

# Every statement of a withdrawal is built once with bind parameters (R-LIMIT-3/4 on every
# confirmation): building a SQLAlchemy construct per call cost more CPU than PostgreSQL
# spends answering it (docs/performance.md "Statements per operation").
_a, _h, _g, _u, _d = t.accounts, t.account_holds, t.grants, t.users, f.withdrawal_day_totals
_w, _c, _dev = f.withdrawals, t.ceremonies, t.devices


def _held() -> Any:
    return (
        select(func.coalesce(func.sum(_h.c.amount_cents), 0))
        .where(_h.c.account_id == _a.c.id, _h.c.state == "held")
        .scalar_subquery()
    )


#: the account's lock alone (R-LIMIT-5): what is read under it is read by the next
#: statement — on PostgreSQL a statement that waits for a row lock reads the locked
#: row's newest version but every other table (holds, day totals) as of its start, so
#: it would miss what the lock's previous holder wrote (tests/integration/test_funds_lock.py)
_LOCK = select(_a.c.id).where(_a.c.id == bindparam("account_id")).with_for_update()
_READ_FUNDS = select(_a.c.status, _a.c.balance_cents, _held()).where(
    _a.c.id == bindparam("account_id")
)


def _state_query(*, by_number: bool) -> Select[Any]:
    """R-LIMIT-3/4 in one statement: the account row, the user's grant on it, its held
    deposits, and the debits of the day and of the window (≤ 5 per-day rows through the
    primary key).  By number only a granted account is found; by id a missing grant
    reads as NULL rights.

    It takes no lock (see :data:`_LOCK`): a check under the lock runs it as the
    statement after it (R-LIMIT-5)."""

    def debits(*days: Any) -> Any:
        return (
            select(func.coalesce(func.sum(_d.c.total_cents), 0))
            .where(_d.c.account_id == _a.c.id, *days)
            .scalar_subquery()
        )

    grant = (_g.c.account_id == _a.c.id) & (_g.c.user_id == _u.c.id)
    joined = _a.join(_u, _u.c.id == bindparam("user_id"))
    joined = joined.join(_g, grant) if by_number else joined.outerjoin(_g, grant)
    return (
        select(
            _a.c.id,
            _a.c.number,
            _a.c.status,
            _g.c.rights,
            _a.c.balance_cents,
            _held(),
            debits(_d.c.business_day == bindparam("day")),
            debits(_d.c.business_day.in_(bindparam("days", expanding=True))),
            _u.c.username,
            _u.c.opted_out,
        )
        .select_from(joined)
        .where(_a.c.number == bindparam("number") if by_number else _a.c.id == bindparam("id"))
    )


_STATE = {by_number: _state_query(by_number=by_number) for by_number in (True, False)}

#: a withdrawal with its account's number, its user's name and opt-out, its device's
#: kind and public id, and its ceremony (labelled ``c_*``): one statement per read
_CEREMONY_COLUMNS = [col.label(f"c_{col.name}") for col in _c.c]
_WITHDRAWAL = select(
    _w,
    _a.c.number.label("account_number"),
    _u.c.username,
    _u.c.opted_out,
    _dev.c.kind.label("device_kind"),
    _dev.c.public_id.label("device_public_id"),
    *_CEREMONY_COLUMNS,
).select_from(
    _w.join(_a, _a.c.id == _w.c.account_id)
    .join(_u, _u.c.id == _w.c.user_id)
    .outerjoin(_dev, _dev.c.id == _w.c.device_id)
    .outerjoin(_c, _c.c.id == _w.c.ceremony_id)
)
_WITHDRAWAL_BY_ID = _WITHDRAWAL.where(_w.c.id == bindparam("id"))
_WITHDRAWAL_BY_KEY = _WITHDRAWAL.where(
    _w.c.user_id == bindparam("user_id"), _w.c.idempotency_key == bindparam("key")
)
_STILL_WAITING = select(_w.c.id).where(
    _w.c.id.in_(bindparam("ids", expanding=True)),
    _w.c.status == WithdrawalStatus.CONFIRMATION_REQUIRED.value,
    _w.c.expires_at > bindparam("now"),
)
#: the columns to set come with the parameters (status, reason, business_day, …)
_DECIDE = update(_w).where(
    _w.c.id == bindparam("withdrawal_id"),
    _w.c.status == WithdrawalStatus.CONFIRMATION_REQUIRED.value,
)
_LEDGER = insert(t.ledger_entries).returning(t.ledger_entries.c.id)
_BALANCE = (
    update(_a)
    .where(_a.c.id == bindparam("account_id"))
    .values(balance_cents=_a.c.balance_cents + bindparam("delta"))
)
_ACCESS = (
    select(_a.c.id, _a.c.number, _a.c.status, _g.c.rights)
    .join(_g, _g.c.account_id == _a.c.id)
    .where(_g.c.user_id == bindparam("user_id"))
    .order_by(_a.c.number)
)


def _by_dialect(build: Any) -> dict[str, Any]:
    """The same upsert SQL for both databases, built once through each dialect's
    ``insert`` (``ON CONFLICT`` is dialect-specific in SQLAlchemy)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def _add_to_day(dialect_insert: Any) -> Any:
    statement = dialect_insert(_d)
    return statement.on_conflict_do_update(
        index_elements=[_d.c.account_id, _d.c.business_day],
        set_={"total_cents": _d.c.total_cents + statement.excluded.total_cents},
    )


def _add_withdrawal(dialect_insert: Any) -> Any:
    """R-WD-1: the idempotency key's lookup folded into the insert — a used key inserts
    nothing (on PostgreSQL after waiting for a twin in flight) and returns no row."""
    return (
        dialect_insert(_w)
        .on_conflict_do_nothing(index_elements=[_w.c.user_id, _w.c.idempotency_key])
        .returning(literal_column("1"))
    )


_ADD_TO_DAY = _by_dialect(_add_to_day)
_ADD_WITHDRAWAL = _by_dialect(_add_withdrawal)


def _access_of(i: int, number: str, status: str, rights: str) -> AccountAccess:
    return AccountAccess(
        account_id=i,
        number=number,
        status=AccountStatus(status),
        rights=frozenset(Right(r) for r in rights.split()),
    )


class SqlFunds:
    def __init__(
        self, conn: Connection, *, locking: bool = True, unguarded_pause: float = 0.0
    ) -> None:
        self.locking = locking
        self.conn = conn
        self._dialect = conn.dialect.name
        #: tests only (adapters/faults.py): with the lock switched off, the read it would
        #: have protected is held open this long, so that racing confirmations overlap
        self.unguarded_pause = unguarded_pause
        self._pause_after_read = 0.0

    def accounts_of(self, user_id: int) -> list[AccountAccess]:
        return [_access_of(*row) for row in self.conn.execute(_ACCESS, {"user_id": user_id})]

    def lock(self, account_id: int) -> None:
        """The row lock on PostgreSQL; nothing on SQLite, whose ``BEGIN IMMEDIATE``
        already serialised the whole transaction."""
        if LOCKING and self.locking and self._dialect == "postgresql":
            self.conn.execute(_LOCK, {"account_id": account_id})
        elif not self.locking:
            self._pause_after_read = self.unguarded_pause

    def lock_account(self, account_id: int) -> Funds:
        self.lock(account_id)
        return self.funds(account_id)  # a statement of its own, after the lock

    def funds(self, account_id: int) -> Funds:
        """One round trip: the account row and its held deposits."""
        status, balance, held_cents = self.conn.execute(
            _READ_FUNDS, {"account_id": account_id}
        ).one()
        return Funds(
            account_id=account_id,
            status=AccountStatus(status),
            balance_cents=int(balance),
            held_cents=int(held_cents or 0),
        )

    def account_state(
        self,
        *,
        user_id: int,
        day: date,
        days: Sequence[date],
        account_id: int | None = None,
        number: str | None = None,
    ) -> AccountState | None:
        by_number = number is not None
        query = _STATE[by_number]
        key = {"number": number} if by_number else {"id": account_id}
        row = self.conn.execute(
            query, {"user_id": user_id, "day": day, "days": list(days), **key}
        ).first()
        if self._pause_after_read:
            time.sleep(self._pause_after_read)
            self._pause_after_read = 0.0
        if row is None:
            return None
        i, num, status, rights, balance, held, day_total, window_total, username, opted = row
        return AccountState(
            access=None if rights is None else _access_of(i, num, status, rights),
            funds=Funds(
                account_id=i,
                status=AccountStatus(status),
                balance_cents=int(balance),
                held_cents=int(held or 0),
            ),
            day_total_cents=int(day_total or 0),
            window_total_cents=int(window_total or 0),
            username=username,
            opted_out=bool(opted),
        )

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
        entry = self._ledger(
            account_id=account_id,
            kind=kind.value,
            amount_cents=-amount_cents,
            business_day=business_day,
            reference=reference,
            created_at=now,
        )
        self.conn.execute(_BALANCE, {"account_id": account_id, "delta": -amount_cents})
        self.conn.execute(
            _ADD_TO_DAY[self._dialect],
            {"account_id": account_id, "business_day": business_day, "total_cents": amount_cents},
        )
        return entry

    def _ledger(self, **values: object) -> int:
        return int(self.conn.execute(_LEDGER, values).scalar_one())

    def credit(self, *, account_id: int, amount_cents: int, reference: str, now: datetime) -> int:
        entry = self._ledger(
            account_id=account_id,
            kind="deposit",
            amount_cents=amount_cents,
            business_day=None,
            reference=reference,
            created_at=now,
        )
        self.conn.execute(_BALANCE, {"account_id": account_id, "delta": amount_cents})
        return entry

    def add_withdrawal(self, row: NewWithdrawal) -> bool:
        inserted = self.conn.execute(
            _ADD_WITHDRAWAL[self._dialect],
            {
                "id": row.id,
                "account_id": row.account_id,
                "user_id": row.user_id,
                "idempotency_key": row.idempotency_key,
                "request_hash": row.request_hash,
                "amount_cents": row.amount_cents,
                "destination": row.destination,
                "status": row.status.value,
                "reason": row.reason,
                "device_id": row.device_id,
                "ceremony_id": row.ceremony_id,
                "created_at": row.created_at,
                "expires_at": row.expires_at,
            },
        ).first()
        return inserted is not None

    def withdrawal(self, withdrawal_id: str) -> WithdrawalRow | None:
        row = self.conn.execute(_WITHDRAWAL_BY_ID, {"id": withdrawal_id}).first()
        return None if row is None else _withdrawal(row)

    def withdrawal_by_key(self, user_id: int, idempotency_key: str) -> WithdrawalRow | None:
        row = self.conn.execute(
            _WITHDRAWAL_BY_KEY, {"user_id": user_id, "key": idempotency_key}
        ).first()
        return None if row is None else _withdrawal(row)

    def still_waiting(self, withdrawal_ids: Sequence[str], *, now: datetime) -> set[str]:
        rows = self.conn.scalars(_STILL_WAITING, {"ids": list(withdrawal_ids), "now": now})
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
        result = self.conn.execute(
            _DECIDE,
            {
                "withdrawal_id": withdrawal_id,
                "status": status.value,
                "reason": reason,
                "business_day": business_day,
                "ledger_entry_id": ledger_entry_id,
                "decided_at": now,
            },
        )
        return result.rowcount == 1


def _withdrawal(row: Any) -> WithdrawalRow:
    ceremony = None
    if row.c_id is not None:
        ceremony = ceremony_row(
            SimpleNamespace(**{c.name: row._mapping[f"c_{c.name}"] for c in _c.c})
        )
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
        username=row.username,
        opted_out=bool(row.opted_out),
        device_kind=row.device_kind,
        device_public_id=row.device_public_id,
        ceremony=ceremony,
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
