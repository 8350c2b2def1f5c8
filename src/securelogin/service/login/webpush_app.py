"""What a web app needs to subscribe to Web Push: the server's VAPID public key
(RFC 8292 ``applicationServerKey``), when Web Push is configured (docs/mobile-key-app.md).

The subscription itself travels in the activation's ``push`` field
(docs/mobile-key-protocol.md); nothing here changes the protocol.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from securelogin.service.context import Services


@runtime_checkable
class HasApplicationServerKey(Protocol):
    """A Web Push provider that tells its VAPID public key (base64url, uncompressed)."""

    application_server_key: str


def application_server_key(services: Services) -> str | None:
    """The VAPID public key of the configured Web Push provider; None without one."""
    providers = services.mobile.providers if services.mobile is not None else {}
    provider = providers.get("webpush")
    if not isinstance(provider, HasApplicationServerKey):
        return None
    return provider.application_server_key
