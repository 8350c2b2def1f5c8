"""Web Push for tests of the mobile key web app: a provider with a fresh VAPID key, and
services whose server offers it."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.adapters.push.webpush import WebPushProvider
from securelogin.adapters.security.ecdsa import EcdsaPushCrypto
from securelogin.service.context import Services
from securelogin.service.mobile_key_ports import MobileKeyPorts


def vapid_provider() -> tuple[WebPushProvider, bytes]:
    """A Web Push provider with a fresh VAPID key, and the key's uncompressed point."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return WebPushProvider(vapid_private_key=pem, subject="mailto:ops@example.com"), point


def with_webpush(services: Services, provider: WebPushProvider) -> Services:
    """``services`` whose server offers Web Push through ``provider``."""
    mobile = services.mobile or MobileKeyPorts(crypto=EcdsaPushCrypto(b"m" * 32))
    return replace(services, mobile=replace(mobile, providers={"webpush": provider}))
