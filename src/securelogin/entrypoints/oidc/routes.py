"""OpenID Connect provider endpoints (issue 16 §1, SPEC §10.2a): discovery, JWKS,
authorization (with the portal's own login), token, userinfo, revocation (RFC 7009),
introspection (RFC 7662) and RP-initiated logout; back-channel logout goes out from the
service.  Handlers translate only; errors are OAuth error bodies (RFC 6749 §5.2) or, at
the authorization endpoint, a redirect to the client (Core §3.1.2.6) or an error page
when the client or its redirect URI is not known.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import escape
from pydantic import BaseModel

from securelogin.domain.oidc import SCOPES, supported_acr_values
from securelogin.entrypoints.api.problems import problem
from securelogin.entrypoints.oidc.handoff import OIDC_COOKIE, RESUME_PATH
from securelogin.entrypoints.portal.web import (
    SESSION_COOKIE,
    clear_private_cookie,
    set_private_cookie,
)
from securelogin.errors import (
    AuthorizationErrorRedirect,
    AuthorizationNotRedirectable,
    InsufficientUserAuthentication,
    OAuthError,
)
from securelogin.service.context import Services
from securelogin.service.oidc import authorize, keys, logout, tokens

CLAIMS = (
    *("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"),
    *("acr", "amr", "azp", "sid", "preferred_username"),
)
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


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


Svc = Annotated[Services, Depends(services_of)]
FormText = Annotated[str | None, Form()]
router = APIRouter(tags=["openid-connect"])


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


class Discovery(BaseModel):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    end_session_endpoint: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    claims_supported: list[str]
    claims_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool
    acr_values_supported: list[str]
    prompt_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    backchannel_logout_supported: bool
    backchannel_logout_session_supported: bool


@router.get("/.well-known/openid-configuration", response_model=Discovery)
def discovery(request: Request) -> Discovery:
    """OpenID Connect Discovery 1.0 §3: exactly what this provider does."""
    base = issuer_of(request)
    return Discovery(
        issuer=base,
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        userinfo_endpoint=f"{base}/oauth/userinfo",
        jwks_uri=f"{base}/oauth/jwks",
        revocation_endpoint=f"{base}/oauth/revoke",
        introspection_endpoint=f"{base}/oauth/introspect",
        end_session_endpoint=f"{base}/oauth/logout",
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        scopes_supported=list(SCOPES),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        introspection_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
        ],
        code_challenge_methods_supported=["S256"],
        claims_supported=list(CLAIMS),
        claims_parameter_supported=True,
        request_parameter_supported=False,
        request_uri_parameter_supported=False,
        acr_values_supported=supported_acr_values(),
        prompt_values_supported=["none", "login"],
        authorization_response_iss_parameter_supported=True,
        backchannel_logout_supported=True,
        backchannel_logout_session_supported=True,
    )


class JwkSet(BaseModel):
    keys: list[dict[str, str]]


@router.get("/oauth/jwks", response_model=JwkSet)
def jwks(services: Svc) -> JwkSet:
    """RFC 7517 §5: the signing key and the retired keys still within their overlap."""
    published = keys.published(services)
    return JwkSet(keys=[{k: str(v) for k, v in key.items()} for key in published])


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
def authorization(request: Request, services: Svc) -> Response:
    """Core §3.1.2.1 (GET); see docs/integration.md for the parameters."""
    return _authorize(request, services, dict(request.query_params))


@router.post("/oauth/authorize", include_in_schema=False)
async def authorization_form(request: Request, services: Svc) -> Response:
    """Core §3.1.2.1 (POST, form-encoded)."""
    form = await request.form()
    return _authorize(request, services, {k: v for k, v in form.items() if isinstance(v, str)})


@router.get(RESUME_PATH, include_in_schema=False)
def resume(request: Request, services: Svc) -> Response:
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


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    id_token: str
    scope: str


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    responses={400: OAUTH_ERROR_SCHEMA, 401: OAUTH_ERROR_SCHEMA},
)
def token(
    request: Request,
    services: Svc,
    grant_type: FormText = None,
    code: FormText = None,
    redirect_uri: FormText = None,
    code_verifier: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5 (``code_verifier`` required); OpenID Connect
    Core §3.1.3.3: the ID token (``acr`` = tier, ``amr``, ``auth_time``, ``nonce``)."""
    cid, secret = client_credentials(authorization, client_id, client_secret)
    issued = tokens.exchange_code(
        services,
        issuer=issuer_of(request),
        client_id=cid,
        client_secret=secret,
        grant_type=grant_type,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )
    body = TokenOut(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        id_token=issued.id_token,
        scope=issued.scope,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


class UserInfoOut(BaseModel):
    sub: str
    preferred_username: str


@router.get("/oauth/userinfo", response_model=UserInfoOut, responses={401: OAUTH_ERROR_SCHEMA})
def userinfo(
    services: Svc, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> JSONResponse:
    """Core §5.3 with the access token as ``Authorization: Bearer``."""
    scheme, _, value = (authorization or "").partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else None
    claims = tokens.userinfo(services, bearer)
    return JSONResponse(claims, headers=NO_STORE)


@router.post("/oauth/revoke", responses={400: OAUTH_ERROR_SCHEMA, 401: OAUTH_ERROR_SCHEMA})
def revoke(
    services: Svc,
    token: FormText = None,
    token_type_hint: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """RFC 7009 §2: 200 with an empty body, known token or not."""
    cid, secret = client_credentials(authorization, client_id, client_secret)
    tokens.revoke(services, client_id=cid, client_secret=secret, token=token)
    return Response(status_code=200, headers=NO_STORE)


class IntrospectionOut(BaseModel):
    active: bool
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    token_type: str | None = None
    exp: int | None = None
    iat: int | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    acr: str | None = None
    amr: list[str] | None = None
    auth_time: int | None = None


@router.post(
    "/oauth/introspect",
    response_model=IntrospectionOut,
    response_model_exclude_none=True,
    responses={400: OAUTH_ERROR_SCHEMA, 401: OAUTH_ERROR_SCHEMA},
)
def introspect(
    request: Request,
    services: Svc,
    token: FormText = None,
    token_type_hint: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """RFC 7662 §2 for a registered client: ``acr`` and ``auth_time`` for step-up
    decisions (RFC 9470 §6.1)."""
    cid, secret = client_credentials(authorization, client_id, client_secret)
    found = tokens.introspect(
        services, issuer=issuer_of(request), client_id=cid, client_secret=secret, token=token
    )
    return JSONResponse(found, headers=NO_STORE)


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
def end_session(request: Request, services: Svc) -> Response:
    """RP-Initiated Logout 1.0 §2 (GET)."""
    return _end_session(request, services, dict(request.query_params))


@router.post("/oauth/logout", include_in_schema=False)
async def end_session_form(request: Request, services: Svc) -> Response:
    """RP-Initiated Logout 1.0 §2 (POST, form-encoded)."""
    form = await request.form()
    return _end_session(request, services, {k: v for k, v in form.items() if isinstance(v, str)})


async def _oauth_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OAuthError)  # noqa: S101 - registered for this class
    headers = dict(NO_STORE)
    if exc.error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="securelogin"'
    elif exc.error == "invalid_token":
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.message},
        status_code=exc.status,
        headers=headers,
    )


async def _step_up(_request: Request, exc: Exception) -> JSONResponse:
    """RFC 9470 §3: the challenge a client follows back to the authorization endpoint."""
    assert isinstance(exc, InsufficientUserAuthentication)  # noqa: S101 - registered so
    answer = problem(401, exc.code, exc.message, acr_values=exc.acr_values)
    answer.headers["WWW-Authenticate"] = (
        'Bearer error="insufficient_user_authentication", '
        f'error_description="A stronger device is required for this amount", '
        f'acr_values="{exc.acr_values}"'
    )
    return answer


def install(app: FastAPI, services: Services) -> None:
    """The routes and their two error tables, on ``app``."""
    app.state.services = services
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(InsufficientUserAuthentication, _step_up)
    app.include_router(router)
