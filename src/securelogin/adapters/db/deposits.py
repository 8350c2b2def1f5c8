"""Deposit holds and the deposit ledger (``DepositRepository``) and device returns
(``ReturnRepository``) of the lifecycle (R-LOST-3, R-RETURN-1..3) on SQLAlchemy Core.

Money is read and changed only under the account lock of ``adapters.db.funds``; settling a
hold and receiving a return are conditional updates, so each happens exactly once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.tables_lifecycle import device_returns
from securelogin.service.lifecycle_ports import HoldRow, LedgerLine, ReturnRow

HELD = "held"
DEPOSIT_LEDGER_KIND = "device_deposit"


def _return_select() -> Any:
    r = device_returns
    return (
        select(
            r,
            t.devices.c.public_id.label("device_public_id"),
            t.devices.c.kind,
            t.devices.c.serial,
            t.users.c.username,
        )
        .join(t.devices, t.devices.c.id == r.c.device_id)
        .join(t.users, t.users.c.id == r.c.user_id)
    )


def _return(row: Any) -> ReturnRow:
    return ReturnRow(
        id=row.id,
        device_id=row.device_id,
        device_public_id=row.device_public_id,
        kind=row.kind,
        serial=row.serial,
        user_id=row.user_id,
        username=row.username,
        reason=row.reason,
        region=row.region,
        state=row.state,
        created_at=row.created_at,
        received_at=row.received_at,
    )


def _hold(row: Any) -> HoldRow:
    return HoldRow(
        id=row.id,
        account_id=row.account_id,
        amount_cents=row.amount_cents,
        device_id=row.device_id,
        state=row.state,
    )


class SqlDeposits:
    """``DepositRepository``: holds and deposit charges (``uow.deposits``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_hold(self, *, account_id: int, amount_cents: int, reason: str, now: datetime) -> int:
        new_id = self.conn.scalar(
            insert(t.account_holds)
            .values(
                account_id=account_id,
                amount_cents=amount_cents,
                reason=reason,
                state=HELD,
                created_at=now,
            )
            .returning(t.account_holds.c.id)
        )
        return int(new_id or 0)

    def hold(self, hold_id: int) -> HoldRow | None:
        row = self.conn.execute(
            select(t.account_holds).where(t.account_holds.c.id == hold_id)
        ).first()
        return None if row is None else _hold(row)

    def holds_of_device(self, device_id: int) -> list[HoldRow]:
        rows = self.conn.execute(
            select(t.account_holds)
            .where(t.account_holds.c.device_id == device_id)
            .order_by(t.account_holds.c.id)
        )
        return [_hold(r) for r in rows]

    def set_hold_device(self, hold_id: int, device_id: int) -> None:
        self.conn.execute(
            update(t.account_holds)
            .where(t.account_holds.c.id == hold_id)
            .values(device_id=device_id)
        )

    def settle_hold(self, hold_id: int, *, to: str, now: datetime) -> bool:
        h = t.account_holds.c
        result = self.conn.execute(
            update(t.account_holds)
            .where(h.id == hold_id, h.state == HELD)
            .values(state=to, settled_at=now)
        )
        return result.rowcount == 1

    def charge(self, *, account_id: int, amount_cents: int, reference: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.ledger_entries).values(
                account_id=account_id,
                kind=DEPOSIT_LEDGER_KIND,
                amount_cents=-amount_cents,
                reference=reference,
                created_at=now,
            )
        )
        self.conn.execute(
            update(t.accounts)
            .where(t.accounts.c.id == account_id)
            .values(balance_cents=t.accounts.c.balance_cents - amount_cents)
        )

    def ledger(self, account_id: int) -> list[LedgerLine]:
        le = t.ledger_entries.c
        rows = self.conn.execute(
            select(le.created_at, le.kind, le.amount_cents, le.reference)
            .where(le.account_id == account_id)
            .order_by(le.id)
        )
        return [
            LedgerLine(
                at=r.created_at, kind=r.kind, amount_cents=r.amount_cents, reference=r.reference
            )
            for r in rows
        ]


class SqlReturns:
    """``ReturnRepository``: device returns (``uow.returns``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_return(
        self, *, device_id: int, user_id: int, reason: str, region: str, now: datetime
    ) -> int:
        new_id = self.conn.scalar(
            insert(device_returns)
            .values(
                device_id=device_id,
                user_id=user_id,
                reason=reason,
                region=region,
                state="pending",
                created_at=now,
            )
            .returning(device_returns.c.id)
        )
        return int(new_id or 0)

    def returns_in(self, states: Collection[str]) -> list[ReturnRow]:
        rows = self.conn.execute(
            _return_select()
            .where(device_returns.c.state.in_(list(states)))
            .order_by(device_returns.c.id)
        )
        return [_return(r) for r in rows]

    def returns_of(self, user_id: int) -> list[ReturnRow]:
        rows = self.conn.execute(
            _return_select()
            .where(device_returns.c.user_id == user_id)
            .order_by(device_returns.c.id)
        )
        return [_return(r) for r in rows]

    def return_(self, return_id: int) -> ReturnRow | None:
        row = self.conn.execute(_return_select().where(device_returns.c.id == return_id)).first()
        return None if row is None else _return(row)

    def receive_return(self, return_id: int, *, now: datetime) -> bool:
        r = device_returns.c
        result = self.conn.execute(
            update(device_returns)
            .where(r.id == return_id, r.state == "pending")
            .values(state="received", received_at=now)
        )
        return result.rowcount == 1
