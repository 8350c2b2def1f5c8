"""The devices' lifecycle (``LifecycleRepository``) and the sessions it ends or steps up
(``SessionControl``) (SPEC §5.4–5.6, R-OPS-4/5) on SQLAlchemy Core.

Every step that must happen exactly once is a single conditional ``UPDATE … WHERE
state IN (…)`` whose row count says whether this transaction won (two worker
processes, a double click, a logistics operator and the activation job racing).
Money is read and changed only under the account lock of ``adapters.db.funds``.

The lifecycle's other repositories, one port each (issue 11), live beside it: replacement
requests (:mod:`.replacements`), deposit holds, the deposit ledger and returns
(:mod:`.deposits`), the message centre, closure and documents (:mod:`.documents`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.logins import challenge_row
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.service.lifecycle_ports import OwnedDevice
from securelogin.service.login_ports import ChallengeRow


def _device(row: Any) -> OwnedDevice:
    return OwnedDevice(
        id=row.id,
        public_id=row.public_id,
        kind=row.kind,
        state=row.state,
        serial=row.serial,
        owner_id=row.owner_id,
        activated_at=row.activated_at,
        expires_at=row.expires_at,
    )


class SqlLifecycle:
    """``LifecycleRepository``: devices' states and challenges outside any login."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # devices ----------------------------------------------------------------------------

    def device(self, device_id: int) -> OwnedDevice | None:
        row = self.conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
        return None if row is None else _device(row)

    def device_by_public_id(self, public_id: str) -> OwnedDevice | None:
        row = self.conn.execute(select(t.devices).where(t.devices.c.public_id == public_id)).first()
        return None if row is None else _device(row)

    def devices_of(self, user_id: int) -> list[OwnedDevice]:
        d, du = t.devices, t.device_users
        rows = self.conn.execute(
            select(d)
            .where(
                or_(
                    d.c.owner_id == user_id,
                    d.c.id.in_(select(du.c.device_id).where(du.c.user_id == user_id)),
                )
            )
            .order_by(d.c.id)
        )
        return [_device(r) for r in rows]

    def move_device(
        self, device_id: int, *, frm: Collection[str], to: str, **values: object
    ) -> bool:
        d = t.devices.c
        result = self.conn.execute(
            update(t.devices)
            .where(d.id == device_id, d.state.in_(list(frm)))
            .values(state=to, **values)
        )
        return result.rowcount == 1

    def expired_temporary(self, *, code_issued_before: datetime, now: datetime) -> list[int]:
        d = t.devices.c
        rows = self.conn.execute(
            select(d.id)
            .where(
                or_(
                    and_(
                        d.state == DeviceState.ACTIVE,
                        d.kind == DeviceKind.TEMPORARY_CODE,
                        or_(d.activated_at <= code_issued_before, d.expires_at <= now),
                    ),
                    and_(  # an online card never activated expires as well
                        d.state.in_([DeviceState.ACTIVE, DeviceState.PENDING_ACTIVATION]),
                        d.kind == DeviceKind.ONLINE_CODE_CARD,
                        d.expires_at <= now,
                    ),
                ),
            )
            .order_by(d.id)
        )
        return [int(r.id) for r in rows]

    def activation_challenge(self, device_id: int, *, now: datetime) -> ChallengeRow | None:
        c = t.challenges.c
        row = self.conn.execute(
            select(t.challenges)
            .where(
                c.device_id == device_id,
                c.ceremony_id.is_(None),
                c.used_at.is_(None),
                c.expires_at > now,
            )
            .order_by(c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else challenge_row(row)

    def delete_expired_challenges(self, *, before: datetime) -> int:
        c = t.challenges.c
        result = self.conn.execute(
            delete(t.challenges).where(
                c.expires_at < before,
                # a withdrawal confirmation keeps its challenge (issue 5 reads it)
                or_(c.ceremony_id.is_(None), ~c.ceremony_id.in_(_withdrawal_ceremonies())),
            )
        )
        return int(result.rowcount or 0)


class SqlSessionControl:
    """``SessionControl``: ending and stepping up a user's sessions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def revoke_sessions(self, user_id: int, *, now: datetime) -> int:
        s = t.sessions.c
        result = self.conn.execute(
            update(t.sessions)
            .where(s.user_id == user_id, s.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount or 0)

    def open_sessions(self, user_id: int) -> int:
        s = t.sessions.c
        count = self.conn.scalar(
            select(func.count())
            .select_from(t.sessions)
            .where(s.user_id == user_id, s.revoked_at.is_(None))
        )
        return int(count or 0)

    def step_up_session(
        self, session_id: int, *, device_id: int, tier_rank: int, tier_kind: str
    ) -> None:
        self.conn.execute(
            update(t.sessions)
            .where(t.sessions.c.id == session_id)
            .values(
                device_id=device_id, access_level="full", tier_rank=tier_rank, tier_kind=tier_kind
            )
        )


def _withdrawal_ceremonies() -> Any:
    cm = t.ceremonies.c
    return select(cm.id).where(cm.purpose == "withdrawal")
