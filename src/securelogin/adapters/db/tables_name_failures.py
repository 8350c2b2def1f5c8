"""Password failures of usernames nobody has (R-LOGIN-3; issue 12, finding 3).

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0008 (``migrations/versions/0008_name_failures.py``).  A typed username that
belongs to no user is counted here under a keyed fingerprint (never in clear), so that
it locks after the same number of failures as a real one and answers ``423`` alike.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from securelogin.adapters.db.tables import UtcDateTime, metadata

name_failures = Table(
    "name_failures",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False, index=True),
)
