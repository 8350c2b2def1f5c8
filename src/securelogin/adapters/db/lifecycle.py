"""The lifecycle repository (SPEC §5.4–5.6, R-OPS-4/5) on SQLAlchemy Core.

Every step that must happen exactly once is a single conditional ``UPDATE … WHERE
state IN (…)`` whose row count says whether this transaction won (two worker
processes, a double click, a logistics operator and the activation job racing).
Money is read and changed only under the account lock of ``adapters.db.funds``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.logins import challenge_row
from securelogin.adapters.db.tables_lifecycle import (
    account_documents,
    device_returns,
    portal_messages,
    replacement_requests,
)
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.service.lifecycle_ports import (
    DocumentRow,
    HoldRow,
    LedgerLine,
    MessageRow,
    OwnedDevice,
    RequestRow,
    ReturnRow,
)
from securelogin.service.login_ports import ChallengeRow

HELD = "held"
DEPOSIT_LEDGER_KIND = "device_deposit"

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


def _document(row: Any) -> DocumentRow:
    return DocumentRow(
        id=row.id,
        public_id=row.public_id,
        account_id=row.account_id,
        account_number=row.number,
        kind=row.kind,
        title=row.title,
        period=row.period,
        created_at=row.created_at,
    )


class SqlLifecycle:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # replacement requests ------------------------------------------------------------

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

    # money ------------------------------------------------------------------------------

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
                c.login_id.is_(None),
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
                or_(c.login_id.is_(None), ~c.login_id.in_(_withdrawal_logins())),
            )
        )
        return int(result.rowcount or 0)

    # sessions ---------------------------------------------------------------------------

    def revoke_sessions(self, user_id: int, *, now: datetime) -> int:
        s = t.sessions.c
        result = self.conn.execute(
            update(t.sessions)
            .where(s.user_id == user_id, s.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount or 0)

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

    # returns ----------------------------------------------------------------------------

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

    # message centre ---------------------------------------------------------------------

    def add_message(self, *, user_id: int, subject: str, body: str, now: datetime) -> int:
        new_id = self.conn.scalar(
            insert(portal_messages)
            .values(user_id=user_id, subject=subject[:200], body=body, created_at=now)
            .returning(portal_messages.c.id)
        )
        return int(new_id or 0)

    def messages(self, user_id: int, *, limit: int) -> list[MessageRow]:
        m = portal_messages.c
        rows = self.conn.execute(
            select(portal_messages).where(m.user_id == user_id).order_by(m.id.desc()).limit(limit)
        )
        return [
            MessageRow(
                id=r.id, subject=r.subject, body=r.body, created_at=r.created_at, read_at=r.read_at
            )
            for r in rows
        ]

    def unread(self, user_id: int) -> int:
        m = portal_messages.c
        count = self.conn.scalar(
            select(func.count())
            .select_from(portal_messages)
            .where(m.user_id == user_id, m.read_at.is_(None))
        )
        return int(count or 0)

    def mark_read(self, user_id: int, *, now: datetime) -> None:
        m = portal_messages.c
        self.conn.execute(
            update(portal_messages)
            .where(m.user_id == user_id, m.read_at.is_(None))
            .values(read_at=now)
        )

    # accounts and documents -------------------------------------------------------------

    def close_account(self, account_id: int, *, now: datetime) -> bool:
        a = t.accounts.c
        result = self.conn.execute(
            update(t.accounts)
            .where(a.id == account_id, a.status == "open")
            .values(status="closed", closed_at=now)
        )
        return result.rowcount == 1

    def holder_name(self, account_id: int) -> str:
        name = self.conn.scalar(
            select(t.entities.c.name)
            .join(t.accounts, t.accounts.c.entity_id == t.entities.c.id)
            .where(t.accounts.c.id == account_id)
        )
        return str(name or "")

    def users_of_account(self, account_id: int) -> list[int]:
        g = t.grants.c
        rows = self.conn.execute(
            select(g.user_id).where(g.account_id == account_id).order_by(g.user_id)
        )
        return [int(r.user_id) for r in rows]

    def all_accounts_closed(self, user_id: int) -> bool:
        g, a = t.grants.c, t.accounts.c
        open_count = self.conn.scalar(
            select(func.count())
            .select_from(t.grants.join(t.accounts, a.id == g.account_id))
            .where(g.user_id == user_id, a.status == "open")
        )
        return not open_count

    def add_document(
        self,
        *,
        public_id: str,
        account_id: int,
        kind: str,
        title: str,
        period: str,
        pdf: bytes,
        now: datetime,
    ) -> int:
        new_id = self.conn.scalar(
            insert(account_documents)
            .values(
                public_id=public_id,
                account_id=account_id,
                kind=kind,
                title=title,
                period=period,
                pdf=pdf,
                created_at=now,
            )
            .returning(account_documents.c.id)
        )
        return int(new_id or 0)

    def _documents(self) -> Any:
        d = account_documents
        return select(
            d.c.id,
            d.c.public_id,
            d.c.account_id,
            t.accounts.c.number,
            d.c.kind,
            d.c.title,
            d.c.period,
            d.c.created_at,
        ).join(t.accounts, t.accounts.c.id == d.c.account_id)

    def documents_of(self, user_id: int) -> list[DocumentRow]:
        d = account_documents.c
        granted = select(t.grants.c.account_id).where(t.grants.c.user_id == user_id)
        rows = self.conn.execute(
            self._documents().where(d.account_id.in_(granted)).order_by(d.period.desc(), d.id)
        )
        return [_document(r) for r in rows]

    def document_pdf(self, public_id: str, *, user_id: int) -> tuple[DocumentRow, bytes] | None:
        d = account_documents.c
        granted = select(t.grants.c.account_id).where(t.grants.c.user_id == user_id)
        row = self.conn.execute(
            self._documents()
            .add_columns(d.pdf)
            .where(d.public_id == public_id, d.account_id.in_(granted))
        ).first()
        return None if row is None else (_document(row), bytes(row.pdf))


def _withdrawal_logins() -> Any:
    withdrawals = t.metadata.tables.get("withdrawals")
    if withdrawals is None or "login_id" not in withdrawals.c:
        return select(t.logins.c.id).where(t.logins.c.id.is_(None))
    return select(withdrawals.c.login_id).where(withdrawals.c.login_id.is_not(None))
