"""Token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3), userinfo
(Core §5.3), revocation (RFC 7009) and introspection (RFC 7662).

Access tokens are opaque (``slo_`` + 256 random bits, stored as SHA-256) so that
revocation takes effect at once; resource servers learn ``acr`` and ``auth_time`` through
introspection (RFC 9470 §6.1).  Every failure of a code is the same ``invalid_grant``; a
code presented twice also revokes the tokens it gave (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.oidc import AuthorizationRequest, acr_for, pkce_matches
from securelogin.errors import InvalidBearerToken, InvalidGrant, OAuthError
from securelogin.service.context import Services
from securelogin.service.oidc import keys
from securelogin.service.oidc.authorize import digest
from securelogin.service.oidc.clients import active_client, authenticate_client, ports
from securelogin.service.oidc_ports import CodeRow, JsonObject, TokenRow
from securelogin.service.ports import UnitOfWork

ACCESS_PREFIX = "slo_"


@dataclass(frozen=True, kw_only=True)
class TokenResponse:
    access_token: str
    token_type: str
    expires_in: int
    id_token: str
    scope: str


def subject(services: Services, user_id: int) -> str:
    """``sub``: stable, not the username, not the row id (a keyed hash of it)."""
    return services.box.fingerprint(f"user:{user_id}".encode(), purpose="oidc-sub")[:32]


def session_ref(services: Services, session_id: int) -> str:
    """``sid`` (Front/Back-Channel Logout): names the portal session without its id."""
    return services.box.fingerprint(f"session:{session_id}".encode(), purpose="oidc-sid")[:32]


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def exchange_code(
    services: Services,
    *,
    issuer: str,
    client_id: str | None,
    client_secret: str | None,
    grant_type: str | None,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> TokenResponse:
    """The code for an ID token and an access token, once."""
    key = keys.signing_key(services)  # first: its own unit of work
    now = services.clock.now()
    policy = ports(services).policy
    with services.uow() as uow:
        client = authenticate_client(uow, client_id=client_id, client_secret=client_secret)
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "Only authorization_code is supported")
        used = uow.oidc.use_code(digest(code), now=now) if code else None
        if used is None:
            raise InvalidGrant
        row, first = used
        if not first:
            uow.oidc.revoke_tokens_of_code(row.code_hash, now=now)
            uow.commit()
            raise InvalidGrant
        request = AuthorizationRequest.from_json(row.request)
        if (
            row.client_id != client.client_id
            or now >= row.expires_at
            or redirect_uri != request.redirect_uri
            or not pkce_matches(verifier=code_verifier, expected_challenge=request.code_challenge)
        ):
            uow.commit()  # the code stays used: a failed redemption burns it
            raise InvalidGrant
        access = (
            ACCESS_PREFIX
            + base64.urlsafe_b64encode(services.random.token_bytes(32)).rstrip(b"=").decode()
        )
        expires_in = policy.access_token_seconds
        uow.oidc.add_token(
            TokenRow(
                token_hash=digest(access),
                client_id=client.client_id,
                user_id=row.user_id,
                session_id=row.session_id,
                code_hash=row.code_hash,
                scope=request.scope,
                access_level=row.access_level,
                acr_rank=row.acr_rank,
                amr=row.amr,
                auth_time=row.auth_time,
                issued_at=now,
                expires_at=now + timedelta(seconds=expires_in),
            )
        )
        claims = _id_token_claims(services, uow, row, request, issuer=issuer, now=now)
        uow.commit()
    return TokenResponse(
        access_token=access,
        token_type="Bearer",  # noqa: S106 - RFC 6750 token type
        expires_in=expires_in,
        id_token=keys.sign_with(services, key, claims),
        scope=" ".join(request.scope),
    )


def _id_token_claims(
    services: Services,
    uow: UnitOfWork,
    row: CodeRow,
    request: AuthorizationRequest,
    *,
    issuer: str,
    now: datetime,
) -> JsonObject:
    """OpenID Connect Core §2: ``acr`` is the tier (issue 16), ``amr`` RFC 8176."""
    user = uow.users.by_id(row.user_id)
    assert user is not None  # noqa: S101 - a code always has its user
    claims: JsonObject = {
        "iss": issuer,
        "sub": subject(services, row.user_id),
        "aud": row.client_id,
        "azp": row.client_id,
        "iat": _epoch(now),
        "exp": _epoch(now) + ports(services).policy.id_token_seconds,
        "auth_time": _epoch(row.auth_time),
        "acr": acr_for(row.acr_rank),
        "amr": list(row.amr),
        "sid": session_ref(services, row.session_id),
        "preferred_username": user.username,
    }
    if request.nonce is not None:
        claims["nonce"] = request.nonce
    return claims


def _live_token(uow: UnitOfWork, token: str | None, now: datetime) -> TokenRow | None:
    if not token or not token.startswith(ACCESS_PREFIX):
        return None
    row = uow.oidc.token(digest(token))
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    if active_client(uow, row.client_id) is None:
        return None
    if not uow.oidc.session_alive(row.session_id, now=now):
        return None  # the login behind it ended: logout, a revoked or lost device
    return row


def access_token(services: Services, token: str | None) -> TokenRow:
    """A live access token (not revoked, not expired, its client not revoked)."""
    with services.uow() as uow:
        row = _live_token(uow, token, services.clock.now())
    if row is None:
        raise InvalidBearerToken
    return row


def userinfo(services: Services, token: str | None) -> JsonObject:
    row = access_token(services, token)
    if "openid" not in row.scope:
        raise InvalidBearerToken
    with services.uow() as uow:
        user = uow.users.by_id(row.user_id)
    assert user is not None  # noqa: S101 - a token always has its user
    return {"sub": subject(services, row.user_id), "preferred_username": user.username}


def revoke(
    services: Services,
    *,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
) -> None:
    """RFC 7009 §2.2: 200 whether or not the token was known; a client revokes only its
    own tokens."""
    now = services.clock.now()
    with services.uow() as uow:
        client = authenticate_client(uow, client_id=client_id, client_secret=client_secret)
        if not token:
            raise OAuthError("invalid_request", "token is required")
        row = uow.oidc.token(digest(token)) if token.startswith(ACCESS_PREFIX) else None
        if row is not None and row.client_id == client.client_id:
            uow.oidc.revoke_token(row.token_hash, now=now)
            uow.commit()


def introspect(
    services: Services,
    *,
    issuer: str,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
) -> JsonObject:
    """RFC 7662 §2.2 for an authenticated client (relying party or resource server):
    ``{"active": false}`` for anything not live, else the token's authentication."""
    now = services.clock.now()
    with services.uow() as uow:
        authenticate_client(uow, client_id=client_id, client_secret=client_secret)
        row = _live_token(uow, token, now)
        if row is None:
            return {"active": False}
        user = uow.users.by_id(row.user_id)
    assert user is not None  # noqa: S101 - a token always has its user
    return {
        "active": True,
        "scope": " ".join(row.scope),
        "client_id": row.client_id,
        "username": user.username,
        "token_type": "Bearer",
        "exp": _epoch(row.expires_at),
        "iat": _epoch(row.issued_at),
        "sub": subject(services, row.user_id),
        "aud": row.client_id,
        "iss": issuer,
        "acr": acr_for(row.acr_rank),
        "amr": list(row.amr),
        "auth_time": _epoch(row.auth_time),
    }
