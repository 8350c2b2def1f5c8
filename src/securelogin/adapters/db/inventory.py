"""The hardware inventory (R-OPS-3): devices imported in stock, then assigned by serial.

Assignment is one guarded ``UPDATE … WHERE state = 'in_stock' AND owner_id IS NULL``: two
operators (or processes) assigning the same serial at once cannot both win, because the
loser's update matches no row once the winner's has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.repositories import SqlDevices
from securelogin.domain.devices.catalogue import DeviceState
from securelogin.errors import Conflict, NotInStock
from securelogin.service.ports import NewDevice, StockRow


class SqlInventory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_stock(self, device: NewDevice, *, at: datetime) -> int:
        if device.owner_id is not None or device.state != DeviceState.IN_STOCK:
            raise ValueError("the inventory only takes unassigned in_stock devices")
        try:
            return SqlDevices(self.conn).add(device, at=at)
        except IntegrityError:
            # the unique serial caught a concurrent import of the same file
            raise Conflict(f"device serial {device.serial} already exists") from None

    def by_serial(self, serial: str) -> StockRow | None:
        c = t.devices.c
        row = self.conn.execute(
            select(c.id, c.public_id, c.kind, c.serial, c.state, c.owner_id).where(
                c.serial == serial
            )
        ).first()
        if row is None:
            return None
        return StockRow(
            id=row.id,
            public_id=row.public_id,
            kind=row.kind,
            serial=row.serial,
            state=row.state,
            owner_id=row.owner_id,
        )

    def assign(
        self,
        *,
        serial: str,
        user_id: int,
        state: str,
        at: datetime,
        pin_secret: bytes | None = None,
    ) -> None:
        c = t.devices.c
        values: dict[str, object] = {
            "owner_id": user_id,
            "state": state,
            "activated_at": at if state == DeviceState.ACTIVE else None,
        }
        if pin_secret is not None:
            values["pin_secret"] = pin_secret
        device_id = self.conn.scalar(
            update(t.devices)
            .where(c.serial == serial, c.state == DeviceState.IN_STOCK, c.owner_id.is_(None))
            .values(values)
            .returning(c.id)
        )
        if device_id is None:
            raise NotInStock(f"device {serial} is not in stock")
        self.conn.execute(
            insert(t.device_users).values(device_id=device_id, user_id=user_id, created_at=at)
        )

    def count_in_stock(self, kind: str) -> int:
        c = t.devices.c
        count = self.conn.scalar(
            select(func.count())
            .select_from(t.devices)
            .where(c.kind == kind, c.state == DeviceState.IN_STOCK, c.owner_id.is_(None))
        )
        return int(count or 0)

    def count_by_state(
        self, kinds: Sequence[str], states: Sequence[str]
    ) -> dict[tuple[str, str], int]:
        """One grouped count over the devices table (the stock page, R-OPS-3)."""
        c = t.devices.c
        rows = self.conn.execute(
            select(c.kind, c.state, func.count())
            .where(c.kind.in_(list(kinds)), c.state.in_(list(states)))
            .group_by(c.kind, c.state)
        )
        return {(str(kind), str(state)): int(count) for kind, state, count in rows}
