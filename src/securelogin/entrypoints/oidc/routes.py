"""OpenID Connect provider endpoints (issue 16 §1, SPEC §10.2a) a client calls: token,
userinfo, revocation (RFC 7009), introspection (RFC 7662); the error tables (OAuth error
bodies, RFC 6749 §5.2; RFC 9470's step-up challenge); and :func:`install`, which mounts
these with discovery and JWKS (:mod:`.metadata`) and the browser's endpoints
(:mod:`.browser`).  Handlers translate only; back-channel logout goes out from the
service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from securelogin.entrypoints.api.problems import problem
from securelogin.entrypoints.oidc import browser, metadata
from securelogin.entrypoints.oidc.common import (
    NO_STORE,
    OAUTH_ERROR_SCHEMA,
    FormText,
    client_credentials,
    issuer_of,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.routing import add_shared
from securelogin.errors import InsufficientUserAuthentication, OAuthError
from securelogin.service.context import Services
from securelogin.service.oidc import tokens

router = APIRouter(tags=["openid-connect"])


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
    services: ServicesDep,
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
    services: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """Core §5.3 with the access token as ``Authorization: Bearer``."""
    scheme, _, value = (authorization or "").partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else None
    claims = tokens.userinfo(services, bearer)
    return JSONResponse(claims, headers=NO_STORE)


@router.post("/oauth/revoke", responses={400: OAUTH_ERROR_SCHEMA, 401: OAUTH_ERROR_SCHEMA})
def revoke(
    services: ServicesDep,
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
    services: ServicesDep,
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
    add_shared(app, metadata.router, browser.router, router)
