"""The message centre (``MessageCentre``), account closure (``AccountClosure``) and
account documents (``DocumentRepository``) of the lifecycle (R-OPS-5, R-CLOSE-1, R-LOGIN-8)
on SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db.tables_lifecycle import account_documents, portal_messages
from securelogin.service.lifecycle_ports import DocumentRow, MessageRow


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


class SqlMessageCentre:
    """``MessageCentre``: the portal's message centre (``uow.message_centre``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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


class SqlAccountClosure:
    """``AccountClosure``: closing accounts and their users (``uow.closure``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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


class SqlDocuments:
    """``DocumentRepository``: account documents (``uow.documents``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
