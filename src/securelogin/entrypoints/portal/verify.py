"""The second-factor pages of a portal login (R-LOGIN-4/5/6/10).

The login in progress is named only by the HttpOnly, SameSite=Strict cookie ``sl_login``
(path ``/login``), never by the URL or a form field, so that no page can be made to
answer somebody else's login. Every POST carries the CSRF token and ends in a 303
redirect (post/redirect/get): reloading a page never sends an answer twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.devices.base import PromptType
from securelogin.entrypoints.oidc.handoff import after_login
from securelogin.entrypoints.portal import account
from securelogin.entrypoints.portal.prompts import prompt_page
from securelogin.entrypoints.portal.site import (
    ANSWER_MAX,
    LOGIN_COOKIE,
    LOGIN_COOKIE_PATH,
    SESSION_COOKIE,
    PortalPagesDep,
    notices,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import (
    CSRF_COOKIE,
    CsrfField,
    Pages,
    clear_private_cookie,
    csrf_ok,
    page_language,
    redirect,
    set_private_cookie,
)
from securelogin.errors import (
    AlreadyUsed,
    Locked,
    LoginClosed,
    LoginExpired,
    LoginFailed,
    SecureLoginError,
    TooManyCodes,
    UnknownDevice,
    UnknownLogin,
)
from securelogin.service.login import login
from securelogin.service.login.login import LoginStatus
from securelogin.service.sessions import SessionGrant

VERIFY_PATH = "/login/verify"
#: the push wait page reloads itself this often (an HTTP ``Refresh`` header, no script)
PUSH_REFRESH_SECONDS = 2
#: a login that can no longer be answered: the person starts again from the login form
GONE = (LoginExpired, LoginClosed, UnknownLogin)

T = TypeVar("T")
#: where an error sends the browser: a redirect maker and its notice
Outcome = tuple[Callable[[Request, str], Response], str]


def back_to_login(request: Request, notice: str) -> Response:
    """To the login form with a notice; the finished login's cookie is forgotten."""
    response = redirect(request, page_language(request), "/", notice=notice)
    clear_private_cookie(response, request, LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
    return response


def to_verify(request: Request, notice: str | None = None) -> Response:
    return redirect(request, page_language(request), VERIFY_PATH, notice=notice)


#: a login that is gone: back to the login form, "expired"
GONE_OUTCOMES: dict[type[SecureLoginError], Outcome] = {
    gone: (back_to_login, "expired") for gone in GONE
}


def logged_in(request: Request, grant: SessionGrant) -> Response:
    """The session cookie, and on to the landing page of the session's access level."""
    landing = account.landing_for(grant.access_level)
    done = redirect(request, page_language(request), after_login(request, landing))
    clear_private_cookie(done, request, LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
    clear_private_cookie(done, request, CSRF_COOKIE)  # a new token once logged in
    set_private_cookie(done, request, SESSION_COOKIE, grant.token)
    return done


router = APIRouter(include_in_schema=False)


@router.get(VERIFY_PATH, response_class=HTMLResponse)
def show(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """The current challenge of the browser's login, and the device picker."""
    login_id = request.cookies.get(LOGIN_COOKIE)
    if not login_id:
        return back_to_login(request, "expired")
    try:
        state = login.login_state(services, login_id)
        choices = login.login_devices(services, login_id) if state.factor else []
    except GONE:
        return back_to_login(request, "expired")
    if state.status == LoginStatus.DENIED:
        return back_to_login(request, "failed")
    if state.status == LoginStatus.AUTHENTICATED and state.session is not None:
        return logged_in(request, state.session)  # the push was approved (R-KEY-4)
    if state.status != LoginStatus.CHALLENGE or state.factor is None:
        return back_to_login(request, "expired")
    page = pages.render(
        request,
        "verify.html",
        page_language(request),
        here=VERIFY_PATH,
        messages=notices(request),
        prompt=prompt_page(state.factor),
        choices=choices if len(choices) > 1 else [],
    )
    if state.factor.prompt.type is PromptType.PUSH:
        page.headers["Refresh"] = str(PUSH_REFRESH_SECONDS)  # works without JavaScript
    return page


def on_login(
    pages: Pages,
    request: Request,
    token: str,
    action: Callable[[str], T],
    *,
    done: Callable[[T], Response],
    refused: Mapping[type[SecureLoginError], Outcome] | None = None,
) -> Response:
    """A POST about the browser's login: the CSRF token, the login cookie, then one
    service call; an error in ``refused`` goes where it says, a login that is gone
    goes back to the login form."""
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, page_language(request))
    login_id = request.cookies.get(LOGIN_COOKIE)
    if not login_id:
        return back_to_login(request, "expired")
    try:
        result = action(login_id)
    except SecureLoginError as exc:
        for error, (go, notice) in {**(refused or {}), **GONE_OUTCOMES}.items():
            if isinstance(exc, error):
                return go(request, notice)
        raise
    return done(result)


@router.post(VERIFY_PATH)
def answer(
    request: Request,
    services: ServicesDep,
    pages: PortalPagesDep,
    token: CsrfField = "",
    response: Annotated[str, Form()] = "",
    response_2: Annotated[str, Form()] = "",
) -> Response:
    """The answer (a card's two values are joined); a session on success."""
    return on_login(
        pages,
        request,
        token,
        lambda login_id: login.answer_login(
            services, login_id, (response + response_2)[:ANSWER_MAX]
        ),
        refused={
            LoginFailed: (to_verify, "failed"),
            AlreadyUsed: (to_verify, "failed"),
            Locked: (back_to_login, "failed"),
        },
        done=lambda grant: logged_in(request, grant),
    )


@router.post("/login/fallback")
def fallback(
    request: Request, services: ServicesDep, pages: PortalPagesDep, token: CsrfField = ""
) -> Response:
    """R-LOGIN-5 "Click here if you do not receive the notification": the mobile
    key's challenge; the push stays valid until one of them succeeds."""
    return on_login(
        pages,
        request,
        token,
        lambda login_id: login.fallback_challenge(services, login_id),
        done=lambda _: to_verify(request),
    )


@router.post("/login/resend")
def resend(
    request: Request, services: ServicesDep, pages: PortalPagesDep, token: CsrfField = ""
) -> Response:
    """A new SMS code; the old one stops working (R-LOGIN-3: counters stay)."""
    return on_login(
        pages,
        request,
        token,
        lambda login_id: login.resend_code(services, login_id),
        refused={TooManyCodes: (to_verify, "too_many_codes")},
        done=lambda _: to_verify(request, "resent"),
    )


@router.post("/login/device")
def switch(
    request: Request,
    services: ServicesDep,
    pages: PortalPagesDep,
    token: CsrfField = "",
    device_id: Annotated[str, Form()] = "",
) -> Response:
    """Answer with another of the user's active devices (R-LOGIN-4)."""
    return on_login(
        pages,
        request,
        token,
        lambda login_id: login.switch_device(services, login_id, device_id),
        refused={UnknownDevice: (to_verify, "failed"), LoginFailed: (to_verify, "failed")},
        done=lambda _: to_verify(request),
    )
