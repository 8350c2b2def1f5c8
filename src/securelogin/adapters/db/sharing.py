"""The repository of security settings (SPEC §5.1, §5.3) on SQLAlchemy Core.

Decisions on share requests are single conditional UPDATEs (``WHERE status =
expected``): under PostgreSQL's READ COMMITTED a second decider blocks on the row lock
of the first and then finds nothing left to update; SQLite serialises write
transactions (``BEGIN IMMEDIATE``).  ``GUARD_DECISIONS`` exists only so that the race
test can show the guard is what keeps a request decided once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.tables_sharing import opt_outs, share_requests
from securelogin.domain.devices.catalogue import DeviceState
from securelogin.domain.identity import Right
from securelogin.service.sharing_ports import NewOptOut, OptOutRow, ShareRequestRow

#: the race test turns this off to prove the conditional UPDATE is the lock
GUARD_DECISIONS = True

_sr = share_requests
_ASSIGNED = (
    DeviceState.ORDERED,
    DeviceState.SHIPPED,
    DeviceState.PENDING_ACTIVATION,
    DeviceState.ACTIVE,
)


def _rights(text: str) -> frozenset[Right]:
    return frozenset(Right(r) for r in text.split())


class SqlSharing:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def identification_fp(self, entity_id: int) -> str:
        e = t.entities.c
        return str(
            self.conn.execute(select(e.identification_fp).where(e.id == entity_id)).scalar_one()
        )

    def account_rights(self, user_id: int) -> list[tuple[str, str, frozenset[Right]]]:
        g, a, u = t.grants.c, t.accounts.c, t.users.c
        mine = select(g.account_id).where(g.user_id == user_id)
        rows = self.conn.execute(
            select(a.number, u.username, g.rights)
            .select_from(t.grants.join(t.accounts).join(t.users))
            .where(g.account_id.in_(mine), a.status == "open")
            .order_by(a.number, u.username)
        )
        return [(str(n), str(name), _rights(str(r))) for n, name, r in rows]

    def set_opted_out(self, user_id: int, *, opted_out: bool) -> bool:
        u = t.users.c
        result = self.conn.execute(
            update(t.users)
            .where(u.id == user_id, u.opted_out.is_(not opted_out))
            .values(opted_out=opted_out)
        )
        return result.rowcount == 1

    def add_opt_out(self, row: NewOptOut, *, at: datetime) -> int:
        result = self.conn.execute(
            insert(opt_outs).values(
                user_id=row.user_id,
                waiver_version=row.waiver_version,
                waiver_language=row.waiver_language,
                waiver_text=row.waiver_text,
                waiver_digest=row.waiver_digest,
                signed_at=at,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def end_opt_out(self, user_id: int, *, at: datetime, how: str) -> None:
        o = opt_outs.c
        self.conn.execute(
            update(opt_outs)
            .where(o.user_id == user_id, o.ended_at.is_(None))
            .values(ended_at=at, ended_how=how)
        )

    def current_opt_out(self, user_id: int) -> OptOutRow | None:
        o = opt_outs.c
        row = self.conn.execute(
            select(opt_outs)
            .where(o.user_id == user_id, o.ended_at.is_(None))
            .order_by(o.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return OptOutRow(
            id=row.id,
            user_id=row.user_id,
            waiver_version=row.waiver_version,
            waiver_language=row.waiver_language,
            waiver_digest=row.waiver_digest,
            signed_at=row.signed_at,
            ended_at=row.ended_at,
        )

    def add_request(
        self,
        *,
        public_id: str,
        requester_id: int,
        owner_id: int,
        device_id: int,
        ceremony_id: str | None,
        status: str,
        review: str,
        at: datetime,
    ) -> int:
        result = self.conn.execute(
            insert(_sr).values(
                public_id=public_id,
                requester_id=requester_id,
                owner_id=owner_id,
                device_id=device_id,
                ceremony_id=ceremony_id,
                status=status,
                review=review,
                created_at=at,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _select(self) -> Any:
        requester, owner = t.users.alias("requester"), t.users.alias("owner")
        d = t.devices
        return (
            select(
                _sr,
                requester.c.username.label("requester"),
                owner.c.username.label("owner"),
                d.c.public_id.label("device_public_id"),
                d.c.kind.label("device_kind"),
                d.c.serial.label("device_serial"),
            )
            .join(requester, requester.c.id == _sr.c.requester_id)
            .join(owner, owner.c.id == _sr.c.owner_id)
            .join(d, d.c.id == _sr.c.device_id)
        )

    def request(self, public_id: str) -> ShareRequestRow | None:
        row = self.conn.execute(self._select().where(_sr.c.public_id == public_id)).first()
        return None if row is None else _request_row(row)

    def requests(
        self, *, status: str | None = None, requester_id: int | None = None, limit: int = 100
    ) -> list[ShareRequestRow]:
        query = self._select()
        if status is not None:
            query = query.where(_sr.c.status == status)
        if requester_id is not None:
            query = query.where(_sr.c.requester_id == requester_id)
        rows = self.conn.execute(query.order_by(_sr.c.id.desc()).limit(limit))
        return [_request_row(r) for r in rows]

    def move(
        self,
        request_id: int,
        *,
        expected: str,
        status: str,
        at: datetime | None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> bool:
        statement = update(_sr).where(_sr.c.id == request_id)
        if GUARD_DECISIONS:
            statement = statement.where(_sr.c.status == expected)
        values: dict[str, object] = {"status": status}
        if at is not None:
            values.update(decided_at=at, decided_by=by, reason=reason)
        return self.conn.execute(statement.values(**values)).rowcount == 1

    def waiting_device_ids(self, requester_id: int) -> set[int]:
        rows = self.conn.execute(
            select(_sr.c.device_id).where(
                _sr.c.requester_id == requester_id, _sr.c.status == "pending_compliance"
            )
        )
        return {int(r) for (r,) in rows}

    def protect(self, device_id: int, user_id: int, *, at: datetime) -> None:
        # A savepoint keeps the outer transaction usable when the link exists already.
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.device_users).values(
                        device_id=device_id, user_id=user_id, created_at=at
                    )
                )
        except IntegrityError:
            pass

    def retire(self, device_id: int, *, state: str, at: datetime) -> bool:
        d = t.devices.c
        result = self.conn.execute(
            update(t.devices)
            .where(d.id == device_id, d.state.in_([s.value for s in _ASSIGNED]))
            .values(state=state)
        )
        return result.rowcount == 1

    def end_sessions(self, device_ids: Collection[int], *, at: datetime) -> int:
        s = t.sessions.c
        if not device_ids:
            return 0
        result = self.conn.execute(
            update(t.sessions)
            .where(s.device_id.in_(list(device_ids)), s.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)


def _request_row(row: Any) -> ShareRequestRow:
    return ShareRequestRow(
        id=row.id,
        public_id=row.public_id,
        requester_id=row.requester_id,
        requester=row.requester,
        owner_id=row.owner_id,
        owner=row.owner,
        device_id=row.device_id,
        device_public_id=row.device_public_id,
        device_kind=row.device_kind,
        device_serial=row.device_serial,
        ceremony_id=row.ceremony_id,
        status=row.status,
        review=row.review,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
    )
