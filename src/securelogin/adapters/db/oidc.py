"""Storage of the OpenID Connect provider (issue 16 §1): clients (secrets hashed), signing
keys (private keys sealed), waiting authorization requests, codes and access tokens
(both stored as SHA-256 of a 256-bit random value, like session tokens)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
    update,
)

from securelogin.adapters.db.tables import Id, UtcDateTime, devices, metadata, sessions
from securelogin.service.oidc_ports import ClientRow, CodeRow, KeyRow, PendingRow, TokenRow

oidc_clients = Table(
    "oidc_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64)),
    Column("redirect_uris", Text, nullable=False),
    Column("post_logout_redirect_uris", Text, nullable=False),
    Column("backchannel_logout_uri", String(2048)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

oidc_keys = Table(
    "oidc_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("sealed_private", LargeBinary, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime()),
)

oidc_requests = Table(
    "oidc_requests",
    metadata,
    Column("request_hash", String(64), primary_key=True),
    Column("request", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("consumed_at", UtcDateTime()),
)

oidc_codes = Table(
    "oidc_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("oidc_clients.client_id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("session_id", Id, ForeignKey("sessions.id"), nullable=False),
    Column("request", Text, nullable=False),
    Column("access_level", String(24), nullable=False),
    Column("acr_rank", Integer, nullable=False),
    Column("amr", String(100), nullable=False),
    Column("auth_time", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
)

oidc_tokens = Table(
    "oidc_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("oidc_clients.client_id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("session_id", Id, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, index=True),
    Column("scope", String(200), nullable=False),
    Column("access_level", String(24), nullable=False),
    Column("acr_rank", Integer, nullable=False),
    Column("amr", String(100), nullable=False),
    Column("auth_time", UtcDateTime(), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)


def _client(row: Any) -> ClientRow:
    return ClientRow(
        client_id=row.client_id,
        name=row.name,
        secret_hash=row.secret_hash,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        post_logout_redirect_uris=tuple(json.loads(row.post_logout_redirect_uris)),
        backchannel_logout_uri=row.backchannel_logout_uri,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _code(row: Any) -> CodeRow:
    return CodeRow(
        code_hash=row.code_hash,
        client_id=row.client_id,
        user_id=row.user_id,
        session_id=row.session_id,
        request=row.request,
        access_level=row.access_level,
        acr_rank=row.acr_rank,
        amr=tuple(row.amr.split()),
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _token(row: Any) -> TokenRow:
    return TokenRow(
        token_hash=row.token_hash,
        client_id=row.client_id,
        user_id=row.user_id,
        session_id=row.session_id,
        code_hash=row.code_hash,
        scope=tuple(row.scope.split()),
        access_level=row.access_level,
        acr_rank=row.acr_rank,
        amr=tuple(row.amr.split()),
        auth_time=row.auth_time,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlOidc:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # clients
    def add_client(self, client: ClientRow) -> None:
        self.conn.execute(
            insert(oidc_clients).values(
                client_id=client.client_id,
                name=client.name,
                secret_hash=client.secret_hash,
                redirect_uris=json.dumps(list(client.redirect_uris)),
                post_logout_redirect_uris=json.dumps(list(client.post_logout_redirect_uris)),
                backchannel_logout_uri=client.backchannel_logout_uri,
                created_at=client.created_at,
                revoked_at=client.revoked_at,
            )
        )

    def client(self, client_id: str) -> ClientRow | None:
        row = self.conn.execute(
            select(oidc_clients).where(oidc_clients.c.client_id == client_id)
        ).first()
        return None if row is None else _client(row)

    def clients(self) -> list[ClientRow]:
        rows = self.conn.execute(select(oidc_clients).order_by(oidc_clients.c.created_at))
        return [_client(r) for r in rows]

    def revoke_client(self, client_id: str, *, now: datetime) -> bool:
        c = oidc_clients.c
        done = self.conn.execute(
            update(oidc_clients)
            .where(c.client_id == client_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return done.rowcount == 1

    # signing keys
    def add_key(self, key: KeyRow) -> None:
        self.conn.execute(
            insert(oidc_keys).values(
                kid=key.kid,
                sealed_private=key.sealed_private,
                public_jwk=json.dumps(dict(key.public_jwk)),
                created_at=key.created_at,
                retired_at=key.retired_at,
            )
        )

    def signing_keys(self) -> list[KeyRow]:
        rows = self.conn.execute(select(oidc_keys).order_by(oidc_keys.c.created_at.desc()))
        return [
            KeyRow(
                kid=r.kid,
                sealed_private=r.sealed_private,
                public_jwk=json.loads(r.public_jwk),
                created_at=r.created_at,
                retired_at=r.retired_at,
            )
            for r in rows
        ]

    def lock_keys(self) -> None:
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("LOCK TABLE oidc_keys IN EXCLUSIVE MODE"))
        # SQLite: the unit of work began with BEGIN IMMEDIATE, writers already queue

    def retire_key(self, kid: str, *, now: datetime) -> None:
        c = oidc_keys.c
        self.conn.execute(
            update(oidc_keys).where(c.kid == kid, c.retired_at.is_(None)).values(retired_at=now)
        )

    def drop_key(self, kid: str) -> None:
        self.conn.execute(delete(oidc_keys).where(oidc_keys.c.kid == kid))

    # waiting authorization requests
    def add_request(self, request_hash: str, row: PendingRow) -> None:
        self.conn.execute(
            insert(oidc_requests).values(
                request_hash=request_hash,
                request=row.request,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )
        )

    def take_request(self, request_hash: str, *, now: datetime) -> PendingRow | None:
        c = oidc_requests.c
        row = self.conn.execute(
            update(oidc_requests)
            .where(c.request_hash == request_hash, c.consumed_at.is_(None), c.expires_at > now)
            .values(consumed_at=now)
            .returning(c.request, c.created_at, c.expires_at)
        ).first()
        if row is None:
            return None
        return PendingRow(request=row.request, created_at=row.created_at, expires_at=row.expires_at)

    # codes
    def add_code(self, code: CodeRow) -> None:
        self.conn.execute(
            insert(oidc_codes).values(
                code_hash=code.code_hash,
                client_id=code.client_id,
                user_id=code.user_id,
                session_id=code.session_id,
                request=code.request,
                access_level=code.access_level,
                acr_rank=code.acr_rank,
                amr=" ".join(code.amr),
                auth_time=code.auth_time,
                created_at=code.created_at,
                expires_at=code.expires_at,
            )
        )

    def use_code(self, code_hash: str, *, now: datetime) -> tuple[CodeRow, bool] | None:
        c = oidc_codes.c
        first = self.conn.execute(
            update(oidc_codes)
            .where(c.code_hash == code_hash, c.used_at.is_(None))
            .values(used_at=now)
        )
        row = self.conn.execute(select(oidc_codes).where(c.code_hash == code_hash)).first()
        return None if row is None else (_code(row), first.rowcount == 1)

    # access tokens
    def add_token(self, token: TokenRow) -> None:
        self.conn.execute(
            insert(oidc_tokens).values(
                token_hash=token.token_hash,
                client_id=token.client_id,
                user_id=token.user_id,
                session_id=token.session_id,
                code_hash=token.code_hash,
                scope=" ".join(token.scope),
                access_level=token.access_level,
                acr_rank=token.acr_rank,
                amr=" ".join(token.amr),
                auth_time=token.auth_time,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
            )
        )

    def token(self, token_hash: str) -> TokenRow | None:
        row = self.conn.execute(
            select(oidc_tokens).where(oidc_tokens.c.token_hash == token_hash)
        ).first()
        return None if row is None else _token(row)

    def revoke_token(self, token_hash: str, *, now: datetime) -> None:
        c = oidc_tokens.c
        self.conn.execute(
            update(oidc_tokens)
            .where(c.token_hash == token_hash, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_tokens_of_code(self, code_hash: str, *, now: datetime) -> int:
        c = oidc_tokens.c
        done = self.conn.execute(
            update(oidc_tokens)
            .where(c.code_hash == code_hash, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(done.rowcount)

    def revoke_tokens_of_session(self, session_id: int, *, now: datetime) -> list[str]:
        c = oidc_tokens.c
        rows = self.conn.execute(
            update(oidc_tokens)
            .where(c.session_id == session_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(c.client_id)
        )
        return sorted({r.client_id for r in rows})

    def session_alive(self, session_id: int, *, now: datetime) -> bool:
        s, d = sessions, devices
        row = self.conn.execute(
            select(s.c.revoked_at, s.c.expires_at, s.c.device_id, d.c.state)
            .outerjoin(d, d.c.id == s.c.device_id)
            .where(s.c.id == session_id)
        ).first()
        if row is None or row.revoked_at is not None or now >= row.expires_at:
            return False
        return row.device_id is None or row.state == "active"

    def clients_of_session(self, session_id: int) -> list[str]:
        c = oidc_tokens.c
        rows = self.conn.execute(select(c.client_id).where(c.session_id == session_id).distinct())
        return sorted(r.client_id for r in rows)
