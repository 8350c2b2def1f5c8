"""Tables of WebAuthn (issue 16 §2 passkeys, issue 15 the app's biometric unlock).

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0012 (``migrations/versions/0012_webauthn.py``).  A passkey itself is a row of
``devices`` (kind ``passkey``: the COSE public key sealed in ``secret``, the credential
id and RP ID in ``params``, the sign count in ``last_counter``); here are the one-time
challenges of registrations and unlocks, and the app's biometric credential.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table

from securelogin.adapters.db.tables import Id, UtcDateTime, _created, _id, metadata

#: a registration (passkey, app biometric) or app-unlock challenge: single use, expiring
webauthn_ceremonies = Table(
    "webauthn_ceremonies",
    metadata,
    _id(),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("purpose", String(24), nullable=False),
    #: whose it is: "user:<id>" or "app:<app_id>"
    Column("subject", String(64), nullable=False),
    Column("challenge", LargeBinary, nullable=False),
    #: a passkey's label chosen at the start
    Column("label", String(100)),
    _created(),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
)

#: the app's biometric unlock: one WebAuthn platform credential per app installation
key_app_biometrics = Table(
    "key_app_biometrics",
    metadata,
    _id(),
    Column("app_ref", Id, ForeignKey("key_apps.id"), nullable=False, unique=True),
    Column("credential_id", String(1400), nullable=False),
    #: the COSE public key, sealed with the secret box (bound to the app: integrity)
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False, server_default="0"),
    #: the share the app's biometric key is derived from, sealed; released only for a
    #: verified assertion
    Column("share", LargeBinary, nullable=False),
    _created(),
)
