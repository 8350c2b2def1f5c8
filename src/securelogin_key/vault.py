"""The app's vault: one file ``vault.json`` in ``--home`` (dir 0700, file 0600).

Format 2 (issue 12 §6, docs/mobile-key-protocol.md "Server-assisted app PIN"): Argon2id
of the app PIN and a random salt gives three keys: ``pin_key``, ``proof_key`` and
``offline_key``.  The secrets (P-256 private key, server push key, the OCRA secrets) are
sealed with AES-256-GCM under HKDF(``pin_key`` ‖ ``server_share``), where the 32-byte
share is kept by the server and released only for the PIN proof HMAC(``proof_key``,
"pin-proof"), counted there (10 wrong → locked).  The file holds no PIN check value, so a
copied vault cannot be tested against PIN guesses offline.

The offline fallback (R-KEY-5: no network) needs the OCRA secret without the server:
each is also stored encrypted with AES-CTR under ``offline_key`` and *no* integrity tag
("cryptographic camouflage"): every PIN guess decrypts to 32 random-looking bytes, and
only the server (a login answered with the response, counted by R-LOGIN-3) can tell the
right one.  A mistyped PIN therefore gives a wrong response rather than an error.

The non-secret part (server URL, app id, usernames and device ids, suites) is readable
without the PIN for ``status`` and is bound to the sealed part as associated data.
Format 1 vaults (PIN-only key with a check value) still open; the caller then upgrades
them (``needs_upgrade``).  Writes go to a temporary file that replaces the old one
atomically.
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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from securelogin_key.errors import NotActivated, Refused, VaultTampered, WrongPin
from securelogin_key.wire import b64url, canonical_json, private_key_from_der, unb64url

FORMAT = "securelogin-key-vault/2"
LEGACY_FORMAT = "securelogin-key-vault/1"
SHARE_BYTES = 32
#: the parts of the file outside the ciphertext that its associated data covers
BOUND = ("format", "public", "kdf", "offline", "unlock_token")
LEGACY_BOUND = ("format", "public", "kdf", "pin_check")
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
        wanted = _pick(self.usernames, username)
        return next(u for u in self.users if u.username == wanted)

    def with_user(self, user: UserKey) -> Vault:
        others = tuple(u for u in self.users if u.username != user.username)
        return replace(self, users=(*others, user))


@dataclass(frozen=True, kw_only=True)
class PublicInfo:
    """What ``status`` shows without the PIN (not authenticated until the PIN opens it)."""

    server: str
    app_id: str
    users: tuple[tuple[str, str], ...]  # (username, device_id)


@dataclass(frozen=True, kw_only=True)
class PinKeys:
    """What the app PIN gives with a vault's salt (one Argon2id run)."""

    kdf: dict[str, Any]
    pin_key: bytes
    proof: bytes  # the PIN proof / verifier the server compares
    offline_key: bytes

    @classmethod
    def fresh(cls, pin: str) -> PinKeys:
        """New salt: for an activation, a PIN change or an upgrade."""
        return cls.derive(pin, {**KDF, "salt": b64url(secrets.token_bytes(16))})

    @classmethod
    def derive(cls, pin: str, kdf: dict[str, Any]) -> PinKeys:
        raw = _argon2(pin, kdf, 96)
        proof = hmac.new(raw[32:64], b"pin-proof", hashlib.sha256).digest()
        return cls(kdf=kdf, pin_key=raw[:32], proof=proof, offline_key=raw[64:])

    def vault_key(self, share: bytes) -> bytes:
        """The AES-GCM key: needs the server's share as well as the PIN."""
        if len(share) != SHARE_BYTES:
            raise VaultTampered("the server's share has the wrong length")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=FORMAT.encode()).derive(
            self.pin_key + share
        )


@dataclass(frozen=True, kw_only=True)
class Sealing:
    """PIN keys with the server share: enough to open and to re-save a vault.  The
    unlock token is kept in the clear in the file: only its holder may ask the server."""

    keys: PinKeys
    share: bytes
    token: bytes

    @classmethod
    def fresh(cls, pin: str) -> Sealing:
        return cls(
            keys=PinKeys.fresh(pin),
            share=secrets.token_bytes(SHARE_BYTES),
            token=secrets.token_bytes(SHARE_BYTES),
        )


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

    def needs_upgrade(self) -> bool:
        """A format 1 vault: opened by the PIN alone, to be re-sealed with a share."""
        return self._load().get("format") == LEGACY_FORMAT

    def unlock_token(self) -> bytes:
        """What ``unlock`` and ``reset-pin`` show the server (no PIN needed)."""
        try:
            return unb64url(self._load()["unlock_token"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultTampered() from exc

    def pin_keys(self, pin: str) -> PinKeys:
        """The PIN proof to send the server (and the keys that go with it)."""
        document = self._load()
        try:
            return PinKeys.derive(pin, document["kdf"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultTampered() from exc

    def open(self, sealing: Sealing) -> Vault:
        """Decrypt with the PIN keys and the server share; ``VaultTampered`` otherwise."""
        document = self._load()
        if document["format"] == LEGACY_FORMAT:
            raise VaultTampered("a format 1 vault opens with open_legacy")
        return self._decrypt(document, sealing.keys.vault_key(sealing.share))

    def open_legacy(self, pin: str) -> Vault:
        """A format 1 vault: the PIN alone opens it (``WrongPin`` on its check value)."""
        document = self._load()
        try:
            raw = _argon2(pin, document["kdf"], 64)
            check = unb64url(document["pin_check"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultTampered() from exc
        if not hmac.compare_digest(hashlib.sha256(raw[32:]).digest(), check):
            raise WrongPin()
        return self._decrypt(document, raw[:32])

    def _decrypt(self, document: dict[str, Any], key: bytes) -> Vault:
        try:
            plain = AESGCM(key).decrypt(
                unb64url(document["nonce"]),
                unb64url(document["ciphertext"]),
                _associated_data(document),
            )
            return _vault_from(self._public(document), json.loads(plain))
        except (InvalidTag, KeyError, TypeError, ValueError) as exc:
            raise VaultTampered() from exc

    def offline_user(self, pin: str, username: str | None) -> UserKey:
        """R-KEY-5 without network: the user's OCRA secret under the PIN alone (a wrong PIN
        gives a wrong secret, never an error: nothing in the file tells them apart)."""
        if self.needs_upgrade():
            return self.open_legacy(pin).user(username)
        document = self._load()
        public = self._public(document)
        wanted = _pick(tuple(str(u["username"]) for u in public["users"]), username)
        try:
            entry = document["offline"][wanted]
            keys = PinKeys.derive(pin, document["kdf"])
            decryptor = Cipher(
                algorithms.AES(keys.offline_key), modes.CTR(unb64url(entry["iv"]))
            ).decryptor()
            secret = decryptor.update(unb64url(entry["secret"])) + decryptor.finalize()
            device = next(u["device_id"] for u in public["users"] if u["username"] == wanted)
            return UserKey(
                username=wanted, device_id=device, ocra_suite=entry["suite"], ocra_secret=secret
            )
        except (KeyError, TypeError, ValueError, StopIteration) as exc:
            raise VaultTampered() from exc

    def save(self, vault: Vault, sealing: Sealing) -> None:
        """Seal ``vault`` (fresh nonces) under the PIN keys and share; replace the file."""
        keys = sealing.keys
        offline = {}
        for u in vault.users:
            iv = secrets.token_bytes(16)
            encryptor = Cipher(algorithms.AES(keys.offline_key), modes.CTR(iv)).encryptor()
            offline[u.username] = {
                "suite": u.ocra_suite,
                "iv": b64url(iv),
                "secret": b64url(encryptor.update(u.ocra_secret) + encryptor.finalize()),
            }
        document: dict[str, Any] = {
            "format": FORMAT,
            "public": {
                "server": vault.server,
                "app_id": vault.app_id,
                "users": [{"username": u.username, "device_id": u.device_id} for u in vault.users],
            },
            "kdf": keys.kdf,
            "offline": offline,
            "unlock_token": b64url(sealing.token),
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
        sealed = AESGCM(keys.vault_key(sealing.share)).encrypt(
            nonce, canonical_json(secret), _associated_data(document)
        )
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
        if not isinstance(document, dict) or document.get("format") not in (FORMAT, LEGACY_FORMAT):
            raise VaultTampered(f"{self.path} is not a securelogin key vault")
        return document

    @staticmethod
    def _public(document: dict[str, Any]) -> dict[str, Any]:
        public = document.get("public")
        if not isinstance(public, dict) or not isinstance(public.get("users"), list):
            raise VaultTampered()
        return public


def _argon2(pin: str, kdf: dict[str, Any], length: int) -> bytes:
    if kdf.get("name") != "argon2id":
        raise VaultTampered("unknown key derivation in the vault")
    return hash_secret_raw(
        pin.encode("utf-8"),
        unb64url(kdf["salt"]),
        time_cost=int(kdf["time_cost"]),
        memory_cost=int(kdf["memory_cost"]),
        parallelism=int(kdf["parallelism"]),
        hash_len=length,
        type=Type.ID,
    )


def _pick(usernames: tuple[str, ...], username: str | None) -> str:
    """The named user, or the only one when no name is given."""
    if username is None:
        if len(usernames) == 1:
            return usernames[0]
        raise NotActivated(
            f"this app holds several usernames ({', '.join(usernames)}); pass --username"
        )
    if username.lower() in usernames:
        return username.lower()
    raise NotActivated(f"username {username} is not activated in this app")


def _associated_data(document: dict[str, Any]) -> bytes:
    """Everything outside the ciphertext that a thief could change to mislead the app."""
    bound = LEGACY_BOUND if document["format"] == LEGACY_FORMAT else BOUND
    return canonical_json({name: document[name] for name in bound})


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
