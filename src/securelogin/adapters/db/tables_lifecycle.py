"""Tables of device lifecycle (issue 6): replacement requests, returns, the portal's
message centre and account documents.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0006 (``migrations/versions/0006_lifecycle.py``).  Deposit holds live in the
existing ``account_holds`` table; closures in ``accounts.status``/``closed_at``.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, LargeBinary, String, Table, Text

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: R-LOST-3/4: a replacement physical device, from the user's draft to its activation
replacement_requests = Table(
    "replacement_requests",
    metadata,
    _id(),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    #: draft → requested → assigned → shipped → activated (or cancelled)
    Column("state", String(16), nullable=False, index=True),
    Column("address", Text, nullable=False),
    #: the sealed soft PIN (AES-GCM; a DSC+ needs the PIN itself in its OCRA input)
    Column("pin_secret", LargeBinary, nullable=False),
    Column("hold_id", Id, ForeignKey("account_holds.id")),
    Column("device_id", Id, ForeignKey("devices.id")),
    Column("estimated_ship_date", Date),
    _created(),
    Column("confirmed_at", UtcDateTime()),
    Column("shipped_at", UtcDateTime()),
    #: R-LOST-4: the reminder 3 days before auto-activation, sent exactly once
    Column("reminded_at", UtcDateTime()),
    Column("activated_at", UtcDateTime()),
)

#: R-RETURN-1/2: a device on its way back to the brokerage
device_returns = Table(
    "device_returns",
    metadata,
    _id(),
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False, index=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("reason", String(24), nullable=False),
    Column("region", String(16), nullable=False),
    #: pending → received
    Column("state", String(16), nullable=False),
    _created(),
    Column("received_at", UtcDateTime()),
)

#: R-OPS-5: the portal's message centre (a channel of the outbox)
portal_messages = Table(
    "portal_messages",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    _created(),
    Column("read_at", UtcDateTime()),
)

#: R-LOGIN-8: activity statements and tax forms of an account, stored as PDF
account_documents = Table(
    "account_documents",
    metadata,
    _id(),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("title", String(200), nullable=False),
    Column("period", String(32), nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    _created(),
)
