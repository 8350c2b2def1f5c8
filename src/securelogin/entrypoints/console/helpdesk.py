"""Helpdesk pages of the console (R-OPS-1, R-LOST-1, R-LOGIN-3, R-LOGIN-9).

``/console/helpdesk`` finds a user (``?username=``) and shows devices, lock state and
recent identity checks, with the forms of the actions.  Each POST checks CSRF, calls one
service function of :mod:`securelogin.service.operators.helpdesk` and maps its errors to a message
(STYLE.md rule 2).  The temporary code is rendered once in the answer to its POST, never
put in a URL or a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

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
from securelogin.entrypoints.web.pages import CsrfField
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.operators import helpdesk

PATH = "/console/helpdesk"
MENU = (
    MenuItem(
        role=Role.HELPDESK, path=PATH, key="console.helpdesk", text_key="console.helpdesk.text"
    ),
)
#: ``?done=`` values a helpdesk redirect may ask for
DONE: dict[str, Message] = {
    "verified": Message(tone="info", key="console.helpdesk.done.verified"),
    "unlocked": Message(tone="info", key="console.helpdesk.done.unlocked"),
    "marked": Message(tone="info", key="console.helpdesk.done.marked"),
    "charged": Message(tone="info", key="console.helpdesk.done.charged"),
}
#: HTTP status of a refused action, by error code (the rest: 422)
STATUS = {
    "access_denied": 403,
    "identity_not_verified": 403,
    "user_not_found": 404,
    "temporary_code_in_a_row": 409,
    "device_not_active": 409,
    "not_locked": 409,
}

T = TypeVar("T")

Username = Annotated[str, Form()]


router = APIRouter()


def user_page(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    username: str,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
) -> Response:
    case = None
    if username:
        try:
            case = helpdesk.find_user(services, operator, username=username)
        except SecureLoginError as exc:
            messages = (*messages, error_message(exc))
            status_code = max(status_code, STATUS.get(exc.code, 422))
    return pages.render(
        request,
        "console/helpdesk.html",
        operator=operator,
        status_code=status_code,
        messages=messages,
        username=username[:64],
        case=case,
        methods=[m.value for m in helpdesk.VerificationMethod],
        lost_states=[s.value for s in helpdesk.LostState],
        when=when,
    )


def back(pages: ConsolePages, request: Request, username: str, done: str) -> Response:
    return pages.redirect(request, f"{PATH}?{urlencode({'username': username, 'done': done})}")


def refused(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    username: str,
    exc: SecureLoginError,
) -> Response:
    return user_page(
        services,
        pages,
        request,
        operator,
        username,
        status_code=STATUS.get(exc.code, 422),
        messages=(error_message(exc),),
    )


@router.get(PATH, response_class=HTMLResponse)
def lookup(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    username: Annotated[str, Query()] = "",
    done: str = "",
) -> Response:
    operator = pages.operator(request, Role.HELPDESK)
    if isinstance(operator, Response):
        return operator
    messages = (DONE[done],) if done in DONE else ()
    return user_page(services, pages, request, operator, username.strip(), messages=messages)


def act(
    services: Services,
    pages: ConsolePages,
    request: Request,
    token: str,
    username: str,
    action: Callable[[Operator], T],
    done: Callable[[Operator, T], Response],
) -> Response:
    """CSRF, one helpdesk call, then ``done``; a refusal shows the user's page again."""
    return pages.submit(
        request,
        Role.HELPDESK,
        token,
        action,
        refused=lambda operator, exc: refused(services, pages, request, operator, username, exc),
        done=done,
    )


def back_with(
    pages: ConsolePages, request: Request, username: str, done: str
) -> Callable[[Operator, object], Response]:
    return lambda _operator, _result: back(pages, request, username, done)


@router.post(f"{PATH}/verify", response_class=HTMLResponse)
def verify(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
    method: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        username,
        lambda operator: helpdesk.verify_identity(
            services, operator, username=username, method=method, note=note
        ),
        back_with(pages, request, username, "verified"),
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
        username,
        lambda operator: helpdesk.unlock_login(services, operator, username=username),
        back_with(pages, request, username, "unlocked"),
    )


@router.post(f"{PATH}/temporary-code", response_class=HTMLResponse)
def temporary_code(
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
        username,
        lambda operator: helpdesk.issue_temporary_code(services, operator, username=username),
        # the code is shown once, in the answer to this POST, never in a URL
        lambda operator, issued: pages.render(
            request,
            "console/helpdesk_code.html",
            operator=operator,
            issued=issued,
            when=when,
        ),
    )


@router.post(f"{PATH}/mark", response_class=HTMLResponse)
def mark(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    username: Username = "",
    device_id: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        username,
        lambda operator: helpdesk.mark_device(
            services, operator, username=username, device_id=device_id, state=state
        ),
        # R-RETURN-3: say so when the report took the device's deposit
        lambda _operator, reported: back(
            pages, request, username, "charged" if reported.deposit_charged_cents else "marked"
        ),
    )
