"""Vault helpers shared by the soft key's tests: a vault in the format the app wrote
before issue 12 §6 (a PIN-only key and a PIN check value)."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from securelogin_key.vault import KDF, LEGACY_FORMAT, Vault, _associated_data
from securelogin_key.wire import b64url, canonical_json, unb64url


def write_format_1(home: Path, vault: Vault, pin: str) -> None:
    """What the app wrote before issue 12 §6 (PIN-only key and a PIN check value)."""
    kdf = {**KDF, "salt": b64url(secrets.token_bytes(16))}
    raw = hash_secret_raw(
        pin.encode(), unb64url(kdf["salt"]), time_cost=3, memory_cost=65536,
        parallelism=1, hash_len=64, type=Type.ID,
    )  # fmt: skip
    document = {
        "format": LEGACY_FORMAT,
        "public": {
            "server": vault.server,
            "app_id": vault.app_id,
            "users": [{"username": u.username, "device_id": u.device_id} for u in vault.users],
        },
        "kdf": kdf,
        "pin_check": b64url(hashlib.sha256(raw[32:]).digest()),
    }
    secret = {
        "private_key": b64url(vault.private_key_der),
        "server_public_key": vault.server_public_key,
        "users": {u.username: {"suite": u.ocra_suite, "secret": b64url(u.ocra_secret)}
                  for u in vault.users},
    }  # fmt: skip
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(raw[:32]).encrypt(nonce, canonical_json(secret), _associated_data(document))
    document |= {"nonce": b64url(nonce), "ciphertext": b64url(sealed)}
    home.mkdir(parents=True, exist_ok=True)
    (home / "vault.json").write_text(json.dumps(document))
