"""What the push providers share: compact JWTs signed with ``cryptography`` and the
mapping of HTTP answers to ``DeliveryFailed`` (the SMS gateways' rule)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from securelogin.errors import DeliveryFailed

RETRYABLE_4XX = frozenset({408, 425, 429})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header: dict[str, object], claims: dict[str, object], key: object) -> str:
    """RFC 7519 compact JWT: ES256 (raw r||s, RFC 7518 §3.4) or RS256."""
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    ).encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise TypeError("an EC P-256 or RSA private key is needed")
    return signing_input.decode() + "." + b64url(signature)


def send(name: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Run one request; transport trouble is retryable; non-2xx answers raise."""
    try:
        response = call()
    except httpx.TimeoutException:
        raise DeliveryFailed(f"{name}: timed out", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryFailed(f"{name}: {type(exc).__name__}", retryable=True) from None
    check(name, response.status_code, response.reason_phrase)
    return response


def check(name: str, status: int, reason: str | None) -> None:
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in RETRYABLE_4XX
    raise DeliveryFailed(f"{name} answered {status}: {reason or 'no reason'}", retryable=retryable)
