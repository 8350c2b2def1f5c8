"""RFC 6030 PSKC writer: manufacturer-style seed files, for tests and the demo (R-OPS-3).

Writes a ``KeyContainer`` that ``securelogin.adapters.pskc.read_pskc`` (and other RFC 6030
readers) accept, in one of three shapes:

* plain: ``<Secret><PlainValue>`` base64 (RFC 6030 §4, figure 3);
* password: PBKDF2-HMAC-SHA1 with a random salt (§6.2, figure 7), AES-128-CBC;
* pre-shared key: ``ds:KeyName`` (§6.1, figure 6), AES-128/192/256-CBC by key size.

Encrypted secrets are IV || ciphertext with PKCS#7 padding, and carry an HMAC-SHA1
``ValueMAC`` over IV || ciphertext with a random MAC key that is itself encrypted under the
encryption key (§6.1.1).  Randomness is a parameter, so tests can pin the output.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from securelogin.adapters.pskc import (
    DS_NS,
    HMAC_SHA1_URI,
    PBKDF2_URI,
    PKCS5_NS,
    PSKC_NS,
    XENC11_NS,
    XENC_NS,
    PskcError,
    PskcKey,
)

_CIPHER_URIS = {16: f"{XENC_NS}aes128-cbc", 24: f"{XENC_NS}aes192-cbc", 32: f"{XENC_NS}aes256-cbc"}
_MAC_KEY_BYTES = 20  # HMAC-SHA1 key, as in RFC 6030 figures 6 and 7
_SALT_BYTES = 16
_BLOCK = 16


@dataclass(frozen=True, kw_only=True)
class _Box:
    """Encrypts and MACs values under one container key (RFC 6030 §6.1)."""

    key: bytes
    mac_key: bytes
    rng: Callable[[int], bytes]

    @property
    def cipher_uri(self) -> str:
        return _CIPHER_URIS[len(self.key)]

    def encrypt(self, plaintext: bytes) -> bytes:
        padder = padding.PKCS7(8 * _BLOCK).padder()
        padded = padder.update(plaintext) + padder.finalize()
        iv = _random(self.rng, _BLOCK)
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(padded) + encryptor.finalize()

    def mac(self, blob: bytes) -> bytes:
        return hmac.new(self.mac_key, blob, "sha1").digest()


def write_pskc(
    keys: Sequence[PskcKey],
    *,
    password: str | None = None,
    preshared_key: bytes | None = None,
    iterations: int = 10000,
    rng: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """Serialise ``keys`` as an RFC 6030 document (UTF-8, with an XML declaration)."""
    if not keys:
        raise PskcError("PSKC: there are no keys to write")
    if password is not None and preshared_key is not None:
        raise PskcError("PSKC: protect a file with a password or a pre-shared key, not both")
    root = Element(
        "pskc:KeyContainer",
        {
            "xmlns:pskc": PSKC_NS,
            "xmlns:ds": DS_NS,
            "xmlns:xenc": XENC_NS,
            "xmlns:xenc11": XENC11_NS,
            "xmlns:pkcs5": PKCS5_NS,
            "Version": "1.0",
        },
    )
    box = None
    if password is not None:
        box = _password_box(root, password, iterations, rng)
    elif preshared_key is not None:
        box = _preshared_box(root, preshared_key, rng)
    for key in keys:
        _key_package(root, key, box)
    indent(root)
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _random(rng: Callable[[int], bytes], size: int) -> bytes:
    value = rng(size)
    if len(value) != size:
        raise PskcError(f"PSKC: the random source gave {len(value)} bytes, not {size}")
    return value


def _password_box(
    root: Element, password: str, iterations: int, rng: Callable[[int], bytes]
) -> _Box:
    """RFC 6030 §6.2 (figure 7): ``xenc11:DerivedKey`` with PBKDF2 parameters."""
    if not password:
        raise PskcError("PSKC: the password is empty")
    if iterations < 1:
        raise PskcError(f"PSKC: PBKDF2 needs at least one iteration, not {iterations}")
    salt = _random(rng, _SALT_BYTES)
    key_length = 16
    derived = SubElement(SubElement(root, "pskc:EncryptionKey"), "xenc11:DerivedKey")
    method = SubElement(derived, "xenc11:KeyDerivationMethod", Algorithm=PBKDF2_URI)
    params = SubElement(method, "pkcs5:PBKDF2-params")
    SubElement(SubElement(params, "Salt"), "Specified").text = _b64(salt)
    SubElement(params, "IterationCount").text = str(iterations)
    SubElement(params, "KeyLength").text = str(key_length)
    SubElement(params, "PRF")  # empty: the default, HMAC-SHA1
    # HMAC-SHA1 as the PBKDF2 PRF is figure 7's default that every PSKC reader knows; SHA-1
    # collisions do not weaken HMAC-SHA1 as a PRF.
    prf = hashes.SHA1()  # noqa: S303 -- see the comment above
    kdf = PBKDF2HMAC(algorithm=prf, length=key_length, salt=salt, iterations=iterations)
    return _with_mac_key(root, kdf.derive(password.encode("utf-8")), rng)


def _preshared_box(root: Element, key: bytes, rng: Callable[[int], bytes]) -> _Box:
    """RFC 6030 §6.1 (figure 6): a pre-shared AES key named by ``ds:KeyName``."""
    if len(key) not in _CIPHER_URIS:
        raise PskcError(f"PSKC: a pre-shared AES key has 16, 24 or 32 bytes, not {len(key)}")
    SubElement(SubElement(root, "pskc:EncryptionKey"), "ds:KeyName").text = "Pre-shared-key"
    return _with_mac_key(root, key, rng)


def _with_mac_key(root: Element, key: bytes, rng: Callable[[int], bytes]) -> _Box:
    """``MACMethod`` HMAC-SHA1 with a fresh MAC key, encrypted under ``key`` (§6.1.1)."""
    box = _Box(key=key, mac_key=_random(rng, _MAC_KEY_BYTES), rng=rng)
    method = SubElement(root, "pskc:MACMethod", Algorithm=HMAC_SHA1_URI)
    _encrypted_data(SubElement(method, "pskc:MACKey"), box, box.encrypt(box.mac_key))
    return box


def _encrypted_data(parent: Element, box: _Box, blob: bytes) -> None:
    SubElement(parent, "xenc:EncryptionMethod", Algorithm=box.cipher_uri)
    cipher_data = SubElement(parent, "xenc:CipherData")
    SubElement(cipher_data, "xenc:CipherValue").text = _b64(blob)


def _key_package(root: Element, key: PskcKey, box: _Box | None) -> None:
    """One ``KeyPackage`` in RFC 6030 §4 element order."""
    if not key.serial or not key.key_id or not key.algorithm or not key.secret:
        raise PskcError(f"PSKC: key {key.serial!r} needs a serial, Id, Algorithm and secret")
    package = SubElement(root, "pskc:KeyPackage")
    info = SubElement(package, "pskc:DeviceInfo")
    if key.manufacturer:
        SubElement(info, "pskc:Manufacturer").text = key.manufacturer
    SubElement(info, "pskc:SerialNo").text = key.serial
    element = SubElement(package, "pskc:Key", Id=key.key_id, Algorithm=key.algorithm)
    if key.issuer:
        SubElement(element, "pskc:Issuer").text = key.issuer
    if key.digits is not None:
        parameters = SubElement(element, "pskc:AlgorithmParameters")
        SubElement(parameters, "pskc:ResponseFormat", Length=str(key.digits), Encoding="DECIMAL")
    data = SubElement(element, "pskc:Data")
    secret = SubElement(data, "pskc:Secret")
    if box is None:
        SubElement(secret, "pskc:PlainValue").text = _b64(key.secret)
    else:
        blob = box.encrypt(key.secret)
        _encrypted_data(SubElement(secret, "pskc:EncryptedValue"), box, blob)
        SubElement(secret, "pskc:ValueMAC").text = _b64(box.mac(blob))
    for name, number in (("Counter", key.counter), ("TimeInterval", key.time_interval)):
        if number is not None:
            SubElement(SubElement(data, f"pskc:{name}"), "pskc:PlainValue").text = str(number)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
