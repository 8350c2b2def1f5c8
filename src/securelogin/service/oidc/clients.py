"""Relying parties (issue 16 §1, SPEC §10.2a ``admin oidc-client``): registered with exact
redirect URIs; a confidential client's secret is shown once and stored as its SHA-256
(256 random bits: nothing to brute-force), compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from securelogin.domain.audit import AuditEvent
from securelogin.errors import ConfigurationError, InvalidClient, InvalidInput, NotFound
from securelogin.service.context import Services
from securelogin.service.oidc_ports import ClientRow, OidcPorts
from securelogin.service.ports import UnitOfWork

CLIENT_PREFIX = "slc_"
SECRET_PREFIX = "slcs_"  # noqa: S105 - the public prefix of client secrets
NAME_MAX = 100
URI_MAX = 2048
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, kw_only=True)
class CreatedClient:
    client_id: str
    #: shown once; None for a public client
    client_secret: str | None


def ports(services: Services) -> OidcPorts:
    if services.oidc is None:
        raise ConfigurationError("the OpenID Connect provider is not wired")
    return services.oidc


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _random(services: Services, prefix: str, n: int) -> str:
    raw = base64.urlsafe_b64encode(services.random.token_bytes(n)).rstrip(b"=").decode()
    return prefix + raw


def check_uri(uri: str, *, field: str) -> str:
    """Absolute https URI without fragment (http only for loopback hosts, RFC 8252 §7.3)."""
    parts = urlsplit(uri)
    if (
        len(uri) > URI_MAX
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.fragment
        or "#" in uri
        or any(ch.isspace() for ch in uri)
    ):
        raise InvalidInput(f"{field} must be an absolute https URI without fragment", field=field)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise InvalidInput(f"{field} may use http only for a loopback host", field=field)
    return uri


def create_client(
    services: Services,
    *,
    name: str,
    redirect_uris: list[str],
    public: bool = False,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str | None = None,
) -> CreatedClient:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidInput(f"name must be 1–{NAME_MAX} characters", field="name")
    if not redirect_uris:
        raise InvalidInput("at least one redirect URI is required", field="redirect_uri")
    uris = tuple(dict.fromkeys(check_uri(u, field="redirect_uri") for u in redirect_uris))
    after_logout = tuple(
        dict.fromkeys(
            check_uri(u, field="post_logout_redirect_uri") for u in post_logout_redirect_uris or []
        )
    )
    if backchannel_logout_uri is not None:
        check_uri(backchannel_logout_uri, field="backchannel_logout_uri")
    client_id = _random(services, CLIENT_PREFIX, 16)
    secret = None if public else _random(services, SECRET_PREFIX, 32)
    with services.uow() as uow:
        uow.oidc.add_client(
            ClientRow(
                client_id=client_id,
                name=name,
                secret_hash=None if secret is None else secret_hash(secret),
                redirect_uris=uris,
                post_logout_redirect_uris=after_logout,
                backchannel_logout_uri=backchannel_logout_uri,
                created_at=services.clock.now(),
                revoked_at=None,
            )
        )
        uow.audit.record(
            AuditEvent(
                action="oidc.client_created",
                actor="admin",
                subject=client_id,
                data={"name": name, "public": public},
            )
        )
        uow.commit()
    return CreatedClient(client_id=client_id, client_secret=secret)


def list_clients(services: Services) -> list[ClientRow]:
    with services.uow() as uow:
        return uow.oidc.clients()


def revoke_client(services: Services, client_id: str) -> None:
    """A revoked client can neither start a login nor redeem a code or a token."""
    with services.uow() as uow:
        if not uow.oidc.revoke_client(client_id, now=services.clock.now()):
            raise NotFound(f"no active OpenID Connect client {client_id!r}")
        uow.audit.record(AuditEvent(action="oidc.client_revoked", actor="admin", subject=client_id))
        uow.commit()


def active_client(uow: UnitOfWork, client_id: str | None) -> ClientRow | None:
    client = uow.oidc.client(client_id) if client_id else None
    return None if client is None or client.revoked_at is not None else client


def authenticate_client(
    uow: UnitOfWork, *, client_id: str | None, client_secret: str | None
) -> ClientRow:
    """RFC 6749 §2.3.1; a public client sends only its id (PKCE is its proof, RFC 7636).
    Every failure is the same ``invalid_client``."""
    client = active_client(uow, client_id)
    if client is None:
        raise InvalidClient
    if client.secret_hash is None:
        if client_secret:
            raise InvalidClient
        return client
    given = secret_hash(client_secret or "")
    if not client_secret or not hmac.compare_digest(given, client.secret_hash):
        raise InvalidClient
    return client
