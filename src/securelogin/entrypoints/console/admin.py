"""Admin pages of the console (role ``admin``, issue 6): the operators.

``/console/operators`` lists every operator with roles and state and has the form that
creates one; each row has the actions disable, reset TOTP and unlock.  Creating an
operator and resetting a TOTP answer with a page that shows the new secret once — as an
``otpauth://`` URI, in base32 and as an inline SVG QR code (segno, drawn on the server:
no script, no CDN) — never in a URL or a redirect.  Each POST checks the console's CSRF
token, calls one function of :mod:`securelogin.service.operators.operators` acting as the admin
(which checks the role and audits as ``operator:<name>``) and maps errors to words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.web import (
    ConsolePages,
    ConsolePagesDep,
    MenuItem,
    Message,
    error_message,
    when,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.i18n import EN
from securelogin.entrypoints.web.pages import CsrfField
from securelogin.errors import InvalidInput, SecureLoginError
from securelogin.service.context import Services
from securelogin.service.operators import operators

PATH = "/console/operators"
MENU = (MenuItem(role=Role.ADMIN, path=PATH, key="console.admin", text_key="console.admin.text"),)
#: ``?done=`` values an admin redirect may ask for
DONE: dict[str, Message] = {
    "disabled": Message(tone="info", key="console.admin.done.disabled"),
    "unlocked": Message(tone="info", key="console.admin.done.unlocked"),
}
#: HTTP status of a refused action, by error code (the rest: 422)
STATUS = {
    "access_denied": 403,
    "not_found": 404,
    "conflict": 409,
    "not_locked": 409,
    "cannot_disable_self": 409,
}
#: the fields of ``invalid_input`` that have words of their own
FIELDS = ("username", "password", "role")
PASSWORD_MAX = 128

T = TypeVar("T")

Username = Annotated[str, Form()]


def qr_svg(text: str) -> Markup:
    """The otpauth URI as an inline SVG QR code, for the authenticator app's camera."""
    svg = segno.make(text, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG of our URI, no user markup


def admin_message(exc: SecureLoginError) -> Message:
    """Words for the field of an ``invalid_input``, then ``console.admin.error.<code>``
    (an operator, not a device or a user), else ``console.error.<code>``."""
    if isinstance(exc, InvalidInput) and exc.field in FIELDS:
        return Message(tone="error", key=f"console.admin.error.{exc.field}")
    key = f"console.admin.error.{exc.code}"
    if key in EN:
        return Message(tone="error", key=key)
    return error_message(exc)


router = APIRouter()


def overview(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
    new_username: str = "",
    new_roles: frozenset[str] = frozenset(),
) -> Response:
    return pages.render(
        request,
        "console/operators.html",
        operator=operator,
        status_code=status_code,
        messages=messages,
        operators=operators.list_operators(services, acting=operator),
        roles=[r.value for r in Role],
        new_username=new_username[:64],
        new_roles=new_roles,
        password_max=PASSWORD_MAX,
        when=when,
    )


def refused(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    exc: SecureLoginError,
    *,
    new_username: str = "",
    new_roles: frozenset[str] = frozenset(),
) -> Response:
    return overview(
        services,
        pages,
        request,
        operator,
        status_code=STATUS.get(exc.code, 422),
        messages=(admin_message(exc),),
        new_username=new_username,
        new_roles=new_roles,
    )


def secret_page(
    pages: ConsolePages,
    request: Request,
    operator: Operator | None,
    enrolled: operators.OperatorEnrolled,
    heading: str,
) -> Response:
    return pages.render(
        request,
        "console/operator_secret.html",
        operator=operator,
        heading=heading,
        enrolled=enrolled,
        qr=qr_svg(enrolled.otpauth_uri),
    )


def back(pages: ConsolePages, request: Request, done: str) -> Response:
    return pages.redirect(request, f"{PATH}?{urlencode({'done': done})}")


@router.get(PATH, response_class=HTMLResponse)
def listing(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    done: Annotated[str, Query()] = "",
) -> Response:
    operator = pages.operator(request, Role.ADMIN)
    if isinstance(operator, Response):
        return operator
    return overview(
        services, pages, request, operator, messages=(DONE[done],) if done in DONE else ()
    )


def act(
    services: Services,
    pages: ConsolePages,
    request: Request,
    token: str,
    action: Callable[[Operator], T],
    done: Callable[[Operator, T], Response],
    *,
    new_username: str = "",
    new_roles: frozenset[str] = frozenset(),
) -> Response:
    """CSRF, one call of :mod:`securelogin.service.operators.operators` acting as the admin,
    then ``done``; a refusal shows the list again with its words and status."""
    return pages.submit(
        request,
        Role.ADMIN,
        token,
        action,
        refused=lambda operator, exc: refused(
            services, pages, request, operator, exc, new_username=new_username, new_roles=new_roles
        ),
        done=done,
    )


@router.post(f"{PATH}/create", response_class=HTMLResponse)
def create(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[list[str] | None, Form()] = None,
) -> Response:
    chosen = frozenset(role or ())

    def create_one(operator: Operator) -> operators.OperatorEnrolled:
        return operators.create_operator(
            services,
            username=username[:64],
            password=password[:PASSWORD_MAX],
            roles=operators.parse_roles(chosen),
            acting=operator,
        )

    return act(
        services,
        pages,
        request,
        token,
        create_one,
        lambda operator, enrolled: secret_page(
            pages, request, operator, enrolled, "console.admin.created.heading"
        ),
        new_username=username,
        new_roles=chosen,
    )


@router.post(f"{PATH}/disable", response_class=HTMLResponse)
def disable(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        lambda operator: operators.disable_operator(services, username, acting=operator),
        lambda _operator, _result: back(pages, request, "disabled"),
    )


@router.post(f"{PATH}/reset-totp", response_class=HTMLResponse)
def reset_totp(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
) -> Response:
    def shown(operator: Operator, enrolled: operators.OperatorEnrolled) -> Response:
        # an admin resetting their own TOTP ended their own session: no menu, log in again
        shown_to = None if enrolled.operator.id == operator.id else operator
        return secret_page(pages, request, shown_to, enrolled, "console.admin.reset.heading")

    return act(
        services,
        pages,
        request,
        token,
        lambda operator: operators.reset_operator_totp(services, username, acting=operator),
        shown,
    )


@router.post(f"{PATH}/unlock", response_class=HTMLResponse)
def unlock(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        lambda operator: operators.unlock_operator(services, username, acting=operator),
        lambda _operator, _result: back(pages, request, "unlocked"),
    )
