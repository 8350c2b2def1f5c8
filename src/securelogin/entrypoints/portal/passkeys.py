"""Client Portal pages of passkeys (issue 16 §2): ``/portal/settings/passkeys`` lists the
user's passkeys, adds one (``/static/passkey.js`` asks the browser; without script the
page still lists and removes) and removes one.  Every POST checks CSRF; each handler calls
one service function (``service/login/passkeys.py``) and turns its errors into words."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.portal.site import ANSWER_MAX, PortalPagesDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import CsrfField, Message, page_language, redirect
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.login import passkeys
from securelogin.service.sessions import CurrentSession

PASSKEYS_PATH = "/portal/settings/passkeys"
OPTIONS_PATH = PASSKEYS_PATH + "/options"
DONE = ("added", "removed")
ERRORS = (
    "passkey_rejected",
    "passkey_ceremony_closed",
    "device_login_required",
    "passkey_not_found",
)
FULL = {AccessLevel.FULL}


def error_words(exc: SecureLoginError) -> Message:
    key = exc.code if exc.code in ERRORS else "generic"
    return Message(tone="error", key=f"passkeys.error.{key}")


def _area(services: ServicesDep, pages: PortalPagesDep) -> AccountPages:
    """The passkeys' account pages (made per request: a few attributes); the menu lights
    up the security settings."""
    return AccountPages(services, pages, here="/portal/settings")


Area = Annotated[AccountPages, Depends(_area)]


router = APIRouter(include_in_schema=False)


def page(
    services: Services,
    area: AccountPages,
    request: Request,
    current: CurrentSession,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
) -> HTMLResponse:
    return area.render(
        request,
        current,
        "passkeys.html",
        status_code=status_code,
        messages=messages,
        passkeys=passkeys.list_passkeys(services, current),
    )


@router.get(PASSKEYS_PATH, response_class=HTMLResponse)
def show(request: Request, services: ServicesDep, area: Area) -> Response:
    done = request.query_params.get("done", "")
    messages = (Message(tone="info", key=f"passkeys.done.{done}"),) if done in DONE else ()
    return area.show(
        request, FULL, lambda current: page(services, area, request, current, messages=messages)
    )


@router.post(OPTIONS_PATH)
def options(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    label: Annotated[str, Form()] = "",
) -> Response:
    """The creation options for the page's script (JSON), or a problem."""
    current = area.form_session(request, FULL, token)
    if isinstance(current, Response):
        return current
    try:
        started = passkeys.start_registration(services, current, label=label[:200])
    except SecureLoginError as exc:
        return JSONResponse({"code": exc.code}, status_code=422)
    return JSONResponse(
        {"registration_id": started.registration_id, "options": dict(started.options)}
    )


@router.post(PASSKEYS_PATH, response_class=HTMLResponse)
def add(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    registration_id: Annotated[str, Form()] = "",
    credential: Annotated[str, Form()] = "",
) -> Response:
    lang = page_language(request)
    return area.submit(
        request,
        FULL,
        token,
        lambda current: passkeys.finish_registration(
            services,
            current,
            registration_id=registration_id[:64],
            credential=credential[:ANSWER_MAX],
        ),
        refused=lambda current, exc: page(
            services, area, request, current, status_code=422, messages=(error_words(exc),)
        ),
        done=lambda _c, _v: redirect(request, lang, f"{PASSKEYS_PATH}?done=added"),
    )


@router.post(PASSKEYS_PATH + "/{device_id}/remove", response_class=HTMLResponse)
def remove(
    request: Request, services: ServicesDep, area: Area, device_id: str, token: CsrfField = ""
) -> Response:
    lang = page_language(request)
    return area.submit(
        request,
        FULL,
        token,
        lambda current: passkeys.remove_passkey(services, current, device_id=device_id),
        refused=lambda current, exc: page(
            services, area, request, current, status_code=422, messages=(error_words(exc),)
        ),
        done=lambda _c, _v: redirect(request, lang, f"{PASSKEYS_PATH}?done=removed"),
    )
