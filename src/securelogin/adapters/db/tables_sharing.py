"""Tables of security settings (issue 6): opt-out waivers, share requests.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0007 (``migrations/versions/0007_sharing.py``).  ``users.opted_out`` stays the
one source of truth of whether a user is opted out (R-OPT-2); ``opt_outs`` keeps the
signed waivers, ``device_users`` (tables.py) which users a device protects (R-SHARE-5).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: R-OPT-2: one signed waiver per opt-out, word for word; ``ended_at`` when opted back in
opt_outs = Table(
    "opt_outs",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("waiver_version", String(32), nullable=False),
    Column("waiver_language", String(8), nullable=False),
    Column("waiver_text", Text, nullable=False),
    Column("waiver_digest", String(64), nullable=False),
    Column("signed_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("ended_how", String(24)),
)

#: R-SHARE-1..5: one request to share the owner's device with the requester
share_requests = Table(
    "share_requests",
    metadata,
    _id(),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("requester_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False),
    #: the owner's second factor: a ceremony of purpose ``share`` answered by the owner
    #: (counters, expiry, R-LOGIN-6)
    Column("ceremony_id", String(40), ForeignKey("ceremonies.id")),
    Column("status", String(24), nullable=False),
    Column("review", String(16), nullable=False),
    _created(),
    Column("decided_at", UtcDateTime()),
    Column("decided_by", String(100)),
    Column("reason", String(500)),
    Index("ix_share_requests_status", "status"),
)
