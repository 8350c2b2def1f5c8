"""Console login (username + password, then the operator's TOTP code), logout, home.

Failures read like the portal's (R-LOGIN-10): "Invalid username or password" after the
password step, "Login failed" after the code step or when locked.  The session token is
replaced when the TOTP step succeeds, and the CSRF token with it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.entrypoints.console.web import (
    CONSOLE_COOKIE,
    CONSOLE_LOGIN_COOKIE,
    CONSOLE_PATH,
    LOGIN_PATH,
    TOTP_PATH,
    ConsolePages,
    ConsolePagesDep,
    Message,
    csrf_ok,
    notices,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import (
    CsrfField,
    clear_private_cookie,
    set_private_cookie,
)
from securelogin.errors import InvalidCredentials, Locked, LoginFailed, Unauthenticated
from securelogin.service.operators import operators

INVALID = (Message(tone="error", key="login.invalid_credentials"),)
FAILED = (Message(tone="error", key="login.failed"),)
#: longer input is wrong anyway; the cut keeps a pasted novel out of Argon2
FIELD_MAX = 128


router = APIRouter()


@router.get(CONSOLE_PATH, response_class=HTMLResponse)
def home(request: Request, pages: ConsolePagesDep) -> Response:
    operator = pages.operator(request)
    if isinstance(operator, Response):
        return operator
    roles = sorted(r.value for r in operator.roles)  # the page names them in its language
    return pages.render(request, "console/home.html", operator=operator, roles=roles)


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_form(request: Request, pages: ConsolePagesDep) -> Response:
    return pages.render(
        request, "console/login.html", operator=None, username="", messages=notices(request)
    )


@router.post(LOGIN_PATH, response_class=HTMLResponse)
def login(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, None)
    name = username[:64]
    try:
        pending = operators.start_console_login(
            services, username=name, password=password[:FIELD_MAX]
        )
    except InvalidCredentials:
        return _login_page(pages, request, name, INVALID)
    except Locked:
        return _login_page(pages, request, name, FAILED)
    response = pages.redirect(request, TOTP_PATH)
    set_private_cookie(response, request, CONSOLE_LOGIN_COOKIE, pending, path=LOGIN_PATH)
    return response


def _login_page(
    pages: ConsolePages, request: Request, username: str, messages: tuple[Message, ...]
) -> Response:
    return pages.render(
        request,
        "console/login.html",
        operator=None,
        status_code=401,
        username=username,
        messages=messages,
    )


@router.get(TOTP_PATH, response_class=HTMLResponse)
def totp_form(request: Request, pages: ConsolePagesDep) -> Response:
    if not request.cookies.get(CONSOLE_LOGIN_COOKIE):
        return pages.redirect(request, LOGIN_PATH)
    return pages.render(request, "console/totp.html", operator=None)


@router.post(TOTP_PATH, response_class=HTMLResponse)
def totp(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    code: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, None)
    pending = request.cookies.get(CONSOLE_LOGIN_COOKIE, "")
    try:
        grant = operators.answer_console_totp(services, pending, code[:16])
    except Unauthenticated:
        response = pages.redirect(request, LOGIN_PATH, notice="expired")
        clear_private_cookie(response, request, CONSOLE_LOGIN_COOKIE, path=LOGIN_PATH)
        return response
    except (LoginFailed, Locked):
        return pages.render(
            request, "console/totp.html", operator=None, status_code=401, messages=FAILED
        )
    return pages.start_session(request, grant.token)


@router.post("/console/logout")
def logout(
    request: Request, services: ServicesDep, pages: ConsolePagesDep, token: CsrfField = ""
) -> Response:
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, None)
    current = request.cookies.get(CONSOLE_COOKIE)
    if current:
        operators.logout_operator(services, current)
    response = pages.redirect(request, LOGIN_PATH, notice="logged_out")
    clear_private_cookie(response, request, CONSOLE_COOKIE, path=CONSOLE_PATH)
    return response
