"""Client Portal pages (SPEC §8): the login form, the language switch, and the routers of
the second factor (:mod:`.verify`) and of the pages behind a session (:mod:`.account`).

Entry points only translate (STYLE.md rule 2): each handler checks the form's CSRF
token, calls one service function and maps its errors to a page; every rule lives in the
services. Failed logins say only "Invalid username or password" or "Login failed"
(R-LOGIN-10).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import Platform
from securelogin.entrypoints.oidc.handoff import after_login
from securelogin.entrypoints.portal import (
    account,
    lifecycle,
    mobile_key,
    passkeys,
    settings,
    verify,
    withdraw,
)
from securelogin.entrypoints.portal.site import (
    LOGIN_COOKIE,
    LOGIN_COOKIE_PATH,
    NOTICES,
    SESSION_COOKIE,
    STATIC_DIR,
    PortalPagesDep,
    environment,
    login_form,
    notices,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.i18n import supported
from securelogin.entrypoints.web.pages import (
    CSRF_COOKIE,
    LANG_COOKIE,
    LANG_COOKIE_SECONDS,
    CsrfField,
    Message,
    Pages,
    clear_private_cookie,
    csrf_ok,
    is_https,
    page_language,
    redirect,
    same_site_path,
    secure,
    set_private_cookie,
)
from securelogin.entrypoints.web.routing import add_shared
from securelogin.errors import InvalidCredentials, Locked, LoginFailed, NoDeviceLeft
from securelogin.service.context import Services
from securelogin.service.login import login

__all__ = ["STATIC_DIR", "install"]

INVALID_CREDENTIALS = (Message(tone="error", key="login.invalid_credentials"),)


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """The login form, or the session's own page for a browser already logged in."""
    lang = page_language(request)
    landing = account.current_landing(services, request)
    if landing is not None:
        return redirect(request, lang, landing)
    return login_form(pages, request, lang, messages=notices(request))


@router.post("/login", response_class=HTMLResponse)
def start(
    request: Request,
    services: ServicesDep,
    pages: PortalPagesDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    """Password step (R-LOGIN-1): on to the second factor, or straight to the page of a
    password-only session (R-LOGIN-8)."""
    lang = page_language(request)
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, lang)
    try:
        started = login.start_login(
            services,
            username=username,
            password=password,
            platform=Platform.PORTAL,
            client_ip=request.client.host if request.client else None,
        )
    except InvalidCredentials:
        return login_form(pages, request, lang, username=username, messages=INVALID_CREDENTIALS)
    except NoDeviceLeft:  # e.g. the code card was returned: say how to get a device
        return login_form(pages, request, lang, username=username, messages=NOTICES["no_device"])
    except (Locked, LoginFailed):
        # R-LOGIN-10: a locked login reads exactly like any other failure.
        return login_form(pages, request, lang, username=username, messages=NOTICES["failed"])
    if started.session is not None:
        landing = account.landing_for(started.session.access_level)
        response = redirect(request, lang, after_login(request, landing))
        set_private_cookie(response, request, SESSION_COOKIE, started.session.token)
        clear_private_cookie(response, request, CSRF_COOKIE)  # a new token once logged in
        return response
    response = redirect(request, lang, verify.VERIFY_PATH)
    set_private_cookie(response, request, LOGIN_COOKIE, started.login_id, path=LOGIN_COOKIE_PATH)
    return response


@router.get("/lang/{code}")
def switch_language(
    request: Request,
    code: str,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    lang = supported(code) or "en"
    response = redirect(request, lang, same_site_path(next_path))
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return secure(response, lang)


def install(app: FastAPI, services: Services) -> None:
    """The portal on ``app``: its pages in ``app.state.portal_pages`` (what the handlers
    get as ``pages: PortalPagesDep``) and its routes; ``create_app`` mounts
    :data:`STATIC_DIR` at ``/static``.

    Every page's router is module-level: its routes are the process's shared ones
    (:mod:`securelogin.entrypoints.web.routing`)."""
    app.state.portal_pages = Pages(environment(), services.random)
    add_shared(
        app,
        router,
        verify.router,
        account.router,
        withdraw.router,
        mobile_key.router,
        passkeys.router,
        settings.router,
        lifecycle.router,
    )
