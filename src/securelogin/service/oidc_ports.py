"""What the OpenID Connect provider needs from the outside: its storage, JOSE (signing
and verifying JWTs with keys it generates) and a channel to the relying parties'
back-channel logout endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

#: a JSON object as JOSE libraries read and write it
JsonObject = dict[str, object]


@dataclass(frozen=True, kw_only=True)
class OidcPolicy:
    """Lifetimes (seconds) and the key rotation schedule; every number is configuration."""

    code_seconds: int = 60
    access_token_seconds: int = 600
    id_token_seconds: int = 600
    #: an authorization request waits this long for its login (push included)
    request_seconds: int = 600
    #: a signing key signs this long, then a new one takes over …
    key_rotation_seconds: int = 30 * 24 * 3600
    #: … and the old one stays in the JWKS this long (tokens it signed stay verifiable)
    key_overlap_seconds: int = 2 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class ClientRow:
    client_id: str
    name: str
    #: SHA-256 of the secret (hex); None for a public client
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class KeyRow:
    kid: str
    #: the private key's PEM, sealed with the secret box (context ``oidc-key:KID``)
    sealed_private: bytes
    public_jwk: Mapping[str, object]
    created_at: datetime
    #: stopped signing at; published until ``retired_at + key_overlap_seconds``
    retired_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class PendingRow:
    """An authorization request waiting for the portal's login."""

    request: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class CodeRow:
    code_hash: str
    client_id: str
    user_id: int
    session_id: int
    #: the authorization request (domain.oidc.AuthorizationRequest.as_json)
    request: str
    access_level: str
    acr_rank: int
    amr: tuple[str, ...]
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TokenRow:
    token_hash: str
    client_id: str
    user_id: int
    session_id: int
    code_hash: str
    scope: tuple[str, ...]
    #: the access level of the portal session the token came from (SPEC §1)
    access_level: str
    acr_rank: int
    amr: tuple[str, ...]
    auth_time: datetime
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class OidcRepository(Protocol):
    def add_client(self, client: ClientRow) -> None: ...

    def client(self, client_id: str) -> ClientRow | None: ...

    def clients(self) -> list[ClientRow]: ...

    def revoke_client(self, client_id: str, *, now: datetime) -> bool:
        """True when the client was active and is revoked now."""
        ...

    def add_key(self, key: KeyRow) -> None: ...

    def signing_keys(self) -> list[KeyRow]:
        """Every stored key, newest first."""
        ...

    def lock_keys(self) -> None:
        """Serialise key rotation across processes (one new key, not two)."""
        ...

    def retire_key(self, kid: str, *, now: datetime) -> None: ...

    def drop_key(self, kid: str) -> None: ...

    def add_request(self, request_hash: str, row: PendingRow) -> None: ...

    def take_request(self, request_hash: str, *, now: datetime) -> PendingRow | None:
        """The waiting request, consumed atomically (a second take finds nothing)."""
        ...

    def add_code(self, code: CodeRow) -> None: ...

    def use_code(self, code_hash: str, *, now: datetime) -> tuple[CodeRow, bool] | None:
        """The code and whether this call was its first use (marked used atomically)."""
        ...

    def add_token(self, token: TokenRow) -> None: ...

    def token(self, token_hash: str) -> TokenRow | None: ...

    def revoke_token(self, token_hash: str, *, now: datetime) -> None: ...

    def revoke_tokens_of_code(self, code_hash: str, *, now: datetime) -> int: ...

    def revoke_tokens_of_session(self, session_id: int, *, now: datetime) -> list[str]:
        """Revoke every live token of a portal session; the client ids they were for."""
        ...

    def session_alive(self, session_id: int, *, now: datetime) -> bool:
        """The portal session is not revoked nor past its end, and the device that made
        it is still active (R-LOGIN-11: revoking a device ends its sessions)."""
        ...

    def clients_of_session(self, session_id: int) -> list[str]:
        """Clients that received tokens from this portal session (back-channel logout)."""
        ...


@dataclass(frozen=True, kw_only=True)
class NewKey:
    private_pem: bytes
    public_jwk: JsonObject


class Jose(Protocol):
    """JWS with RS256 (OpenID Connect Core §15.1), through a JOSE library."""

    def new_key(self, kid: str) -> NewKey: ...

    def sign(self, claims: JsonObject, *, private_pem: bytes, kid: str, typ: str) -> str: ...

    def verify(self, token: str, *, public_jwks: list[JsonObject]) -> JsonObject:
        """The claims of a token signed by one of ``public_jwks``; raises ValueError
        otherwise (times are not checked: the caller decides what age it accepts)."""
        ...


class BackchannelSender(Protocol):
    def post(self, uri: str, *, logout_token: str) -> None:
        """POST ``logout_token`` form-encoded (Back-Channel Logout 1.0 §2.5); raises
        DeliveryFailed when the relying party does not answer 2xx."""
        ...


@dataclass(frozen=True, kw_only=True)
class OidcPorts:
    jose: Jose
    backchannel: BackchannelSender
    policy: OidcPolicy = field(default_factory=OidcPolicy)
