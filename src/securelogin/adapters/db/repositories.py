"""Repositories over one SQLAlchemy connection; they never commit (STYLE.md rule 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from securelogin.adapters.db import tables as t
from securelogin.domain.audit import AuditEvent, ChainedEvent, link_hash
from securelogin.domain.identity import AccountStatus, EntityKind, Right
from securelogin.service.ports import AccountRow, Clock, GrantView, NewDevice, UserRow


class SqlEntities:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        external_id: str,
        kind: EntityKind,
        name: str,
        identification: bytes,
        fingerprint: str,
        at: datetime,
    ) -> int:
        row = self.conn.execute(
            insert(t.entities)
            .values(
                external_id=external_id,
                kind=str(kind),
                name=name,
                identification=identification,
                identification_fp=fingerprint,
                created_at=at,
            )
            .returning(t.entities.c.id)
        )
        return int(row.scalar_one())

    def existing_ids(self, external_ids: Sequence[str]) -> set[str]:
        c = t.entities.c
        return set(self.conn.scalars(select(c.external_id).where(c.external_id.in_(external_ids))))

    def id_of(self, external_id: str) -> int | None:
        c = t.entities.c
        found = self.conn.scalar(select(c.id).where(c.external_id == external_id))
        return None if found is None else int(found)


class SqlAccounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, number: str, entity_id: int, balance_cents: int, at: datetime) -> int:
        row = self.conn.execute(
            insert(t.accounts)
            .values(
                number=number,
                entity_id=entity_id,
                status=AccountStatus.OPEN.value,
                balance_cents=balance_cents,
                created_at=at,
            )
            .returning(t.accounts.c.id)
        )
        account_id = int(row.scalar_one())
        if balance_cents:
            self.conn.execute(
                insert(t.ledger_entries).values(
                    account_id=account_id,
                    kind="opening_balance",
                    amount_cents=balance_cents,
                    reference="import",
                    created_at=at,
                )
            )
        return account_id

    def existing_numbers(self, numbers: Sequence[str]) -> set[str]:
        c = t.accounts.c
        return set(self.conn.scalars(select(c.number).where(c.number.in_(numbers))))

    def by_number(self, number: str) -> AccountRow | None:
        c = t.accounts.c
        row = self.conn.execute(select(t.accounts).where(c.number == number)).first()
        if row is None:
            return None
        return AccountRow(
            id=row.id,
            number=row.number,
            entity_id=row.entity_id,
            status=AccountStatus(row.status),
            balance_cents=row.balance_cents,
        )


def user_row(row: Any) -> UserRow:
    return UserRow(
        id=row.id,
        username=row.username,
        entity_id=row.entity_id,
        password_hash=row.password_hash,
        phone=row.phone,
        opted_out=row.opted_out,
        password_failures=row.password_failures,
        password_failed_at=row.password_failed_at,
        factor_failures=row.factor_failures,
        factor_failed_at=row.factor_failed_at,
    )


# The reads of the password step and of every session's opening, built once (issue 14).
_USER_BY_NAME = select(t.users).where(t.users.c.username == bindparam("p_username"))
_USER_BY_ID = select(t.users).where(t.users.c.id == bindparam("p_id"))
_GRANTS_OF = (
    select(t.accounts.c.number, t.accounts.c.status, t.grants.c.rights)
    .join(t.accounts, t.accounts.c.id == t.grants.c.account_id)
    .where(t.grants.c.user_id == bindparam("p_user_id"))
    .order_by(t.accounts.c.number)
)


class SqlUsers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        username: str,
        entity_id: int,
        password_hash: str,
        phone: str | None,
        opted_out: bool,
        at: datetime,
    ) -> int:
        row = self.conn.execute(
            insert(t.users)
            .values(
                username=username,
                entity_id=entity_id,
                password_hash=password_hash,
                phone=phone,
                opted_out=opted_out,
                created_at=at,
            )
            .returning(t.users.c.id)
        )
        return int(row.scalar_one())

    def grant(self, *, user_id: int, account_id: int, rights: frozenset[Right]) -> None:
        self.conn.execute(
            insert(t.grants).values(
                user_id=user_id, account_id=account_id, rights=" ".join(sorted(rights))
            )
        )

    def existing_usernames(self, usernames: Sequence[str]) -> set[str]:
        c = t.users.c
        return set(self.conn.scalars(select(c.username).where(c.username.in_(usernames))))

    def by_username(self, username: str) -> UserRow | None:
        row = self.conn.execute(_USER_BY_NAME, {"p_username": username}).first()
        return None if row is None else user_row(row)

    def by_id(self, user_id: int) -> UserRow | None:
        row = self.conn.execute(_USER_BY_ID, {"p_id": user_id}).first()
        return None if row is None else user_row(row)

    def grants_of(self, user_id: int) -> list[GrantView]:
        rows = self.conn.execute(_GRANTS_OF, {"p_user_id": user_id})
        return [
            GrantView(
                account=n,
                status=AccountStatus(st),
                rights=frozenset(Right(r) for r in rights.split()),
            )
            for n, st, rights in rows
        ]


class SqlDevices:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, device: NewDevice, *, at: datetime) -> int:
        row = self.conn.execute(
            insert(t.devices)
            .values(
                public_id=device.public_id,
                kind=device.kind,
                serial=device.serial,
                owner_id=device.owner_id,
                state=device.state,
                label=device.label,
                secret=device.secret,
                pin_secret=device.pin_secret,
                params=json.dumps(dict(device.params or {}), sort_keys=True),
                origin=device.origin,
                created_at=at,
                expires_at=device.expires_at,
                activated_at=at if device.state == "active" else None,
            )
            .returning(t.devices.c.id)
        )
        device_id = int(row.scalar_one())
        if device.owner_id is not None:
            self.conn.execute(
                insert(t.device_users).values(
                    device_id=device_id, user_id=device.owner_id, created_at=at
                )
            )
        if device.card_hashes:
            self.conn.execute(
                insert(t.card_values),
                [
                    {"device_id": device_id, "position": p, "value_hash": h}
                    for p, h in sorted(device.card_hashes.items())
                ],
            )
        return device_id

    def existing_serials(self, serials: Sequence[str]) -> set[str]:
        c = t.devices.c
        return set(self.conn.scalars(select(c.serial).where(c.serial.in_(serials))))


_LOCK_HEAD = (
    select(t.audit_head.c.last_id, t.audit_head.c.last_hash)
    .where(t.audit_head.c.id == 1)
    .with_for_update()
)
_ADD_EVENTS = insert(t.audit_events)


class SqlAuditLog:
    """Appends at commit time: the head row is locked only for the last moment of a
    transaction, which keeps the chain linear across processes (R-OPS-6).  Two
    statements: lock and read the head, insert the events; the head follows each event
    that extends it by a trigger (migration 0014), in the same statement."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.pending: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.pending.append(event)

    def flush(self) -> None:
        if not self.pending:
            return
        last_id, last_hash = self.conn.execute(_LOCK_HEAD).one()
        last_id, last_hash = int(last_id), str(last_hash)
        rows = []
        for event in self.pending:
            last_id += 1
            at = self.clock.now()
            digest = link_hash(last_hash, last_id, at, event)
            rows.append(
                {
                    "id": last_id,
                    "at": at,
                    "actor": event.actor,
                    "action": event.action,
                    "subject": event.subject,
                    "data": json.dumps(dict(event.data), sort_keys=True),
                    "prev_hash": last_hash,
                    "hash": digest,
                }
            )
            last_hash = digest
        self.conn.execute(_ADD_EVENTS, rows)
        self.pending.clear()

    def head(self) -> tuple[int, str]:
        row = self.conn.execute(select(t.audit_head).where(t.audit_head.c.id == 1)).one()
        return int(row.last_id), str(row.last_hash)

    def chain(self) -> Iterator[ChainedEvent]:
        result = self.conn.execution_options(yield_per=1000).execute(
            select(t.audit_events).order_by(t.audit_events.c.id)
        )
        try:
            for row in result:
                event = AuditEvent(
                    action=row.action,
                    actor=row.actor,
                    subject=row.subject,
                    data=json.loads(row.data),
                )
                yield ChainedEvent(
                    id=row.id, at=row.at, event=event, prev_hash=row.prev_hash, hash=row.hash
                )
        finally:  # a reader that stops at a broken link: PostgreSQL's server cursor closes
            result.close()
