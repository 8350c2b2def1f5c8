"""Back-Channel Logout 1.0 §2.5: the logout token POSTed form-encoded to a relying party."""

from __future__ import annotations

import httpx

from securelogin.errors import DeliveryFailed


class HttpBackchannel:
    """``transport``: tests pass an ``httpx.MockTransport`` (never the network)."""

    def __init__(self, *, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.timeout = timeout
        self.transport = transport

    def post(self, uri: str, *, logout_token: str) -> None:
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                answer = client.post(uri, data={"logout_token": logout_token})
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"back-channel logout to {uri}: {exc}", retryable=True) from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(
                f"back-channel logout to {uri}: HTTP {answer.status_code}",
                retryable=answer.status_code >= 500,
            )
