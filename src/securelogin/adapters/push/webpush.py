"""Web Push (RFC 8030) with message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292)
through ``pywebpush``; the payload is only ``{"push_id": …}``."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.adapters.push.common import check
from securelogin.errors import DeliveryFailed

TTL_SECONDS = 180


class WebPushProvider:
    def __init__(self, *, vapid_private_key: str, subject: str, timeout: float = 10.0) -> None:
        """``vapid_private_key``: the application server's P-256 key, PEM (RFC 8292)."""
        key = serialization.load_pem_private_key(vapid_private_key.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the VAPID key must be an EC P-256 key")
        from py_vapid import Vapid  # type: ignore[import-untyped]  # imported when configured

        self.vapid = Vapid(key)
        self.subject = subject
        self.timeout = timeout
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        #: what a browser's ``pushManager.subscribe`` takes (RFC 8292 §3.2): base64url of
        #: the uncompressed P-256 point, no padding
        self.application_server_key = base64.urlsafe_b64encode(point).rstrip(b"=").decode()

    def send(self, *, target: str, push_id: str) -> None:
        from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

        try:
            subscription = json.loads(target)
        except json.JSONDecodeError:
            raise DeliveryFailed("Web Push: bad subscription", retryable=False) from None
        try:
            response = webpush(
                subscription_info=subscription,
                data=json.dumps({"push_id": push_id}),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=TTL_SECONDS,
                timeout=self.timeout,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else 503
            check("Web Push", status, str(exc)[:100])
            raise DeliveryFailed("Web Push failed", retryable=True) from None
        except Exception as exc:
            raise DeliveryFailed(f"Web Push: {type(exc).__name__}", retryable=True) from None
        status = getattr(response, "status_code", 201)
        check("Web Push", int(status), None)
