"""The authorization endpoint (OpenID Connect Core §3.1.2, RFC 7636, issue 16 §1).

The login is the portal's own: a request that needs one is stored (hashed id, 10 minutes,
single use) and the browser goes to the portal's login form; once the portal has a
session it comes back to :func:`resume`.  Step-up: a request whose ``acr_values`` or
essential ``acr`` asks for rank N needs a login with a device of rank ≥ N even when the
browser's session is alive; a user whose strongest device is below N gets
``unmet_authentication_requirements`` (OpenID Connect Core Error Code 1.0).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.oidc import (
    AuthorizationRefused,
    AuthorizationRequest,
    amr_for,
    parse_authorization,
    redirect_uri_allowed,
)
from securelogin.errors import (
    AuthorizationErrorRedirect,
    AuthorizationNotRedirectable,
    Unauthenticated,
)
from securelogin.service import sessions
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony.factors import choose_device
from securelogin.service.context import Services
from securelogin.service.login_ports import SessionRow
from securelogin.service.oidc.clients import active_client, ports
from securelogin.service.oidc_ports import CodeRow, PendingRow
from securelogin.service.ports import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class Redirect:
    """Back to the relying party (a code, or an error it must see)."""

    location: str


@dataclass(frozen=True, kw_only=True)
class LoginNeeded:
    """The portal's login first; ``request_id`` brings the browser back (shown once)."""

    request_id: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _random(services: Services) -> str:
    return base64.urlsafe_b64encode(services.random.token_bytes(32)).rstrip(b"=").decode()


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query (a registered URI may carry one)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def error_redirect(
    request: AuthorizationRequest, error: str, description: str
) -> AuthorizationErrorRedirect:
    return AuthorizationErrorRedirect(
        error, description, redirect_uri=request.redirect_uri, state=request.state
    )


def _live_session(services: Services, token: str | None) -> SessionRow | None:
    """The browser's portal session when it is alive (timeouts of R-LOGIN-11 apply)."""
    if not token:
        return None
    try:
        sessions.authenticate(services, token)
    except Unauthenticated:
        return None
    with services.uow() as uow:
        return uow.sessions.by_token_hash(sessions.token_hash(token))


def _login_needed(request: AuthorizationRequest, live: SessionRow, now: datetime) -> bool:
    """Core §3.1.2.1: ``prompt=login``, ``max_age`` passed; and step-up (the session's
    device is below the rank asked for)."""
    if "login" in request.prompt or live.tier_rank < request.min_rank:
        return True
    return request.max_age is not None and now > live.created_at + timedelta(
        seconds=request.max_age
    )


def _strongest_rank(services: Services, uow: UnitOfWork, user_id: int, now: datetime) -> int:
    device = choose_device(services, uow, user_id=user_id, requested=None, now=now)
    if device is None:
        return 0
    return services.policy.catalogue[DeviceKind(device.kind)].rank


def begin(
    services: Services, params: Mapping[str, str], *, issuer: str, session_token: str | None
) -> Redirect | LoginNeeded:
    """Check the request; answer with a code at once when the browser's session satisfies
    it, else ask for the portal's login.  Raises AuthorizationNotRedirectable (unknown
    client or redirect URI: never redirected) or AuthorizationErrorRedirect."""
    now = services.clock.now()
    with services.uow() as uow:
        client = active_client(uow, params.get("client_id"))
    redirect_uri = params.get("redirect_uri", "")
    if client is None:
        raise AuthorizationNotRedirectable("invalid_request", "Unknown or revoked client")
    if not redirect_uri_allowed(redirect_uri, client.redirect_uris):
        raise AuthorizationNotRedirectable(
            "invalid_request", "The redirect_uri is not registered for this client"
        )
    try:
        request = parse_authorization(params, client_id=client.client_id, redirect_uri=redirect_uri)
    except AuthorizationRefused as refused:
        raise AuthorizationErrorRedirect(
            refused.error, refused.description, redirect_uri=redirect_uri, state=params.get("state")
        ) from None
    live = _live_session(services, session_token)
    if live is not None and not _login_needed(request, live, now):
        return issue_code(services, request, live, issuer=issuer)
    if live is not None and request.min_rank > 0:
        with services.uow() as uow:
            if _strongest_rank(services, uow, live.user_id, now) < request.min_rank:
                raise error_redirect(
                    request,
                    "unmet_authentication_requirements",
                    "No device of the user reaches the requested tier",
                )
    if "none" in request.prompt:
        raise error_redirect(request, "login_required", "A login is required")
    request_id = _random(services)
    expires = now + timedelta(seconds=ports(services).policy.request_seconds)
    with services.uow() as uow:
        uow.oidc.add_request(
            digest(request_id),
            PendingRow(request=request.as_json(), created_at=now, expires_at=expires),
        )
        uow.commit()
    return LoginNeeded(request_id=request_id)


def resume(
    services: Services, request_id: str, *, issuer: str, session_token: str | None
) -> Redirect:
    """After the portal's login: the waiting request (single use) and the session that
    login made — one made after the request, so step-up and ``prompt=login`` really
    re-authenticated."""
    now = services.clock.now()
    with services.uow() as uow:
        pending = uow.oidc.take_request(digest(request_id), now=now) if request_id else None
        uow.commit()
    if pending is None:
        raise AuthorizationNotRedirectable(
            "invalid_request", "This sign-in request has expired; start again from the application"
        )
    request = AuthorizationRequest.from_json(pending.request)
    with services.uow() as uow:
        client = active_client(uow, request.client_id)
    if client is None:
        raise AuthorizationNotRedirectable("invalid_request", "Unknown or revoked client")
    live = _live_session(services, session_token)
    if live is None or live.created_at < pending.created_at:
        raise error_redirect(request, "login_required", "The login did not finish")
    if live.tier_rank < request.min_rank:
        raise error_redirect(
            request,
            "unmet_authentication_requirements",
            "The device used does not reach the requested tier",
        )
    return issue_code(services, request, live, issuer=issuer)


def issue_code(
    services: Services, request: AuthorizationRequest, live: SessionRow, *, issuer: str
) -> Redirect:
    """RFC 6749 §4.1.2: a single-use code (stored hashed, short-lived), bound to client,
    redirect URI, PKCE challenge, nonce and the session's authentication."""
    now = services.clock.now()
    code = _random(services)
    kind = DeviceKind(live.tier_kind) if live.tier_kind else None
    with services.uow() as uow:
        uow.oidc.add_code(
            CodeRow(
                code_hash=digest(code),
                client_id=request.client_id,
                user_id=live.user_id,
                session_id=live.id,
                request=request.as_json(),
                access_level=live.access_level,
                acr_rank=live.tier_rank,
                amr=tuple(amr_for(kind)),
                auth_time=live.created_at,
                created_at=now,
                expires_at=now + timedelta(seconds=ports(services).policy.code_seconds),
            )
        )
        user = uow.users.by_id(live.user_id)
        assert user is not None  # noqa: S101 - a session always has its user
        record_user_event(
            uow, "oidc.authorized", user.username, client=request.client_id, tier=live.tier_rank
        )
        uow.commit()
    location = with_query(
        request.redirect_uri, {"code": code, "state": request.state, "iss": issuer}
    )
    return Redirect(location=location)


def error_location(error: AuthorizationErrorRedirect, *, issuer: str) -> str:
    """Core §3.1.2.6 with RFC 9207's ``iss``."""
    return with_query(
        error.redirect_uri,
        {
            "error": error.error,
            "error_description": error.message,
            "state": error.state,
            "iss": issuer,
        },
    )
