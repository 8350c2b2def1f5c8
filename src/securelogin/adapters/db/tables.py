"""SQLAlchemy Core tables: the storage shape of SPEC §1 (migrations live in ``migrations/``).

Money is integer cents (``BigInteger``); times are UTC; secrets are sealed bytes
(AES-GCM, see adapters.security.secretbox) or hashes, never plain text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

#: BIGINT everywhere except SQLite, where only INTEGER PRIMARY KEY auto-increments
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC; refuses naive datetimes on the way in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the storage; use the injected clock")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column type guarantees it
        return value.replace(tzinfo=UTC)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _created() -> Column[datetime]:
    return Column("created_at", UtcDateTime(), nullable=False)


entities = Table(
    "entities",
    metadata,
    _id(),
    Column("external_id", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("identification", LargeBinary, nullable=False),
    Column("identification_fp", String(64), nullable=False, index=True),
    _created(),
)

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("number", String(16), nullable=False, unique=True),
    Column("entity_id", Id, ForeignKey("entities.id"), nullable=False, index=True),
    Column("status", String(8), nullable=False, server_default="open"),
    Column("balance_cents", BigInteger, nullable=False, server_default="0"),
    _created(),
    Column("closed_at", UtcDateTime()),
)

account_holds = Table(
    "account_holds",
    metadata,
    _id(),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("device_id", Id, ForeignKey("devices.id")),
    Column("state", String(16), nullable=False, server_default="held"),
    _created(),
    Column("settled_at", UtcDateTime()),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    _id(),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("business_day", Date),
    Column("reference", String(100)),
    _created(),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("username", String(64), nullable=False, unique=True),
    Column("entity_id", Id, ForeignKey("entities.id"), nullable=False, index=True),
    Column("password_hash", String(255), nullable=False),
    Column("phone", String(20)),
    Column("opted_out", Boolean, nullable=False, server_default="0"),
    Column("password_failures", Integer, nullable=False, server_default="0"),
    Column("password_failed_at", UtcDateTime()),
    Column("factor_failures", Integer, nullable=False, server_default="0"),
    Column("factor_failed_at", UtcDateTime()),
    Column("locked_until", UtcDateTime()),
    _created(),
)

grants = Table(
    "grants",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("rights", String(64), nullable=False),
    UniqueConstraint("user_id", "account_id", name="uq_grants_user_account"),
)

devices = Table(
    "devices",
    metadata,
    _id(),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("serial", String(64), unique=True),
    Column("owner_id", Id, ForeignKey("users.id"), index=True),
    Column("state", String(24), nullable=False),
    Column("label", String(100)),
    Column("secret", LargeBinary),
    #: sealed PIN material the server needs (DSC+: SHA-1 of the PIN is an OCRA input)
    Column("pin_secret", LargeBinary),
    Column("params", Text, nullable=False, server_default="{}"),
    #: replay bookkeeping (R-LOGIN-6): last accepted TOTP step or HOTP counter
    Column("last_counter", BigInteger),
    Column("origin", String(16), nullable=False),
    _created(),
    Column("activated_at", UtcDateTime()),
    Column("expires_at", UtcDateTime()),
    Column("shipped_at", UtcDateTime()),
)

device_users = Table(
    "device_users",
    metadata,
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    _created(),
    PrimaryKeyConstraint("device_id", "user_id"),
)

card_values = Table(
    "card_values",
    metadata,
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("value_hash", String(64), nullable=False),
    PrimaryKeyConstraint("device_id", "position"),
)

sessions = Table(
    "sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("device_id", Id, ForeignKey("devices.id"), index=True),
    Column("access_level", String(24), nullable=False),
    Column("tier_rank", Integer, nullable=False),
    Column("tier_kind", String(32)),
    _created(),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    #: R-LOGIN-11: idle timeout for sessions that may withdraw or change security settings
    Column("idle_seconds", Integer),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: one row: the end of the chain; locked while a transaction appends (keeps the chain linear)
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("body", Text, nullable=False),
    _created(),
    Column("available_at", UtcDateTime(), nullable=False, index=True),
    Column("sent_at", UtcDateTime()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(500)),
)

#: one attempt to sign in (SPEC §1 "Login"); the id is a 128-bit random capability
#: a second-factor ceremony (issue 11), whatever it confirms: a login, a withdrawal, a
#: share request, a settings change.  ``subject`` is the client's record (no foreign key:
#: it is a login, a withdrawal or a share request); the client's record names the
#: ceremony back by ``ceremony_id``.  Its challenges hang off it in ``challenges``.
ceremonies = Table(
    "ceremonies",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("subject", String(64), nullable=False, index=True),
    #: whose second factor answers (counters, lock-out); for a share, the owner
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("device_id", Id, ForeignKey("devices.id")),
    #: CeremonyState: challenge → authenticated | denied (expiry is computed)
    Column("state", String(16), nullable=False),
    #: where it was opened from (shown in the mobile key's push, R-KEY-4)
    Column("platform", String(16), nullable=False),
    Column("client_ip", String(45)),
    #: codes sent (SMS resend cap)
    Column("sends", Integer, nullable=False, server_default="0"),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    #: CeremonyOutcome: answered | approved | exhausted | denied
    Column("outcome", String(16)),
)

#: a login (SPEC §3): its second factor is its ceremony (None for password-only logins,
#: R-LOGIN-7/8); its status is the ceremony's state, "authenticated" without one
logins = Table(
    "logins",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("ceremony_id", String(40), ForeignKey("ceremonies.id"), index=True),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("session_id", Id, ForeignKey("sessions.id")),
)

#: a second-factor challenge: single use, bound to its ceremony, expires, at most 3
#: answers; a device activation's challenge has no ceremony
challenges = Table(
    "challenges",
    metadata,
    _id(),
    Column("ceremony_id", String(40), ForeignKey("ceremonies.id"), index=True),
    #: None for a factor the user knows instead of holds (the password of a rank-0
    #: withdrawal, R-WD-4)
    Column("device_id", Id, ForeignKey("devices.id")),
    Column("prompt", Text, nullable=False),
    #: the public challenge value (OCRA question, card pair) — unique among open ones
    Column("value", String(32)),
    #: sealed one-time secret delivered out of band (the SMS code)
    Column("secret", LargeBinary),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
    Index("ix_challenges_device_value", "device_id", "value"),
)

#: card index pairs that were answered once and are never asked or accepted again
card_used_pairs = Table(
    "card_used_pairs",
    metadata,
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False),
    Column("first", Integer, nullable=False),
    Column("second", Integer, nullable=False),
    PrimaryKeyConstraint("device_id", "first", "second"),
)


# The tables of later features live in their own modules; importing them here puts every
# table on ``metadata`` whichever module is imported first.
from securelogin.adapters.db import (  # noqa: E402,F401
    tables_funds,
    tables_lifecycle,
    tables_mobile_key,
    tables_name_failures,
    tables_operators,
    tables_sharing,
    tables_webauthn,
)
