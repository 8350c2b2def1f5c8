"""The JSON API's bearer: a session token or an OpenID Connect access token (issue 16 §1),
and RFC 9470's step-up challenge for a withdrawal the token's tier cannot carry."""

from __future__ import annotations

from securelogin.domain.access import AccessLevel
from securelogin.domain.money import from_cents
from securelogin.domain.oidc import acr_for, rank_needed
from securelogin.errors import (
    AccessDenied,
    InsufficientUserAuthentication,
    InvalidBearerToken,
    Unauthenticated,
)
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.oidc.tokens import ACCESS_PREFIX, access_token


def is_access_token(token: str) -> bool:
    return token.startswith(ACCESS_PREFIX)


def authenticate(
    services: Services, token: str, *, scope: str | None = None
) -> sessions.CurrentSession:
    """Who the bearer is: a portal/API session, or the user an access token speaks for
    (its tier is the ``acr`` it was issued with).  With ``scope``, an access token must
    have been granted it (403 ``access_denied``); a session token is the user's own."""
    if not is_access_token(token):
        return sessions.authenticate(services, token)
    try:
        row = access_token(services, token)
    except InvalidBearerToken:
        raise Unauthenticated("The access token is invalid or has expired") from None
    if scope is not None and scope not in row.scope:
        raise AccessDenied(f"This access token was not granted the scope '{scope}'")
    return sessions.CurrentSession(
        session_id=row.session_id,
        user_id=row.user_id,
        access_level=AccessLevel(row.access_level),
        tier=sessions.Tier(rank=row.acr_rank, device_kind=None),
        expires_at=row.expires_at,
    )


def require_tier_for(services: Services, token: str, *, amount_cents: int) -> None:
    """RFC 9470 §3: an access token whose ``acr`` is below the rank whose limits allow the
    amount (SPEC §2, R-LIMIT-1) is answered ``insufficient_user_authentication`` with
    the ``acr_values`` to ask for.  Session tokens are judged by the withdrawal rules."""
    if not is_access_token(token):
        return
    session = authenticate(services, token)
    needed = rank_needed(from_cents(amount_cents), services.policy.catalogue)
    if session.tier.rank < needed:
        raise InsufficientUserAuthentication(acr_values=acr_for(needed))
