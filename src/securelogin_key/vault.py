"""The app's vault: one file ``vault.json`` in ``--home`` (dir 0700, file 0600).

The secrets (P-256 private key, server push key, per username the OCRA secret) are
sealed with AES-256-GCM under a key derived from the app PIN with Argon2id and a random
salt; the non-secret part (server URL, app id, usernames and device ids) is readable
without the PIN for ``status`` and is bound to the ciphertext as associated data, so
changing it makes the vault refuse to open.  A short check value derived from the PIN
tells a wrong PIN (``WrongPin``) from an altered file (``VaultTampered``).  Writes go
to a temporary file that replaces the old one atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from securelogin_key.errors import NotActivated, Refused, VaultTampered, WrongPin
from securelogin_key.wire import b64url, canonical_json, private_key_from_der, unb64url

FORMAT = "securelogin-key-vault/1"
FILENAME = "vault.json"
# Argon2id, RFC 9106 second recommended option scaled for a phone: 64 MiB, 3 passes.
KDF = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 1}
APP_PIN_LENGTHS = range(4, 7)


def check_app_pin(pin: str) -> None:
    """SPEC §10.1: the app PIN is 4–6 digits."""
    if not (pin.isascii() and pin.isdigit() and len(pin) in APP_PIN_LENGTHS):
        raise Refused("the app PIN must be 4 to 6 digits")


@dataclass(frozen=True, kw_only=True)
class UserKey:
    username: str
    device_id: str
    ocra_suite: str
    ocra_secret: bytes


@dataclass(frozen=True, kw_only=True)
class Vault:
    server: str
    app_id: str
    server_public_key: str
    private_key_der: bytes
    users: tuple[UserKey, ...]

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return private_key_from_der(self.private_key_der)

    @property
    def usernames(self) -> tuple[str, ...]:
        return tuple(u.username for u in self.users)

    def user(self, username: str | None) -> UserKey:
        """The named user, or the only one when no name is given."""
        if username is None:
            if len(self.users) == 1:
                return self.users[0]
            names = ", ".join(self.usernames)
            raise NotActivated(f"this app holds several usernames ({names}); pass --username")
        for user in self.users:
            if user.username == username.lower():
                return user
        raise NotActivated(f"username {username} is not activated in this app")

    def with_user(self, user: UserKey) -> Vault:
        others = tuple(u for u in self.users if u.username != user.username)
        return replace(self, users=(*others, user))


@dataclass(frozen=True, kw_only=True)
class PublicInfo:
    """What ``status`` shows without the PIN (not authenticated until the PIN opens it)."""

    server: str
    app_id: str
    users: tuple[tuple[str, str], ...]  # (username, device_id)


class VaultFile:
    """The vault of one ``--home`` directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / FILENAME

    def exists(self) -> bool:
        return self.path.exists()

    def read_public(self) -> PublicInfo:
        public = self._public(self._load())
        return PublicInfo(
            server=public["server"],
            app_id=public["app_id"],
            users=tuple((u["username"], u["device_id"]) for u in public["users"]),
        )

    def open(self, pin: str) -> Vault:
        """Decrypt with the app PIN; ``WrongPin`` or ``VaultTampered`` otherwise."""
        document = self._load()
        try:
            kdf = document["kdf"]
            salt = unb64url(kdf["salt"])
            enc_key, check = _derive(pin, salt, kdf)
            if not hmac.compare_digest(check, unb64url(document["pin_check"])):
                raise WrongPin()
            plain = AESGCM(enc_key).decrypt(
                unb64url(document["nonce"]),
                unb64url(document["ciphertext"]),
                _associated_data(document),
            )
            return _vault_from(self._public(document), json.loads(plain))
        except (InvalidTag, KeyError, TypeError, ValueError) as exc:
            raise VaultTampered() from exc

    def save(self, vault: Vault, pin: str) -> None:
        """Seal ``vault`` under ``pin`` (fresh salt and nonce) and replace the file."""
        salt = secrets.token_bytes(16)
        kdf = {**KDF, "salt": b64url(salt)}
        enc_key, check = _derive(pin, salt, kdf)
        document: dict[str, Any] = {
            "format": FORMAT,
            "public": {
                "server": vault.server,
                "app_id": vault.app_id,
                "users": [{"username": u.username, "device_id": u.device_id} for u in vault.users],
            },
            "kdf": kdf,
            "pin_check": b64url(check),
        }
        nonce = secrets.token_bytes(12)
        secret = {
            "private_key": b64url(vault.private_key_der),
            "server_public_key": vault.server_public_key,
            "users": {
                u.username: {"suite": u.ocra_suite, "secret": b64url(u.ocra_secret)}
                for u in vault.users
            },
        }
        sealed = AESGCM(enc_key).encrypt(nonce, canonical_json(secret), _associated_data(document))
        document["nonce"] = b64url(nonce)
        document["ciphertext"] = b64url(sealed)
        self._write(json.dumps(document, indent=1).encode("utf-8"))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise read-modify-write cycles of two key processes on one home."""
        self._make_home()
        fd = os.open(self.home / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _make_home(self) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)

    def _write(self, data: bytes) -> None:
        self._make_home()
        temp = self.path.with_name(f".{FILENAME}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as sink:
                sink.write(data)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        directory = os.open(self.home, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            raise NotActivated(
                f"no mobile key in {self.home}; run 'securelogin key activate'"
            ) from None
        except (OSError, ValueError) as exc:
            raise VaultTampered(f"cannot read the vault {self.path}: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise VaultTampered(f"{self.path} is not a securelogin key vault")
        return document

    @staticmethod
    def _public(document: dict[str, Any]) -> dict[str, Any]:
        public = document.get("public")
        if not isinstance(public, dict) or not isinstance(public.get("users"), list):
            raise VaultTampered()
        return public


def _derive(pin: str, salt: bytes, kdf: dict[str, Any]) -> tuple[bytes, bytes]:
    """64 bytes of Argon2id: the AES key, then a PIN check value (stored hashed)."""
    if kdf.get("name") != "argon2id":
        raise VaultTampered("unknown key derivation in the vault")
    raw = hash_secret_raw(
        pin.encode("utf-8"),
        salt,
        time_cost=int(kdf["time_cost"]),
        memory_cost=int(kdf["memory_cost"]),
        parallelism=int(kdf["parallelism"]),
        hash_len=64,
        type=Type.ID,
    )
    return raw[:32], hashlib.sha256(raw[32:]).digest()


def _associated_data(document: dict[str, Any]) -> bytes:
    """Everything outside the ciphertext that a thief could change to mislead the app."""
    return canonical_json(
        {
            "format": document["format"],
            "public": document["public"],
            "kdf": document["kdf"],
            "pin_check": document["pin_check"],
        }
    )


def _vault_from(public: dict[str, Any], secret: dict[str, Any]) -> Vault:
    devices = {u["username"]: u["device_id"] for u in public["users"]}
    users = tuple(
        UserKey(
            username=name,
            device_id=devices[name],
            ocra_suite=entry["suite"],
            ocra_secret=unb64url(entry["secret"]),
        )
        for name, entry in secret["users"].items()
    )
    return Vault(
        server=public["server"],
        app_id=public["app_id"],
        server_public_key=secret["server_public_key"],
        private_key_der=unb64url(secret["private_key"]),
        users=users,
    )
