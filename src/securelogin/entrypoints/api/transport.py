"""TLS behind a reverse proxy (SPEC §10.2; issue 12, finding 4; docs/deployment.md).

A plain ASGI middleware, outermost, so that every handler, cookie and audit record sees
the request as the client made it:

- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are honoured only when the peer is one of
  the trusted proxies (``SECURELOGIN_TRUSTED_PROXIES``, addresses or CIDRs; none by
  default): the scheme becomes the forwarded one and the client address the last one in
  the ``X-Forwarded-For`` chain that is not itself a trusted proxy.  From anyone else the
  headers are ignored, so a client cannot claim another address or HTTPS.
- Over HTTPS (direct, or said by a trusted proxy) every answer carries
  ``Strict-Transport-Security`` and every ``Set-Cookie`` is ``Secure``; in production
  cookies are ``Secure`` always.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
SECURE_SCHEMES = frozenset({"https", "wss"})

Network = IPv4Network | IPv6Network


def is_trusted(host: str, networks: Sequence[Network]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def forwarded_client(chain: str, networks: Sequence[Network]) -> str | None:
    """The client of an ``X-Forwarded-For`` chain: its last entry that is not a trusted
    proxy (the entries left of it could be anything the client sent)."""
    hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            return hop if _is_address(hop) else None
    return hops[0] if hops and _is_address(hops[0]) else None


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def secure_cookie(value: bytes) -> bytes:
    """A ``Set-Cookie`` value with the ``Secure`` attribute (added when missing)."""
    attributes = [part.strip().lower() for part in value.split(b";")[1:]]
    return value if b"secure" in attributes else value + b"; Secure"


def with_transport_headers(
    headers: Iterable[tuple[bytes, bytes]], *, https: bool, secure_cookies: bool
) -> list[tuple[bytes, bytes]]:
    """The answer's headers with HSTS (over HTTPS) and ``Secure`` cookies."""
    out = [
        (name, secure_cookie(value) if secure_cookies and name.lower() == b"set-cookie" else value)
        for name, value in headers
    ]
    if https and all(name.lower() != HSTS[0] for name, _ in out):
        out.append(HSTS)
    return out


class TransportSecurity:
    """See the module docstring; ``production`` marks every cookie ``Secure``."""

    def __init__(
        self, app: ASGIApp, *, trusted_proxies: Sequence[Network] = (), production: bool = False
    ) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = self._forwarded(scope)
        https = scope.get("scheme") in SECURE_SCHEMES
        secure_cookies = https or self.production

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = with_transport_headers(
                    message.get("headers", []), https=https, secure_cookies=secure_cookies
                )
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)

    def _forwarded(self, scope: Scope) -> Scope:
        peer = scope.get("client")
        if not self.trusted or not peer or not is_trusted(str(peer[0]), self.trusted):
            return scope
        headers = Headers(scope=scope)
        scope = dict(scope)
        proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto
        client = forwarded_client(headers.get("x-forwarded-for", ""), self.trusted)
        if client is not None:
            scope["client"] = (client, 0)
        return scope
