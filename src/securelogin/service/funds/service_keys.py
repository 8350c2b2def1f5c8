"""API keys of other systems (R-RESTRICT-1: "the trading platform asks…").

A key is 256 random bits, shown once when created and stored only as its SHA-256 (there
is nothing to brute-force in 256 bits, so a slow hash would add nothing).  Lookups go by
the hash, an equality on a unique index: no secret is compared in Python.
"""

from __future__ import annotations

import base64
import hashlib
import re

from securelogin.domain.audit import AuditEvent
from securelogin.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from securelogin.service.context import Services

KEY_PREFIX = "slk_"  # the public prefix of service keys
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_service_key(services: Services, name: str, *, actor: str = "admin") -> str:
    """A new key for the system ``name``; the only time the key is visible."""
    name = name.strip().lower()
    if not NAME_RE.match(name):
        raise InvalidInput(
            "name must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
            field="name",
        )
    raw = base64.urlsafe_b64encode(services.random.token_bytes(32)).decode().rstrip("=")
    key = KEY_PREFIX + raw
    with services.uow() as uow:
        if not uow.service_keys.add(name=name, key_hash=key_hash(key), now=services.clock.now()):
            raise Conflict(f"a service key named {name!r} exists already")
        uow.audit.record(AuditEvent(action="service_key.created", actor=actor, subject=name))
        uow.commit()
    return key


def revoke_service_key(services: Services, name: str, *, actor: str = "admin") -> None:
    with services.uow() as uow:
        if not uow.service_keys.revoke(name.strip().lower(), now=services.clock.now()):
            raise NotFound(f"no active service key named {name!r}")
        uow.audit.record(AuditEvent(action="service_key.revoked", actor=actor, subject=name))
        uow.commit()


def is_service_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def authenticate_service(services: Services, token: str) -> str:
    """The name of the system holding ``token``; ``Unauthenticated`` otherwise."""
    with services.uow() as uow:
        name = uow.service_keys.name_of(key_hash(token))
    if name is None:
        raise Unauthenticated("Unknown or revoked service key")
    return name
