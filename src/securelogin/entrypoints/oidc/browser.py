"""The endpoints a browser visits (not in the OpenAPI document): authorization with the
portal's own login and its return (Core §3.1.2), and RP-initiated logout.  An unknown
client or redirect URI is shown on an error page, never redirected to (Core §3.1.2.6)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from securelogin.entrypoints.oidc.common import NO_STORE, issuer_of
from securelogin.entrypoints.oidc.handoff import OIDC_COOKIE, RESUME_PATH
from securelogin.entrypoints.portal.site import SESSION_COOKIE
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import clear_private_cookie, set_private_cookie
from securelogin.errors import (
    AuthorizationErrorRedirect,
    AuthorizationNotRedirectable,
    OAuthError,
)
from securelogin.service.context import Services
from securelogin.service.oidc import authorize, logout

router = APIRouter(tags=["openid-connect"])


def _error_page(status: int, error: OAuthError) -> HTMLResponse:
    """Core §3.1.2.6: an unknown client or redirect URI is told to the user, never sent."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sign-in request refused</title></head><body><main>"
        f"<h1>Sign-in request refused</h1><p>{escape(error.message)}</p>"
        f"<p><code>{escape(error.error)}</code></p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def _to_client(request: Request, location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303, headers=NO_STORE)
    clear_private_cookie(response, request, OIDC_COOKIE)
    return response


def _continue_to_client(request: Request, location: str) -> HTMLResponse:
    """Back to the client after the portal's login form.  Not a redirect: browsers apply
    the login page's ``form-action 'self'`` to every redirect that follows its form, so
    the way out is a new navigation — a meta refresh, and a link without it."""
    href = escape(location)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={href}">'
        "<title>Signed in</title></head><body><main><h1>Signed in</h1>"
        f'<p><a id="continue" href="{href}">Continue to the application</a></p>'
        "</main></body></html>"
    )
    response = HTMLResponse(body, headers=NO_STORE)
    clear_private_cookie(response, request, OIDC_COOKIE)
    return response


def _authorize(request: Request, services: Services, params: dict[str, str]) -> Response:
    issuer = issuer_of(request)
    try:
        outcome = authorize.begin(
            services, params, issuer=issuer, session_token=request.cookies.get(SESSION_COOKIE)
        )
    except AuthorizationNotRedirectable as refused:
        return _error_page(400, refused)
    except AuthorizationErrorRedirect as refused:
        return _to_client(request, authorize.error_location(refused, issuer=issuer))
    if isinstance(outcome, authorize.Redirect):
        return _to_client(request, outcome.location)
    # the portal's login form, even over a live session (step-up, prompt=login): its
    # session cookie is dropped here and the login makes a new session
    response = RedirectResponse("/", status_code=303, headers=NO_STORE)
    set_private_cookie(response, request, OIDC_COOKIE, outcome.request_id)
    clear_private_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/oauth/authorize", include_in_schema=False)
def authorization(request: Request, services: ServicesDep) -> Response:
    """Core §3.1.2.1 (GET); see docs/integration.md for the parameters."""
    return _authorize(request, services, dict(request.query_params))


@router.post("/oauth/authorize", include_in_schema=False)
async def authorization_form(request: Request, services: ServicesDep) -> Response:
    """Core §3.1.2.1 (POST, form-encoded)."""
    form = await request.form()
    return _authorize(request, services, {k: v for k, v in form.items() if isinstance(v, str)})


@router.get(RESUME_PATH, include_in_schema=False)
def resume(request: Request, services: ServicesDep) -> Response:
    """Back from the portal's login to the waiting authorization request."""
    issuer = issuer_of(request)
    try:
        done = authorize.resume(
            services,
            request.cookies.get(OIDC_COOKIE, ""),
            issuer=issuer,
            session_token=request.cookies.get(SESSION_COOKIE),
        )
    except AuthorizationNotRedirectable:
        # a request that expired or was used (e.g. an abandoned sign-in, then a plain
        # portal login): the portal's own page, as after any login
        response: Response = RedirectResponse("/", status_code=303, headers=NO_STORE)
        clear_private_cookie(response, request, OIDC_COOKIE)
        return response
    except AuthorizationErrorRedirect as refused:
        return _continue_to_client(request, authorize.error_location(refused, issuer=issuer))
    return _continue_to_client(request, done.location)


def _end_session(request: Request, services: Services, params: dict[str, str]) -> Response:
    try:
        target = logout.end_session(
            services,
            issuer=issuer_of(request),
            session_token=request.cookies.get(SESSION_COOKIE),
            id_token_hint=params.get("id_token_hint"),
            client_id=params.get("client_id"),
            post_logout_redirect_uri=params.get("post_logout_redirect_uri"),
            state=params.get("state"),
        )
    except AuthorizationNotRedirectable as refused:
        return _error_page(400, refused)
    response = RedirectResponse(target or "/?notice=logged_out", status_code=303, headers=NO_STORE)
    clear_private_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/oauth/logout", include_in_schema=False)
def end_session(request: Request, services: ServicesDep) -> Response:
    """RP-Initiated Logout 1.0 §2 (GET)."""
    return _end_session(request, services, dict(request.query_params))


@router.post("/oauth/logout", include_in_schema=False)
async def end_session_form(request: Request, services: ServicesDep) -> Response:
    """RP-Initiated Logout 1.0 §2 (POST, form-encoded)."""
    form = await request.form()
    return _end_session(request, services, {k: v for k, v in form.items() if isinstance(v, str)})
