"""Tables of the mobile key (issue 4): app installations, push requests, activations.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0003 (``migrations/versions/0003_mobile_key.py``); the server-assisted app PIN
is 0009.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: one installation of the app: its P-256 public key (DER SPKI) and its recovery PIN hash
key_apps = Table(
    "key_apps",
    metadata,
    _id(),
    Column("app_id", String(40), nullable=False, unique=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("recovery_pin_hash", String(255), nullable=False),
    #: optional wake-up provider: webpush / fcm / apns, and its token or subscription JSON
    Column("push_provider", String(16)),
    Column("push_target", Text),
    _created(),
    #: the server-assisted app PIN (issue 12 §6, migration 0009): keyed hash of the app's
    #: PIN verifier, the vault's server share sealed with the secret box, the unlock
    #: token's keyed hash, and the count of
    #: wrong PIN proofs since the last right one (10 → locked until the recovery PIN)
    Column("pin_verifier", String(64)),
    Column("pin_share", LargeBinary),
    #: keyed hash of the unlock token the vault file holds: only its holder may spend tries
    Column("pin_token", String(64)),
    Column("pin_failures", Integer, nullable=False, server_default="0"),
)

#: the usernames an app holds (R-KEY-3): one mobile_key device row per (app, user)
key_app_users = Table(
    "key_app_users",
    metadata,
    Column("app_id", Id, ForeignKey("key_apps.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False, unique=True),
    _created(),
    PrimaryKeyConstraint("app_id", "user_id"),
)

#: R-KEY-2: the recovery PIN a user set at their first activation (hash)
key_recovery_pins = Table(
    "key_recovery_pins",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("pin_hash", String(255), nullable=False),
    _created(),
)

#: an activation in progress (R-KEY-1): by SMS code, or by a portal QR session
key_activations = Table(
    "key_activations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("method", String(8), nullable=False),
    Column("phone", String(20)),
    #: keyed HMAC of the SMS activation code (never the code itself)
    Column("code_hash", String(64)),
    Column("sends", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
)

#: a push request (R-KEY-4); ``body`` is the signed PUSH exactly as the app receives it
push_requests = Table(
    "push_requests",
    metadata,
    _id(),
    Column("push_id", String(40), nullable=False, unique=True),
    #: the ceremony the push belongs to (``ceremonies.id``)
    Column("subject", String(64), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),
    Column("app_id", Id, ForeignKey("key_apps.id"), nullable=False, index=True),
    Column("device_id", Id, ForeignKey("devices.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("number", String(2), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("answered_at", UtcDateTime()),
    #: the session an approval opened, sealed, until the waiting client collects it once
    Column("session", LargeBinary),
)

#: R-KEY-4: "deny — not me" mutes pushes to a user until ``until``
push_mutes = Table(
    "push_mutes",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("until", UtcDateTime(), nullable=False),
)
