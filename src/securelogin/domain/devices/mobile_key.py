"""The mobile key (our IB Key, SPEC §2, R-KEY-4/5): a push with number matching, and an
offline OCRA fallback (suite ``OCRA-1:HOTP-SHA256-8:QN06``).

The push itself is answered through its own signed call (service.ceremony.push); what comes in
through the ordinary ``/answer`` is the fallback's 8-digit response, checked like any
OCRA card.  The recovery PIN rule of R-KEY-2 is here too, and what a Web Push
subscription must look like to be kept as an app's wake-up target.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from securelogin.domain.devices.base import (
    Binding,
    DeviceView,
    Draw,
    Issued,
    Keys,
    Prompt,
    PromptType,
    Verified,
)
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.challenges import OcraKind
from securelogin.domain.push import draw_number

#: R-KEY-2: 4-6 characters; letters, digits and printable special characters
RECOVERY_PIN_RE = re.compile(r"^[\x21-\x7e]{4,6}$")


@dataclass(frozen=True)
class MobileKeyKind:
    """``challenge`` asks for a push (the number to match); ``fallback`` asks for the
    offline response; ``verify`` checks that response."""

    suite: str
    kind: DeviceKind = DeviceKind.MOBILE_KEY

    @property
    def offline(self) -> OcraKind:
        return OcraKind(self.kind, self.suite)

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        prompt = Prompt(
            type=PromptType.PUSH,
            number=draw_number(draw),
            amount=binding.amount if binding else None,
            destination=binding.destination if binding else None,
        )
        return Issued(prompt=prompt)

    def fallback(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        return self.offline.challenge(device, draw=draw, binding=binding)

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        return self.offline.verify(
            device, keys, expected_value=expected_value, response=response, at=at
        )


def check_recovery_pin(pin: str, *, forbidden: Iterable[str]) -> str:
    """R-KEY-2; ``forbidden`` holds the user's birth date, phone number and ID numbers
    (compared without separators; a PIN that is part of one of them is refused too)."""
    if not RECOVERY_PIN_RE.fullmatch(pin):
        raise ValueError("must be 4-6 letters, digits or special characters")
    bare = re.sub(r"[\s\-./+]", "", pin).upper()
    for value in forbidden:
        plain = re.sub(r"[\s\-./+]", "", value).upper()
        if plain and bare and (bare == plain or (len(bare) >= 4 and bare in plain)):
            raise ValueError("must not be your birth date, phone number or ID number")
    return pin


#: calling codes of the countries the activation screen offers most (E.164); a number
#: added "with its country" must start with that country's code when it is listed here
CALLING_CODES = {
    "US": "+1",
    "CA": "+1",
    "GB": "+44",
    "DE": "+49",
    "FR": "+33",
    "CH": "+41",
    "IE": "+353",
    "NL": "+31",
    "CN": "+86",
    "HK": "+852",
    "JP": "+81",
    "SG": "+65",
    "IN": "+91",
    "AU": "+61",
}


def check_phone_country(phone: str, country: str) -> str:
    """R-KEY-1 "add one with its country": the number must belong to that country."""
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError("country must be a two-letter ISO 3166 code such as DE")
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", phone):
        raise ValueError("phone must be an E.164 number such as +4915112345678")
    prefix = CALLING_CODES.get(country)
    if prefix is not None and not phone.startswith(prefix):
        raise ValueError(f"a number in {country} starts with {prefix}")
    return phone


#: the longest Web Push endpoint URL kept (browsers' push services use ~200 characters)
MAX_ENDPOINT_LENGTH = 2000


def _b64url_bytes(value: object, size: int, name: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value):
        raise ValueError(f"keys.{name} must be base64url")
    bare = value.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"keys.{name} must be base64url") from None
    if len(raw) != size:
        raise ValueError(f"keys.{name} must be {size} bytes")
    return raw


def check_webpush_subscription(subscription: object, *, http_hosts: Collection[str] = ()) -> str:
    """A browser's ``PushSubscription.toJSON()`` (RFC 8030 endpoint, RFC 8291 keys) as the
    server keeps it: canonical JSON of ``{"endpoint", "keys": {"auth", "p256dh"}}``.

    The endpoint must be an https URL (plain http only for a ``host:port`` named in
    ``http_hosts`` — loopback push-service fakes of tests); ``p256dh`` is base64url of an
    uncompressed P-256 point (65 bytes, 0x04 first), ``auth`` of a 16-byte secret."""
    if not isinstance(subscription, Mapping):
        raise ValueError("subscription must be an object")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= MAX_ENDPOINT_LENGTH:
        raise ValueError("endpoint must be a URL")
    try:
        url = urlsplit(endpoint)
        url.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError("endpoint must be a URL") from None
    if (
        not url.hostname
        or url.username is not None
        or url.password is not None
        or any(c.isspace() for c in endpoint)
    ):
        raise ValueError("endpoint must be a URL with a host")
    if url.scheme != "https" and not (url.scheme == "http" and url.netloc in http_hosts):
        raise ValueError("endpoint must be an https URL")
    keys = subscription.get("keys")
    if not isinstance(keys, Mapping):
        raise ValueError("keys must hold p256dh and auth")
    point = _b64url_bytes(keys.get("p256dh"), 65, "p256dh")
    if point[0] != 0x04:
        raise ValueError("keys.p256dh must be an uncompressed P-256 point")
    _b64url_bytes(keys.get("auth"), 16, "auth")
    kept = {"endpoint": endpoint, "keys": {"auth": keys["auth"], "p256dh": keys["p256dh"]}}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"))
