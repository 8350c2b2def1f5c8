"""SMS gateways (SPEC §8 "Channels"): the development outbox, a generic HTTP gateway, Twilio.

Every gateway raises ``DeliveryFailed`` when a message did not go out, with
``retryable`` saying whether trying again later can help (R-OPS-5):

- 2xx: sent;
- 408, 429, 5xx, timeouts, refused connections: retryable;
- any other answer (4xx, an unexpected redirect): refused for good.

Error messages name the gateway and its answer, never the text sent (it carries codes).
The HTTP gateways take an ``httpx.Client`` so that tests inject ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import httpx

from securelogin.errors import DeliveryFailed

TWILIO_API = "https://api.twilio.com/2010-04-01"
#: statuses below 500 that still mean "try again later"
RETRYABLE_4XX = frozenset({408, 425, 429})
DEFAULT_TIMEOUT = 10.0


class DevOutboxSms:
    """The development gateway: the outbox row is the delivery, read by a person with
    ``securelogin admin outbox``; its text is kept."""

    keeps_text = True

    def send(self, *, to: str, text: str) -> None:
        """Nothing leaves the machine."""


class HttpSmsGateway:
    """POSTs ``{"to": …, "text": …}`` as JSON to ``url``, with an optional bearer token."""

    keeps_text = False

    def __init__(
        self,
        client: httpx.Client,
        *,
        url: str,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.client = client
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, *, to: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = _post(
            "SMS gateway",
            lambda: self.client.post(
                self.url, json={"to": to, "text": text}, headers=headers, timeout=self.timeout
            ),
        )
        _check("SMS gateway", response, _json_message(response, "message", "error"))


class TwilioSms:
    """Twilio's Messages API: form ``To``, ``From``, ``Body``; basic auth ``sid:token``."""

    keeps_text = False

    def __init__(
        self,
        client: httpx.Client,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        timeout: float = DEFAULT_TIMEOUT,
        api: str = TWILIO_API,
    ) -> None:
        self.client = client
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.timeout = timeout
        self.url = f"{api}/Accounts/{account_sid}/Messages.json"

    def send(self, *, to: str, text: str) -> None:
        form = {"To": to, "From": self.from_number, "Body": text}
        response = _post(
            "Twilio",
            lambda: self.client.post(
                self.url,
                data=form,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
            ),
        )
        _check("Twilio", response, _json_message(response, "message"))


def _post(name: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Run one request; transport trouble (timeouts, refused connections) is retryable."""
    try:
        return call()
    except httpx.TimeoutException:
        raise DeliveryFailed(f"{name}: timed out", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryFailed(f"{name}: {type(exc).__name__}: {exc}", retryable=True) from None


def _check(name: str, response: httpx.Response, detail: str | None) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in RETRYABLE_4XX
    reason = detail or response.reason_phrase or "no reason given"
    raise DeliveryFailed(f"{name} answered {status}: {reason}", retryable=retryable)


def _json_message(response: httpx.Response, *fields: str) -> str | None:
    """A short human reason from a JSON error body, when there is one."""
    if response.is_success:
        return None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(body, Mapping):
        return None
    for field in fields:
        value = body.get(field)
        if isinstance(value, str) and value:
            return value[:200]
    return None
