"""What the OpenID Connect endpoints share: the issuer as the client reached this server,
client credentials (RFC 6749 §2.3.1), no-store headers.  The services come in as
``ServicesDep`` (:mod:`securelogin.entrypoints.web.deps`), like the pages'."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import Form, Request

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
OAUTH_ERROR_SCHEMA = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                },
            }
        }
    }
}


FormText = Annotated[str | None, Form()]


def issuer_of(request: Request) -> str:
    """The issuer is this server's own URL as the client reached it (trusted proxies
    decide the scheme, :mod:`~securelogin.entrypoints.api.transport`)."""
    return str(request.base_url).rstrip("/")


def client_credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None]:
    """RFC 6749 §2.3.1: HTTP Basic (form-encoded parts) or the body's parameters."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return client_id, client_secret
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    name, _, secret = decoded.partition(":")
    return unquote_plus(name), unquote_plus(secret)
