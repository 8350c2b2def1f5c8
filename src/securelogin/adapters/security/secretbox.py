"""Secrets at rest (SPEC §9): AES-256-GCM under a master key kept outside the database.

Blob layout: ``b"\\x01" | key id (4 bytes) | nonce (12) | ciphertext+tag``.  The key id
lets several master keys coexist during rotation (the first one encrypts).  ``context``
is authenticated data that binds a ciphertext to its row, so a sealed seed copied into
another row does not open.  Fingerprints and card-value hashes use a pepper derived from
the master key with HKDF (RFC 5869), never the encryption key itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from securelogin.errors import ConfigurationError, IntegrityViolation

VERSION = b"\x01"


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def key_id(master: bytes) -> bytes:
    return hashlib.sha256(b"securelogin key id" + master).digest()[:4]


class AesGcmSecretBox:
    def __init__(self, master_keys: Sequence[bytes]) -> None:
        if not master_keys or any(len(k) != 32 for k in master_keys):
            raise ConfigurationError("master keys must be 32 bytes each")
        self._keys = {key_id(k): AESGCM(_derive(k, b"securelogin aes-gcm")) for k in master_keys}
        self._primary = key_id(master_keys[0])
        self._pepper = _derive(master_keys[0], b"securelogin pepper")

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = secrets.token_bytes(12)
        sealed = self._keys[self._primary].encrypt(nonce, plaintext, context.encode())
        return VERSION + self._primary + nonce + sealed

    def open(self, blob: bytes, *, context: str) -> bytes:
        if len(blob) < 1 + 4 + 12 + 16 or blob[:1] != VERSION:
            raise IntegrityViolation("sealed value has an unknown format", first_bad_id=0)
        aead = self._keys.get(blob[1:5])
        if aead is None:
            raise ConfigurationError("a sealed value uses a master key that is not configured")
        try:
            return aead.decrypt(blob[5:17], blob[17:], context.encode())
        except InvalidTag:
            raise IntegrityViolation("sealed value does not verify", first_bad_id=0) from None

    def fingerprint(self, data: bytes, *, purpose: str) -> str:
        return hmac.new(self._pepper, purpose.encode() + b"\x00" + data, hashlib.sha256).hexdigest()


def parse_keys(text: str) -> list[bytes]:
    """``base64,base64,…`` → 32-byte keys; a clear ConfigurationError otherwise."""
    keys = []
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        try:
            key = base64.b64decode(part.strip(), validate=True)
        except ValueError:
            raise ConfigurationError("master key is not valid base64") from None
        if len(key) != 32:
            raise ConfigurationError("master key must be base64 of exactly 32 bytes")
        keys.append(key)
    if not keys:
        raise ConfigurationError("master key is empty")
    return keys


def read_or_create_key_file(path: Path, *, create: bool) -> list[bytes]:
    """Read a key file; create a new random key with mode 0600 when allowed and absent."""
    try:
        return _read_or_create(path, create=create)
    except OSError as exc:
        raise ConfigurationError(f"master key file {path}: {exc.strerror}") from None


def _read_or_create(path: Path, *, create: bool) -> list[bytes]:
    if not path.exists():
        if not create:
            raise ConfigurationError(f"master key file {path} does not exist")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    if path.stat().st_mode & 0o077:
        raise ConfigurationError(
            f"master key file {path} must not be readable by others (chmod 600 {path})"
        )
    return parse_keys(path.read_text())
