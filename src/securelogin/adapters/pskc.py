"""RFC 6030 PSKC reader: the manufacturer's seed files for hardware devices (SPEC §2, R-OPS-3).

A PSKC file is untrusted input.  It is parsed with ``defusedxml`` with DTDs, entities and
external references forbidden (no "billion laughs", no XXE), and every value is checked.

Secrets may be in plain text (``<PlainValue>``, base64) or encrypted (RFC 6030 §6.1):
xmlenc AES-CBC with the IV prefixed to the ciphertext, or AES key wrap (RFC 3394/5649),
under either a pre-shared key (``EncryptionKey/ds:KeyName``, or an empty
``EncryptionKey``, §6.1) or a key derived from a password with PBKDF2
(``EncryptionKey/xenc11:DerivedKey``, §6.2).  CBC has no integrity, so RFC 6030 §6.1.1
requires a ``ValueMAC`` over IV + ciphertext with the ``MACMethod`` key (itself encrypted
with the encryption key); it is checked in constant time *before* decrypting, and a CBC
value without one is refused (key wrap carries its own integrity check).

Tools spell the same algorithm several ways: PBKDF2 as the PKCS #5 v2.0 URI of RFC 6030 or
the xmlenc11 one, its ``PBKDF2-params`` in the ``pkcs5`` or the ``xenc11`` namespace, its
PRF as an ``Algorithm`` attribute or as text (python-pskc), ciphers and MACs under the
xmlenc, xmlenc11, xmldsig or xmldsig-more namespaces and with older names
(``hmac-sha-256``, ``kw-aes128-pad``).  :func:`algorithm_name` reduces a URI to one name.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as defused_et  # type: ignore[import-untyped]  # no stubs shipped
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
)
from defusedxml import DefusedXmlException

PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
XENC11_NS = "http://www.w3.org/2009/xmlenc11#"
PKCS5_NS = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
DSMORE_NS = "http://www.w3.org/2001/04/xmldsig-more#"
PBKDF2_URI = f"{PKCS5_NS}pbkdf2"
HMAC_SHA1_URI = f"{DS_NS}hmac-sha1"

_NS = {"p": PSKC_NS, "ds": DS_NS, "xenc": XENC_NS, "xenc11": XENC11_NS, "pkcs5": PKCS5_NS}
#: the namespaces an algorithm URI may live in, whatever the tool (see the module docstring)
ALGORITHM_NAMESPACES = frozenset({XENC_NS, XENC11_NS, DS_NS, DSMORE_NS, PKCS5_NS})
#: older names of the same algorithm, as python-pskc's ``algorithms.py`` lists them
_ALIASES = {
    "hmac-sha-1": "hmac-sha1",
    "hmac-sha-224": "hmac-sha224",
    "hmac-sha-256": "hmac-sha256",
    "hmac-sha-384": "hmac-sha384",
    "hmac-sha-512": "hmac-sha512",
    "pbe-aes128-cbc": "aes128-cbc",
    "pbe-aes192-cbc": "aes192-cbc",
    "pbe-aes256-cbc": "aes256-cbc",
    "kw-aes128-pad": "kw-aes-128-pad",
    "kw-aes192-pad": "kw-aes-192-pad",
    "kw-aes256-pad": "kw-aes-256-pad",
}
CIPHER_KEY_SIZES = {"aes128-cbc": 16, "aes192-cbc": 24, "aes256-cbc": 32}
KEY_WRAP_SIZES = {
    "kw-aes128": 16,
    "kw-aes192": 24,
    "kw-aes256": 32,
    "kw-aes-128-pad": 16,
    "kw-aes-192-pad": 24,
    "kw-aes-256-pad": 32,
}
MAC_ALGORITHMS = {
    "hmac-sha1": "sha1",
    "hmac-sha224": "sha224",
    "hmac-sha256": "sha256",
    "hmac-sha384": "sha384",
    "hmac-sha512": "sha512",
}
_PRF_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "hmac-sha1": hashes.SHA1,
    "hmac-sha224": hashes.SHA224,
    "hmac-sha256": hashes.SHA256,
    "hmac-sha384": hashes.SHA384,
    "hmac-sha512": hashes.SHA512,
}
MAX_PBKDF2_ITERATIONS = 10_000_000  # a hostile file must not pin a CPU for hours
_BLOCK = 16


class PskcError(ValueError):
    """A PSKC file is malformed, unsupported, or does not decrypt or verify."""


class PskcKeyError(PskcError):
    """The file's password or pre-shared key is missing, or does not open the file."""


def algorithm_name(uri: str | None) -> str | None:
    """The one name of an xmlenc/xmldsig/PKCS #5 algorithm URI (``aes128-cbc``,
    ``hmac-sha256``, ``pbkdf2`` …) whatever namespace or older spelling a tool used;
    None for an empty URI or one outside those namespaces."""
    namespace, hash_sign, fragment = (uri or "").strip().rpartition("#")
    if not hash_sign or f"{namespace}#" not in ALGORITHM_NAMESPACES:
        return None
    name = fragment.lower()
    return _ALIASES.get(name, name)


@dataclass(frozen=True, kw_only=True)
class PskcKey:
    """One key of a PSKC ``KeyPackage`` (RFC 6030 §4), secret decrypted."""

    serial: str  # DeviceInfo/SerialNo
    secret: bytes
    algorithm: str  # Key/@Algorithm URI, e.g. urn:ietf:params:xml:ns:keyprov:pskc:totp
    digits: int | None = None  # AlgorithmParameters/ResponseFormat/@Length
    counter: int | None = None  # Data/Counter
    time_interval: int | None = None  # Data/TimeInterval, seconds
    manufacturer: str | None = None  # DeviceInfo/Manufacturer
    issuer: str | None = None  # Key/Issuer
    key_id: str  # Key/@Id


@dataclass(frozen=True, kw_only=True)
class _Protection:
    """The container-wide encryption key and MAC key, if the file is encrypted."""

    key: bytes | None = None
    mac_algorithm: str | None = None
    mac_key: bytes | None = None


def read_pskc(
    data: bytes, *, password: str | None = None, preshared_key: bytes | None = None
) -> list[PskcKey]:
    """Read every key of an RFC 6030 ``KeyContainer``; raise ``PskcError`` on any fault."""
    root = _parse(data)
    protection = _protection(root, password=password, preshared_key=preshared_key)
    packages = root.findall("p:KeyPackage", _NS)
    if not packages:
        raise PskcError("PSKC: the container holds no key packages")
    return [_read_package(package, index, protection) for index, package in enumerate(packages, 1)]


def _parse(data: bytes) -> Element:
    try:
        root: Element = defused_et.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise PskcError(f"PSKC: refused unsafe XML ({type(exc).__name__})") from None
    except defused_et.ParseError as exc:
        raise PskcError(f"PSKC: not well-formed XML ({exc})") from None
    if root.tag != f"{{{PSKC_NS}}}KeyContainer":
        raise PskcError("PSKC: the document is not an RFC 6030 KeyContainer")
    if root.get("Version") != "1.0":
        raise PskcError(f"PSKC: unsupported KeyContainer version {root.get('Version')!r}")
    return root


def _protection(root: Element, *, password: str | None, preshared_key: bytes | None) -> _Protection:
    """RFC 6030 §6.1/§6.2: the encryption key, then the MAC key it protects."""
    encryption = root.find("p:EncryptionKey", _NS)
    if encryption is None:
        key = None
    elif encryption.find("ds:KeyName", _NS) is not None or len(encryption) == 0:
        if preshared_key is None:
            raise PskcKeyError("PSKC: the file is encrypted with a pre-shared key; none was given")
        key = preshared_key
    elif (derived := encryption.find("xenc11:DerivedKey", _NS)) is not None:
        if password is None:
            raise PskcKeyError("PSKC: the file is encrypted with a password; none was given")
        key = _derive_key(derived, password)
    else:
        raise PskcError("PSKC: unsupported EncryptionKey (need ds:KeyName or xenc11:DerivedKey)")
    method = root.find("p:MACMethod", _NS)
    if method is None or not method.get("Algorithm"):  # python-pskc with key wrap: no MAC
        return _Protection(key=key)
    uri = method.get("Algorithm", "")
    name = algorithm_name(uri)
    if name not in MAC_ALGORITHMS:
        raise PskcError(f"PSKC: unsupported MAC algorithm {uri!r}")
    mac_key = method.find("p:MACKey", _NS)
    if mac_key is None or key is None:
        raise PskcError("PSKC: MACMethod needs a MACKey encrypted with the encryption key")
    return _Protection(
        key=key, mac_algorithm=MAC_ALGORITHMS[name], mac_key=_decrypt(mac_key, key, "MAC key")
    )


def _derive_key(derived: Element, password: str) -> bytes:
    """RFC 6030 §6.2: PBKDF2 (RFC 8018) with the salt, iterations and length of the file."""
    method = derived.find("xenc11:KeyDerivationMethod", _NS)
    uri = None if method is None else method.get("Algorithm")
    if method is None or algorithm_name(uri) != "pbkdf2":
        raise PskcError(f"PSKC: unsupported key derivation {uri!r} (need PBKDF2)")
    params = method.find("pkcs5:PBKDF2-params", _NS)
    if params is None:  # xmlenc11 §5.4.2 and python-pskc put the parameters there
        params = method.find("xenc11:PBKDF2-params", _NS)
    if params is None:
        raise PskcError("PSKC: PBKDF2 without PBKDF2-params (salt, iterations, key length)")
    salt = _b64(params.findtext("{*}Salt/{*}Specified"), "PBKDF2 salt")
    iterations = _integer(params.findtext("{*}IterationCount"), "PBKDF2 IterationCount")
    length = _integer(params.findtext("{*}KeyLength"), "PBKDF2 KeyLength")
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise PskcError(f"PSKC: refusing {iterations} PBKDF2 iterations")
    if length not in CIPHER_KEY_SIZES.values():
        raise PskcError(f"PSKC: PBKDF2 KeyLength {length} is not an AES key size")
    prf = params.find("{*}PRF")
    prf_uri = "" if prf is None else (prf.get("Algorithm") or prf.text or "").strip()
    prf_hash = _PRF_HASHES.get((algorithm_name(prf_uri) or "") if prf_uri else "hmac-sha1")
    if prf_hash is None:
        raise PskcError(f"PSKC: unsupported PBKDF2 PRF {prf_uri!r}")
    kdf = PBKDF2HMAC(algorithm=prf_hash(), length=length, salt=salt, iterations=iterations)
    return kdf.derive(password.encode("utf-8"))


def _cipher_name(encrypted: Element) -> str:
    method = encrypted.find("xenc:EncryptionMethod", _NS)
    uri = None if method is None else method.get("Algorithm")
    name = algorithm_name(uri)
    if name not in CIPHER_KEY_SIZES and name not in KEY_WRAP_SIZES:
        raise PskcError(f"PSKC: unsupported encryption algorithm {uri!r}")
    return name


def _decrypt(encrypted: Element, key: bytes, what: str) -> bytes:
    """xmlenc AES-CBC: IV || ciphertext, xmlenc padding (last octet = pad length); or AES
    key wrap (RFC 3394, with padding RFC 5649), which checks its own integrity."""
    name = _cipher_name(encrypted)
    size = CIPHER_KEY_SIZES.get(name) or KEY_WRAP_SIZES[name]
    if len(key) != size:
        raise PskcError(f"PSKC: {name} needs a {size}-byte key, not {len(key)} bytes")
    if name in KEY_WRAP_SIZES:
        return _unwrap(encrypted, key, name, what)
    blob = _cipher_value(encrypted, what)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(blob[:_BLOCK])).decryptor()
    padded = decryptor.update(blob[_BLOCK:]) + decryptor.finalize()
    if not 1 <= padded[-1] <= _BLOCK:
        raise PskcKeyError(f"PSKC: wrong password or pre-shared key (the {what} does not decrypt)")
    return padded[: -padded[-1]]


def _unwrap(encrypted: Element, key: bytes, name: str, what: str) -> bytes:
    blob = _b64(encrypted.findtext("xenc:CipherData/xenc:CipherValue", namespaces=_NS), what)
    # ``kw-aes128`` of a value that is not whole 8-byte blocks is padded as RFC 5649 says
    # (python-pskc does so); the IV of each RFC tells them apart, so trying both is safe
    if not name.endswith("-pad"):
        try:
            return aes_key_unwrap(key, blob)
        except (InvalidUnwrap, ValueError):
            pass
    try:
        return aes_key_unwrap_with_padding(key, blob)
    except (InvalidUnwrap, ValueError):
        raise PskcKeyError(
            f"PSKC: wrong password or pre-shared key (the {what} does not unwrap)"
        ) from None


def _cipher_value(encrypted: Element, what: str) -> bytes:
    blob = _b64(encrypted.findtext("xenc:CipherData/xenc:CipherValue", namespaces=_NS), what)
    if len(blob) < 2 * _BLOCK or len(blob) % _BLOCK:
        raise PskcError(f"PSKC: the {what} is not an IV followed by whole AES blocks")
    return blob


def _read_package(package: Element, index: int, protection: _Protection) -> PskcKey:
    serial = (package.findtext("p:DeviceInfo/p:SerialNo", namespaces=_NS) or "").strip()
    if not serial:
        raise PskcError(f"PSKC: key package {index} has no serial number")
    key = package.find("p:Key", _NS)
    if key is None:
        raise PskcError(f"PSKC: key package {index} ({serial!r}) has no Key")
    algorithm, key_id = key.get("Algorithm"), key.get("Id")
    if not algorithm or not key_id:
        raise PskcError(f"PSKC: key {serial!r} needs both an Id and an Algorithm")
    data = key.find("p:Data", _NS)
    secret = _value(data, "Secret", serial, protection)
    if secret is None:
        raise PskcError(f"PSKC: key {serial!r} has no secret")
    digits = key.find("p:AlgorithmParameters/p:ResponseFormat", _NS)
    return PskcKey(
        serial=serial,
        secret=_b64(secret, f"secret of {serial!r}") if isinstance(secret, str) else secret,
        algorithm=algorithm,
        digits=None if digits is None else _integer(digits.get("Length"), "ResponseFormat"),
        counter=_integer_value(_value(data, "Counter", serial, protection), "Counter"),
        time_interval=_integer_value(_value(data, "TimeInterval", serial, protection), "Time"),
        manufacturer=_stripped(package.findtext("p:DeviceInfo/p:Manufacturer", namespaces=_NS)),
        issuer=_stripped(key.findtext("p:Issuer", namespaces=_NS)),
        key_id=key_id,
    )


def _value(
    data: Element | None, name: str, serial: str, protection: _Protection
) -> str | bytes | None:
    """A Data field: its PlainValue text, or its EncryptedValue checked and decrypted."""
    field = None if data is None else data.find(f"p:{name}", _NS)
    if field is None:
        return None
    plain = field.findtext("p:PlainValue", namespaces=_NS)
    encrypted = field.find("p:EncryptedValue", _NS)
    if encrypted is None:
        return plain
    if protection.key is None:
        raise PskcError(f"PSKC: key {serial!r} is encrypted but the file has no EncryptionKey")
    if _cipher_name(encrypted) in KEY_WRAP_SIZES and field.find("p:ValueMAC", _NS) is None:
        return _decrypt(encrypted, protection.key, f"{name} of {serial!r}")
    if protection.mac_key is None or protection.mac_algorithm is None:
        raise PskcError(f"PSKC: encrypted {name} of key {serial!r} has no MAC (RFC 6030 §6.1.1)")
    value_mac = _b64(field.findtext("p:ValueMAC", namespaces=_NS), f"ValueMAC of {serial!r}")
    blob = _cipher_value(encrypted, f"{name} of {serial!r}")
    expected = hmac.new(protection.mac_key, blob, protection.mac_algorithm).digest()
    if not hmac.compare_digest(expected, value_mac):
        raise PskcKeyError(f"PSKC: wrong password or corrupted MAC for key {serial!r}")
    return _decrypt(encrypted, protection.key, f"{name} of {serial!r}")


def _b64(text: str | None, what: str) -> bytes:
    try:
        decoded = base64.b64decode("".join((text or "").split()), validate=True)
    except binascii.Error:
        raise PskcError(f"PSKC: the {what} is not valid base64") from None
    if not decoded:
        raise PskcError(f"PSKC: the {what} is missing or empty")
    return decoded


def _integer(text: str | None, what: str) -> int:
    try:
        value = int((text or "").strip())
    except ValueError:
        raise PskcError(f"PSKC: {what} {text!r} is not an integer") from None
    if value < 0:
        raise PskcError(f"PSKC: {what} {value} is negative")
    return value


def _integer_value(value: str | bytes | None, what: str) -> int | None:
    """A PSKC integer: decimal text in a PlainValue, big-endian bytes when encrypted."""
    if value is None:
        return None
    return _integer(value, what) if isinstance(value, str) else int.from_bytes(value, "big")


def _stripped(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None
