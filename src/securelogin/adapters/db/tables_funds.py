"""Tables of withdrawals and limits (issue 5): withdrawals, per-business-day totals,
idempotency keys, service API keys.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0004 (``migrations/versions/0004_funds.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: one withdrawal request (R-WD-1); the id is a 128-bit random capability ("wd_…").
#: ``(user_id, idempotency_key)`` is unique: the same key never makes a second row.
withdrawals = Table(
    "withdrawals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    #: SHA-256 of the canonical request body: same key + other body is refused
    Column("request_hash", String(64), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("destination", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("reason", String(40)),
    #: the device asked to confirm, and the confirmation's ceremony (its challenge)
    Column("device_id", Id, ForeignKey("devices.id")),
    Column("ceremony_id", String(40), ForeignKey("ceremonies.id")),
    Column("business_day", Date),
    Column("ledger_entry_id", Id, ForeignKey("ledger_entries.id")),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime()),
    UniqueConstraint("user_id", "idempotency_key", name="uq_withdrawals_user_key"),
)

#: R-LIMIT-3/4 in constant time: what an account withdrew or transferred out per business
#: day, updated in the same transaction as the ledger row (a check reads ≤ 5 rows)
withdrawal_day_totals = Table(
    "withdrawal_day_totals",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("business_day", Date, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "business_day"),
)

#: API keys of other systems (R-RESTRICT-1): shown once, stored as SHA-256 of 256 bits
service_keys = Table(
    "service_keys",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    _created(),
    Column("revoked_at", UtcDateTime()),
)
