"""Tables of operators and the console (issue 6): operators, their roles and sessions,
identity checks.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0005 (``migrations/versions/0005_operators.py``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, LargeBinary, String, Table

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: staff users (SPEC §1 "Operator"): Argon2id password, sealed TOTP seed, roles
operators = Table(
    "operators",
    metadata,
    _id(),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    #: the operator's own TOTP seed (RFC 6238), sealed with context ``operator-totp:<name>``
    Column("totp_secret", LargeBinary, nullable=False),
    #: comma-separated roles, sorted (helpdesk, compliance, logistics, admin)
    Column("roles", String(100), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("password_failures", Integer, nullable=False, server_default="0"),
    Column("password_failed_at", UtcDateTime()),
    Column("factor_failures", Integer, nullable=False, server_default="0"),
    Column("factor_failed_at", UtcDateTime()),
    #: replay bookkeeping: the last TOTP step accepted (never accepted twice)
    Column("last_totp_step", BigInteger),
    _created(),
)

#: console sessions; ``stage`` is ``totp`` (password ok, waiting for the code) or ``active``
operator_sessions = Table(
    "operator_sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("operator_id", Id, ForeignKey("operators.id"), nullable=False, index=True),
    Column("stage", String(8), nullable=False),
    _created(),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

#: R-LOST-1: how the helpdesk verified a caller's identity, by whom and when
identity_checks = Table(
    "identity_checks",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("operator_id", Id, ForeignKey("operators.id"), nullable=False),
    Column("method", String(32), nullable=False),
    Column("note", String(200)),
    _created(),
)
