"""WebAuthn storage: one-time challenges and the app's biometric credential
(``service/webauthn_ports.py``).  Every guard is one conditional statement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, or_, select, update

from securelogin.adapters.db.tables_webauthn import key_app_biometrics, webauthn_ceremonies
from securelogin.service.webauthn_ports import AppBiometric, CeremonyPurpose, TakenCeremony


class SqlWebAuthn:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_ceremony(
        self,
        *,
        public_id: str,
        purpose: CeremonyPurpose,
        subject: str,
        challenge: bytes,
        label: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.conn.execute(
            insert(webauthn_ceremonies).values(
                public_id=public_id,
                purpose=purpose.value,
                subject=subject,
                challenge=challenge,
                label=label,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def take_ceremony(
        self, public_id: str, *, purpose: CeremonyPurpose, subject: str, now: datetime
    ) -> TakenCeremony | None:
        c = webauthn_ceremonies.c
        row = self.conn.execute(
            update(webauthn_ceremonies)
            .where(
                c.public_id == public_id,
                c.purpose == purpose.value,
                c.subject == subject,
                c.used_at.is_(None),
                c.expires_at > now,
            )
            .values(used_at=now)
            .returning(c.challenge, c.label)
        ).first()
        return None if row is None else TakenCeremony(challenge=row.challenge, label=row.label)

    def app_biometric(self, app_ref: int) -> AppBiometric | None:
        b = key_app_biometrics.c
        row = self.conn.execute(select(key_app_biometrics).where(b.app_ref == app_ref)).first()
        if row is None:
            return None
        return AppBiometric(
            credential_id=row.credential_id,
            public_key=row.public_key,
            sign_count=int(row.sign_count),
            share=row.share,
        )

    def set_app_biometric(
        self,
        app_ref: int,
        *,
        credential_id: str,
        public_key: bytes,
        sign_count: int,
        share: bytes,
        now: datetime,
    ) -> None:
        self.drop_app_biometric(app_ref)
        self.conn.execute(
            insert(key_app_biometrics).values(
                app_ref=app_ref,
                credential_id=credential_id,
                public_key=public_key,
                sign_count=sign_count,
                share=share,
                created_at=now,
            )
        )

    def advance_app_count(self, app_ref: int, count: int) -> bool:
        b = key_app_biometrics.c
        result = self.conn.execute(
            update(key_app_biometrics)
            .where(b.app_ref == app_ref, or_(b.sign_count < count, b.sign_count.is_(None)))
            .values(sign_count=count)
        )
        return result.rowcount == 1

    def drop_app_biometric(self, app_ref: int) -> bool:
        b = key_app_biometrics.c
        result = self.conn.execute(delete(key_app_biometrics).where(b.app_ref == app_ref))
        return bool(result.rowcount)
