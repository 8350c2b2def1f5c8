"""Firebase Cloud Messaging HTTP v1: an OAuth2 service-account token (RFC 7523 JWT
bearer grant, RS256), then ``POST /v1/projects/{project}/messages:send`` with a data
message that carries only the push id."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import httpx
from cryptography.hazmat.primitives import serialization

from securelogin.adapters.push.common import jwt, send
from securelogin.errors import DeliveryFailed

FCM_API = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FcmProvider:
    def __init__(
        self,
        client: httpx.Client,
        *,
        credentials: Mapping[str, str],
        project_id: str | None = None,
        api: str = FCM_API,
        timeout: float = 10.0,
    ) -> None:
        """``credentials`` is the service-account JSON (client_email, private_key,
        token_uri, project_id)."""
        self.client = client
        self.email = credentials["client_email"]
        self.token_uri = credentials["token_uri"]
        self.project = project_id or credentials["project_id"]
        self.key = serialization.load_pem_private_key(
            credentials["private_key"].encode(), password=None
        )
        self.api = api.rstrip("/")
        self.timeout = timeout
        self._token: tuple[str, float] | None = None  # a cache only: refetched when gone
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            now = time.time()
            if self._token is not None and self._token[1] > now + 60:
                return self._token[0]
            claims = {"iss": self.email, "scope": SCOPE, "aud": self.token_uri}
            assertion = jwt(
                {"alg": "RS256", "typ": "JWT"},
                claims | {"iat": int(now), "exp": int(now) + 3600},
                self.key,
            )
            answer = send(
                "FCM OAuth",
                lambda: self.client.post(
                    self.token_uri,
                    data={"grant_type": GRANT, "assertion": assertion},
                    timeout=self.timeout,
                ),
            )
            body = answer.json()
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str):
                raise DeliveryFailed("FCM OAuth: no access_token", retryable=True)
            self._token = (token, now + float(body.get("expires_in", 3600)))
            return token

    def send(self, *, target: str, push_id: str) -> None:
        token = self.access_token()
        message = {"message": {"token": target, "data": {"push_id": push_id}}}
        response = send(
            "FCM",
            lambda: self.client.post(
                f"{self.api}/v1/projects/{self.project}/messages:send",
                json=message,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            ),
        )
        if response.status_code == 401:  # pragma: no cover - handled by check()
            self._token = None
