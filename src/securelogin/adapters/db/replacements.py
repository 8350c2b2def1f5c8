"""Replacement requests (``ReplacementRequests``, R-LOST-3/4) on SQLAlchemy Core.

Shipping, reminders and activation are conditional updates ``… WHERE state = …`` whose
row count says whether this transaction won (see :mod:`securelogin.adapters.db.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.tables_lifecycle import replacement_requests
from securelogin.service.lifecycle_ports import RequestRow

_rq = replacement_requests


def _request_select() -> Any:
    return (
        select(
            _rq,
            t.users.c.username,
            t.accounts.c.number.label("account_number"),
            t.devices.c.serial.label("device_serial"),
        )
        .join(t.users, t.users.c.id == _rq.c.user_id)
        .join(t.accounts, t.accounts.c.id == _rq.c.account_id)
        .outerjoin(t.devices, t.devices.c.id == _rq.c.device_id)
    )


def _request(row: Any) -> RequestRow:
    return RequestRow(
        id=row.id,
        public_id=row.public_id,
        user_id=row.user_id,
        username=row.username,
        account_id=row.account_id,
        account_number=row.account_number,
        kind=row.kind,
        state=row.state,
        address=row.address,
        pin_secret=row.pin_secret,
        hold_id=row.hold_id,
        device_id=row.device_id,
        serial=row.device_serial,
        estimated_ship_date=row.estimated_ship_date,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        shipped_at=row.shipped_at,
        reminded_at=row.reminded_at,
        activated_at=row.activated_at,
    )


class SqlReplacementRequests:
    """``ReplacementRequests``: replacement requests (``uow.replacements``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_request(
        self,
        *,
        public_id: str,
        user_id: int,
        account_id: int,
        kind: str,
        address: str,
        pin_secret: bytes,
        now: datetime,
    ) -> int:
        new_id = self.conn.scalar(
            insert(_rq)
            .values(
                public_id=public_id,
                user_id=user_id,
                account_id=account_id,
                kind=kind,
                state="draft",
                address=address,
                pin_secret=pin_secret,
                created_at=now,
            )
            .returning(_rq.c.id)
        )
        return int(new_id or 0)

    def request(self, public_id: str) -> RequestRow | None:
        row = self.conn.execute(_request_select().where(_rq.c.public_id == public_id)).first()
        return None if row is None else _request(row)

    def request_by_device(self, device_id: int) -> RequestRow | None:
        row = self.conn.execute(_request_select().where(_rq.c.device_id == device_id)).first()
        return None if row is None else _request(row)

    def requests_of(self, user_id: int) -> list[RequestRow]:
        rows = self.conn.execute(
            _request_select().where(_rq.c.user_id == user_id).order_by(_rq.c.id)
        )
        return [_request(r) for r in rows]

    def requests_in(self, states: Collection[str]) -> list[RequestRow]:
        rows = self.conn.execute(
            _request_select().where(_rq.c.state.in_(list(states))).order_by(_rq.c.id)
        )
        return [_request(r) for r in rows]

    def move_request(
        self, request_id: int, *, frm: Collection[str], to: str, **values: object
    ) -> bool:
        result = self.conn.execute(
            update(_rq)
            .where(_rq.c.id == request_id, _rq.c.state.in_(list(frm)))
            .values(state=to, **values)
        )
        return result.rowcount == 1

    def shipped_before(self, cutoff: datetime, *, unreminded: bool) -> list[RequestRow]:
        query = _request_select().where(_rq.c.state == "shipped", _rq.c.shipped_at <= cutoff)
        if unreminded:
            query = query.where(_rq.c.reminded_at.is_(None))
        return [_request(r) for r in self.conn.execute(query.order_by(_rq.c.id))]

    def mark_reminded(self, request_id: int, *, now: datetime) -> bool:
        result = self.conn.execute(
            update(_rq)
            .where(_rq.c.id == request_id, _rq.c.state == "shipped", _rq.c.reminded_at.is_(None))
            .values(reminded_at=now)
        )
        return result.rowcount == 1
