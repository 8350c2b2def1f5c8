"""Apple Push Notification service: HTTP/2 (httpx with ``h2``) with a provider token
(ES256 JWT from the team's .p8 key, reused for up to 50 minutes as Apple asks); a
background notification that carries only the push id."""

from __future__ import annotations

import threading
import time

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.adapters.push.common import jwt, send

APNS_API = "https://api.push.apple.com"
TOKEN_LIFETIME = 50 * 60


class ApnsProvider:
    def __init__(
        self,
        client: httpx.Client,
        *,
        key_pem: bytes,
        key_id: str,
        team_id: str,
        topic: str,
        api: str = APNS_API,
        timeout: float = 10.0,
    ) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the APNs key must be an EC P-256 key (.p8)")
        self.client = client
        self.key = key
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.api = api.rstrip("/")
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def provider_token(self) -> str:
        with self._lock:
            now = time.time()
            if self._token is None or now - self._token[1] > TOKEN_LIFETIME:
                token = jwt(
                    {"alg": "ES256", "kid": self.key_id},
                    {"iss": self.team_id, "iat": int(now)},
                    self.key,
                )
                self._token = (token, now)
            return self._token[0]

    def send(self, *, target: str, push_id: str) -> None:
        headers = {
            "authorization": f"bearer {self.provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "background",
            "apns-priority": "5",
        }
        body = {"aps": {"content-available": 1}, "push_id": push_id}
        send(
            "APNs",
            lambda: self.client.post(
                f"{self.api}/3/device/{target}", json=body, headers=headers, timeout=self.timeout
            ),
        )
