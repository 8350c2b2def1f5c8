"""Storage of the mobile key (R-KEY).  Each guard is one conditional UPDATE, so that the
database decides races between processes: an activation ends once, a push is answered
once (R-LOGIN-6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update

from securelogin.adapters.db import tables as t
from securelogin.adapters.db import tables_mobile_key as k
from securelogin.service.mobile_key_ports import (
    ActivationRow,
    AppRow,
    AppUser,
    PushRow,
    StoredPin,
)

MOBILE_KEY = "mobile_key"
#: the IN lists of the long-poll checks are sent in slices of this size
SLICE = 500


def _app(row: Any) -> AppRow | None:
    if row is None:
        return None
    return AppRow(
        id=row.id,
        app_id=row.app_id,
        public_key=bytes(row.public_key),
        state=row.state,
        recovery_pin_hash=row.recovery_pin_hash,
        push_provider=row.push_provider,
        push_target=row.push_target,
        pin_verifier=row.pin_verifier,
        pin_share=None if row.pin_share is None else bytes(row.pin_share),
        pin_token=row.pin_token,
        pin_failures=row.pin_failures,
    )


def _push(row: Any) -> PushRow:
    return PushRow(
        id=row.id,
        push_id=row.push_id,
        subject=row.subject,
        purpose=row.purpose,
        app_id=row.app_id,
        device_id=row.device_id,
        user_id=row.user_id,
        number=row.number,
        body=row.body,
        status=row.status,
        expires_at=row.expires_at,
    )


class SqlMobileKeys:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- activations -------------------------------------------------------------------

    def add_activation(
        self, *, activation_id: str, user_id: int, method: str, now: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(k.key_activations).values(
                id=activation_id,
                user_id=user_id,
                method=method,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def activation(self, activation_id: str) -> ActivationRow | None:
        row = self.conn.execute(
            select(k.key_activations).where(k.key_activations.c.id == activation_id)
        ).first()
        if row is None:
            return None
        return ActivationRow(
            id=row.id,
            user_id=row.user_id,
            method=row.method,
            phone=row.phone,
            code_hash=row.code_hash,
            sends=row.sends,
            attempts=row.attempts,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )

    def set_code(self, activation_id: str, *, phone: str, code_hash: str, limit: int) -> bool:
        c = k.key_activations.c
        result = self.conn.execute(
            update(k.key_activations)
            .where(c.id == activation_id, c.sends < limit, c.ended_at.is_(None))
            .values(phone=phone, code_hash=code_hash, sends=c.sends + 1)
        )
        return result.rowcount == 1

    def take_attempt(self, activation_id: str, *, limit: int) -> int | None:
        c = k.key_activations.c
        result = self.conn.execute(
            update(k.key_activations)
            .where(c.id == activation_id, c.attempts < limit, c.ended_at.is_(None))
            .values(attempts=c.attempts + 1)
        )
        if result.rowcount != 1:
            return None
        return int(self.conn.execute(select(c.attempts).where(c.id == activation_id)).scalar_one())

    def end_activation(self, activation_id: str, *, now: datetime) -> bool:
        c = k.key_activations.c
        result = self.conn.execute(
            update(k.key_activations)
            .where(c.id == activation_id, c.ended_at.is_(None))
            .values(ended_at=now)
        )
        return result.rowcount == 1

    # --- apps and usernames ------------------------------------------------------------

    def add_app(
        self,
        *,
        app_id: str,
        public_key: bytes,
        recovery_pin_hash: str,
        push_provider: str | None,
        push_target: str | None,
        now: datetime,
        pin: StoredPin | None = None,
    ) -> int:
        result = self.conn.execute(
            insert(k.key_apps)
            .values(
                app_id=app_id,
                public_key=public_key,
                state="active",
                recovery_pin_hash=recovery_pin_hash,
                push_provider=push_provider,
                push_target=push_target,
                created_at=now,
                pin_verifier=pin.verifier if pin else None,
                pin_share=pin.share if pin else None,
                pin_token=pin.token if pin else None,
                pin_failures=0,
            )
            .returning(k.key_apps.c.id)
        )
        return int(result.scalar_one())

    def app(self, app_id: str) -> AppRow | None:
        return _app(
            self.conn.execute(select(k.key_apps).where(k.key_apps.c.app_id == app_id)).first()
        )

    def set_pin(self, app_ref: int, pin: StoredPin) -> None:
        a = k.key_apps.c
        self.conn.execute(
            update(k.key_apps)
            .where(a.id == app_ref)
            .values(
                pin_verifier=pin.verifier, pin_share=pin.share, pin_token=pin.token, pin_failures=0
            )
        )

    def set_push(self, app_ref: int, *, provider: str | None, target: str | None) -> None:
        a = k.key_apps.c
        self.conn.execute(
            update(k.key_apps)
            .where(a.id == app_ref)
            .values(push_provider=provider, push_target=target)
        )

    def take_pin_attempt(self, app_ref: int, *, limit: int) -> int | None:
        a = k.key_apps.c
        result = self.conn.execute(
            update(k.key_apps)
            .where(a.id == app_ref, a.pin_failures < limit)
            .values(pin_failures=a.pin_failures + 1)
        )
        if result.rowcount != 1:
            return None
        return int(self.conn.execute(select(a.pin_failures).where(a.id == app_ref)).scalar_one())

    def clear_pin_failures(self, app_ref: int) -> None:
        a = k.key_apps.c
        self.conn.execute(update(k.key_apps).where(a.id == app_ref).values(pin_failures=0))

    def app_by_ref(self, app_ref: int) -> AppRow | None:
        return _app(self.conn.execute(select(k.key_apps).where(k.key_apps.c.id == app_ref)).first())

    def app_of_device(self, device_id: int) -> AppRow | None:
        link = k.key_app_users.c
        row = self.conn.execute(
            select(k.key_apps)
            .join(k.key_app_users, link.app_id == k.key_apps.c.id)
            .where(link.device_id == device_id)
        ).first()
        return _app(row)

    def link(self, *, app_ref: int, user_id: int, device_id: int, now: datetime) -> None:
        c = k.key_app_users.c
        self.conn.execute(delete(k.key_app_users).where(c.app_id == app_ref, c.user_id == user_id))
        self.conn.execute(
            insert(k.key_app_users).values(
                app_id=app_ref, user_id=user_id, device_id=device_id, created_at=now
            )
        )

    def app_users(self, app_ref: int) -> list[AppUser]:
        link = k.key_app_users.c
        rows = self.conn.execute(
            select(t.users.c.username, t.devices.c.public_id, t.devices.c.state)
            .select_from(k.key_app_users)
            .join(t.users, t.users.c.id == link.user_id)
            .join(t.devices, t.devices.c.id == link.device_id)
            .where(link.app_id == app_ref)
            .order_by(t.users.c.username)
        ).all()
        return [AppUser(username=r[0], device_id=r[1], state=r[2]) for r in rows]

    def identification_of(self, user_id: int) -> tuple[str, bytes] | None:
        e, u = t.entities.c, t.users.c
        row = self.conn.execute(
            select(e.external_id, e.identification)
            .join(t.users, u.entity_id == e.id)
            .where(u.id == user_id)
        ).first()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def phones_of(self, user_id: int) -> list[str]:
        own = self.conn.execute(select(t.users.c.phone).where(t.users.c.id == user_id)).scalar()
        d = t.devices.c
        params = self.conn.execute(
            select(d.params).where(d.owner_id == user_id, d.kind == "sms", d.state == "active")
        ).scalars()
        found = [str(own)] if own else []
        for text in params:
            phone = json.loads(text or "{}").get("phone")
            if phone and phone not in found:
                found.append(str(phone))
        return found

    def recovery_pin(self, user_id: int) -> str | None:
        c = k.key_recovery_pins.c
        value = self.conn.execute(select(c.pin_hash).where(c.user_id == user_id)).scalar()
        return None if value is None else str(value)

    def set_recovery_pin(self, user_id: int, *, pin_hash: str, now: datetime) -> None:
        c = k.key_recovery_pins.c
        self.conn.execute(delete(k.key_recovery_pins).where(c.user_id == user_id))
        self.conn.execute(
            insert(k.key_recovery_pins).values(user_id=user_id, pin_hash=pin_hash, created_at=now)
        )

    def replace_keys(self, user_id: int, *, keep_device_id: int, now: datetime) -> list[int]:
        d = t.devices.c
        ids = [
            int(i)
            for i in self.conn.execute(
                select(d.id).where(
                    d.owner_id == user_id,
                    d.kind == MOBILE_KEY,
                    d.state == "active",
                    d.id != keep_device_id,
                )
            ).scalars()
        ]
        if not ids:
            return []
        self.conn.execute(update(t.devices).where(d.id.in_(ids)).values(state="replaced"))
        p = k.push_requests.c
        self.conn.execute(
            update(k.push_requests)
            .where(p.device_id.in_(ids), p.status == "pending")
            .values(status="withdrawn", answered_at=now)
        )
        s = t.sessions.c
        self.conn.execute(
            update(t.sessions)
            .where(s.device_id.in_(ids), s.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self._retire_empty_apps(ids)
        return ids

    def _retire_empty_apps(self, device_ids: list[int]) -> None:
        """An app whose every username moved elsewhere is ``replaced`` too: it can no
        longer sign calls (an uninstalled or lost phone)."""
        link, d, a = k.key_app_users.c, t.devices.c, k.key_apps.c
        apps = select(link.app_id).where(link.device_id.in_(device_ids))
        still_used = (
            select(link.app_id).join(t.devices, d.id == link.device_id).where(d.state == "active")
        )
        self.conn.execute(
            update(k.key_apps)
            .where(a.id.in_(apps), a.id.not_in(still_used))
            .values(state="replaced")
        )

    # --- pushes ------------------------------------------------------------------------

    def add_push(
        self,
        *,
        push_id: str,
        subject: str,
        purpose: str,
        app_ref: int,
        device_id: int,
        user_id: int,
        number: str,
        body: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.conn.execute(
            insert(k.push_requests).values(
                push_id=push_id,
                subject=subject,
                purpose=purpose,
                app_id=app_ref,
                device_id=device_id,
                user_id=user_id,
                number=number,
                body=body,
                status="pending",
                created_at=now,
                expires_at=expires_at,
            )
        )

    def push(self, push_id: str) -> PushRow | None:
        row = self.conn.execute(
            select(k.push_requests).where(k.push_requests.c.push_id == push_id)
        ).first()
        return None if row is None else _push(row)

    def pending_pushes(self, app_ref: int, *, now: datetime) -> list[PushRow]:
        p = k.push_requests.c
        rows = self.conn.execute(
            select(k.push_requests)
            .where(p.app_id == app_ref, p.status == "pending", p.expires_at > now)
            .order_by(p.id)
        ).all()
        return [_push(r) for r in rows]

    def pending_push_of(self, subject: str, *, now: datetime) -> PushRow | None:
        p = k.push_requests.c
        row = self.conn.execute(
            select(k.push_requests)
            .where(p.subject == subject, p.status == "pending", p.expires_at > now)
            .order_by(p.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _push(row)

    def close_push(self, push_id: str, *, status: str, now: datetime) -> bool:
        p = k.push_requests.c
        result = self.conn.execute(
            update(k.push_requests)
            .where(p.push_id == push_id, p.status == "pending", p.expires_at > now)
            .values(status=status, answered_at=now)
        )
        return result.rowcount == 1

    def withdraw_pushes(self, subject: str, *, now: datetime) -> None:
        p = k.push_requests.c
        self.conn.execute(
            update(k.push_requests)
            .where(p.subject == subject, p.status == "pending")
            .values(status="withdrawn", answered_at=now)
        )

    def keep_session(self, push_id: str, *, sealed: bytes) -> None:
        p = k.push_requests.c
        self.conn.execute(
            update(k.push_requests).where(p.push_id == push_id).values(session=sealed)
        )

    def take_session(self, subject: str) -> tuple[str, bytes] | None:
        p = k.push_requests.c
        row = self.conn.execute(
            select(p.push_id, p.session).where(p.subject == subject, p.session.is_not(None))
        ).first()
        if row is None:
            return None
        taken = self.conn.execute(
            update(k.push_requests)
            .where(p.push_id == row[0], p.session.is_not(None))
            .values(session=None)
        )
        return (str(row[0]), bytes(row[1])) if taken.rowcount == 1 else None

    def muted_until(self, user_id: int) -> datetime | None:
        c = k.push_mutes.c
        value = self.conn.execute(select(c.until).where(c.user_id == user_id)).scalar()
        return value if isinstance(value, datetime) else None

    def mute(self, user_id: int, *, until: datetime) -> None:
        c = k.push_mutes.c
        self.conn.execute(delete(k.push_mutes).where(c.user_id == user_id))
        self.conn.execute(insert(k.push_mutes).values(user_id=user_id, until=until))

    # --- long-poll checks (one query for many waiters) ----------------------------------

    def login_changes(self, login_ids: Sequence[str], *, now: datetime) -> dict[str, int | None]:
        lg, c, ch = t.logins.c, t.ceremonies.c, t.challenges.c
        newest = select(func.max(ch.id)).where(ch.ceremony_id == c.id).scalar_subquery()
        several = select(func.count(ch.id)).where(ch.ceremony_id == c.id).scalar_subquery() > 1
        # a login without a ceremony (password only) was never waiting
        pending = and_(func.coalesce(c.state, "authenticated") == "challenge", c.expires_at > now)
        joined = t.logins.outerjoin(t.ceremonies, c.id == lg.ceremony_id)
        found: dict[str, int | None] = {}
        for i in range(0, len(login_ids), SLICE):
            part = list(login_ids[i : i + SLICE])
            rows = self.conn.execute(
                select(lg.id, case((pending, newest), else_=None))
                .select_from(joined)
                .where(lg.id.in_(part), or_(~pending, several))
            )
            found.update((login_id, mark) for login_id, mark in rows)
        return found

    def apps_with_pushes(self, app_ids: Sequence[str], *, now: datetime) -> set[str]:
        p, a = k.push_requests.c, k.key_apps.c
        found: set[str] = set()
        for i in range(0, len(app_ids), SLICE):
            part = list(app_ids[i : i + SLICE])
            found.update(
                self.conn.execute(
                    select(a.app_id)
                    .distinct()
                    .select_from(k.push_requests)
                    .join(k.key_apps, a.id == p.app_id)
                    .where(a.app_id.in_(part), p.status == "pending", p.expires_at > now)
                ).scalars()
            )
        return found
