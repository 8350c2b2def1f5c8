"""The cryptographic wire format of docs/mobile-key-protocol.md: canonical JSON,
base64url, request signatures (X-SL-*), push verification and signed push answers."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin_key.errors import PushSignatureInvalid, VaultTampered

OCRA_SUITE = "OCRA-1:HOTP-SHA256-8:QN06"


def canonical_json(obj: object) -> bytes:
    """What is signed: sorted keys, no spaces, UTF-8 (protocol § Cryptography)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """base64url of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64url(der)


def private_key_to_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_der(der: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise VaultTampered("the vault holds no P-256 key")
    return key


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(unb64url(text))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an EC public key")
    return key


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    """base64url of the DER ECDSA P-256/SHA-256 signature."""
    return b64url(key.sign(message, ec.ECDSA(hashes.SHA256())))


def signed_string(method: str, path_with_query: str, timestamp: int, body: bytes) -> bytes:
    """METHOD \\n PATH_WITH_QUERY \\n X-SL-Time \\n hex(sha256(body))."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path_with_query}\n{timestamp}\n{digest}".encode()


def request_headers(
    key: ec.EllipticCurvePrivateKey,
    *,
    app_id: str,
    method: str,
    path_with_query: str,
    timestamp: int,
    body: bytes,
) -> dict[str, str]:
    """The three headers every call after activation carries."""
    message = signed_string(method, path_with_query, timestamp, body)
    return {
        "X-SL-App": app_id,
        "X-SL-Time": str(timestamp),
        "X-SL-Signature": sign(key, message),
    }


def verify_push(push: Mapping[str, Any], *, expected_server_key: str) -> None:
    """Raise unless ``signature`` is the server's ECDSA over the push without it."""
    push_id = str(push.get("push_id", "?"))
    signature = push.get("signature")
    if not isinstance(signature, str):
        raise PushSignatureInvalid(push_id)
    unsigned = {k: v for k, v in push.items() if k != "signature"}
    try:
        load_public_key(expected_server_key).verify(
            unb64url(signature), canonical_json(unsigned), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError) as exc:
        raise PushSignatureInvalid(push_id) from exc


def push_request_hash(push: Mapping[str, Any]) -> str:
    """hex(sha256(canonical JSON of the push as received, signature included))."""
    return hashlib.sha256(canonical_json(dict(push))).hexdigest()


def push_answer(
    key: ec.EllipticCurvePrivateKey,
    push: Mapping[str, Any],
    *,
    decision: str,
    number: str | None,
    not_me: bool,
) -> dict[str, Any]:
    """The body of POST /key/pushes/{id}/answer, signed by the app's key."""
    signed = {
        "push_id": push["push_id"],
        "request": push_request_hash(push),
        "decision": decision,
        "number": number,
        "not_me": not_me,
    }
    return {
        "decision": decision,
        "number": number,
        "not_me": not_me,
        "signature": sign(key, canonical_json(signed)),
    }
