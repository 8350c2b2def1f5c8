"""The console framework: templates, words, CSRF, the operator behind a request, menus.

Every console page module uses only this module (see the package docstring for how to
add one).  It builds on the web kit the portal uses too (:mod:`securelogin.entrypoints.web`):
the same security headers, the same double-submit CSRF scheme, the same language
negotiation.  The console keeps cookies of its own, all HttpOnly and SameSite=Strict, so
that it never touches the portal's (an open portal tab keeps working after a console
login in the same browser): the CSRF token in ``sl_console_csrf`` (path ``/console``),
the session in ``sl_console`` (path ``/console``), the login waiting for its TOTP code
in ``sl_console_login`` (path ``/console/login``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.web.i18n import CATALOGUES, EN, translate
from securelogin.entrypoints.web.pages import (
    Message,
    Pages,
    clear_private_cookie,
    csrf_matches,
    page_language,
    redirect,
    set_private_cookie,
    template_environment,
)
from securelogin.errors import SecureLoginError, Unauthenticated
from securelogin.service.context import Services
from securelogin.service.operators import operators

__all__ = [
    "CONSOLE_COOKIE",
    "CONSOLE_CSRF_COOKIE",
    "CONSOLE_PATH",
    "ConsolePages",
    "MenuItem",
    "Message",
    "csrf_ok",
    "error_message",
    "when",
]

T = TypeVar("T")

TEMPLATES_DIR = Path(__file__).with_name("templates")
CONSOLE_PATH = "/console"
LOGIN_PATH = "/console/login"
TOTP_PATH = "/console/login/totp"
#: the console session's token (an active session only)
CONSOLE_COOKIE = "sl_console"
#: the console login waiting for its TOTP code; only the login routes read it
CONSOLE_LOGIN_COOKIE = "sl_console_login"
#: the console's double-submit CSRF token (never the portal's ``sl_csrf``)
CONSOLE_CSRF_COOKIE = "sl_console_csrf"

#: ``?notice=CODE`` values a console redirect may ask for (nothing else is shown)
NOTICES: dict[str, tuple[Message, ...]] = {
    "logged_out": (Message(tone="info", key="console.notice.logged_out"),),
    "session_ended": (Message(tone="info", key="console.notice.session_ended"),),
    "expired": (Message(tone="info", key="console.notice.login_expired"),),
}


@dataclass(frozen=True, kw_only=True)
class MenuItem:
    """One entry of the console menu and home page, shown to operators with ``role``
    (admins see everything); ``key`` and ``text_key`` name words in words/console.py."""

    role: Role
    path: str
    key: str
    text_key: str


def environment() -> Environment:
    """Console templates (``console/…``) first, then the web kit's (``_messages.html``)."""
    return template_environment(TEMPLATES_DIR)


def when(at: datetime | None) -> str:
    """A time as the console's tables show it (UTC, to the minute); ``—`` for none."""
    return "—" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def error_message(exc: SecureLoginError) -> Message:
    """``console.error.<code>`` when the catalogue has words for it, else a generic line."""
    key = f"console.error.{exc.code}"
    return Message(tone="error", key=key if key in EN else "console.error.generic")


def csrf_ok(request: Request, field: str) -> bool:
    """The console form's token matches the console's CSRF cookie (constant time)."""
    return csrf_matches(request.cookies.get(CONSOLE_CSRF_COOKIE), field)


def notices(request: Request) -> tuple[Message, ...]:
    return NOTICES.get(request.query_params.get("notice", ""), ())


class ConsolePages:
    """Renders console pages and finds the operator behind a request."""

    def __init__(self, services: Services, menu: Sequence[MenuItem]) -> None:
        self.services = services
        self.menu = tuple(menu)
        self._pages = Pages(
            environment(), services.random, csrf_cookie=CONSOLE_CSRF_COOKIE, csrf_path=CONSOLE_PATH
        )

    def language(self, request: Request) -> str:
        return page_language(request)

    def menu_for(self, operator: Operator | None) -> list[MenuItem]:
        if operator is None:
            return []
        return [m for m in self.menu if operator.has(m.role)]

    def render(
        self,
        request: Request,
        template: str,
        *,
        operator: Operator | None,
        status_code: int = 200,
        messages: Iterable[Message] = (),
        **context: object,
    ) -> HTMLResponse:
        """A console page (``console/….html`` extending ``console/base.html``)."""
        return self._pages.render(
            request,
            template,
            self.language(request),
            status_code=status_code,
            # the language switch returns here: a page answering a POST goes home instead
            here=request.url.path if request.method == "GET" else CONSOLE_PATH,
            messages=messages,
            operator=operator,
            menu=self.menu_for(operator),
            **context,
        )

    def refused(self, request: Request, operator: Operator | None, key: str) -> HTMLResponse:
        """403 page: a stale form (CSRF) or a role the operator lacks."""
        return self.render(
            request,
            "console/error.html",
            operator=operator,
            status_code=403,
            message=translate(self.language(request), key),
        )

    def csrf_refused(self, request: Request, operator: Operator | None) -> HTMLResponse:
        return self.refused(request, operator, "console.error.csrf")

    def redirect(self, request: Request, path: str, *, notice: str | None = None) -> Response:
        return redirect(request, self.language(request), path, notice=notice)

    def operator(self, request: Request, role: Role | None = None) -> Operator | Response:
        """The logged-in operator when they hold ``role`` (``None``: any operator).

        Returns a response instead when there is none (redirect to the console login) or
        the role is missing (403 ``access_denied``); the handler returns it as it is::

            operator = pages.operator(request, Role.LOGISTICS)
            if isinstance(operator, Response):
                return operator
        """
        token = request.cookies.get(CONSOLE_COOKIE)
        if not token:
            return self.redirect(request, LOGIN_PATH)
        try:
            current = operators.authenticate_operator(self.services, token)
        except Unauthenticated:
            response = self.redirect(request, LOGIN_PATH, notice="session_ended")
            clear_private_cookie(response, request, CONSOLE_COOKIE, path=CONSOLE_PATH)
            return response
        if role is not None and not current.has(role):
            return self.refused(request, current, "console.error.access_denied")
        return current

    def form_operator(self, request: Request, role: Role, token: str) -> Operator | Response:
        """The operator behind a form POST: :meth:`operator`, then the console CSRF token
        (a stale or forged form gets the 403 page).  Returns a response to return as it is
        instead."""
        operator = self.operator(request, role)
        if isinstance(operator, Response):
            return operator
        if not csrf_ok(request, token):
            return self.csrf_refused(request, operator)
        return operator

    def submit(
        self,
        request: Request,
        role: Role,
        token: str,
        action: Callable[[Operator], T],
        *,
        refused: Callable[[Operator, SecureLoginError], Response],
        done: Callable[[Operator, T], Response],
    ) -> Response:
        """One form POST: :meth:`form_operator`, then ``action`` (one service call); its
        error goes to ``refused`` (the page again with the words), its result to ``done``
        (usually a 303 with a notice)::

            return pages.submit(
                request, Role.LOGISTICS, token,
                lambda operator: logistics.ship(services, operator, serial=serial),
                refused=lambda operator, exc: page(request, operator, status_code=422, …),
                done=lambda operator, _: pages.redirect(request, PATH),
            )
        """
        operator = self.form_operator(request, role, token)
        if isinstance(operator, Response):
            return operator
        try:
            result = action(operator)
        except SecureLoginError as exc:
            return refused(operator, exc)
        return done(operator, result)

    def start_session(self, request: Request, token: str) -> Response:
        """After the TOTP step: the session cookie, and a new console CSRF token (the
        portal's ``sl_csrf`` is left alone)."""
        response = self.redirect(request, CONSOLE_PATH)
        set_private_cookie(response, request, CONSOLE_COOKIE, token, path=CONSOLE_PATH)
        clear_private_cookie(response, request, CONSOLE_LOGIN_COOKIE, path=LOGIN_PATH)
        clear_private_cookie(response, request, CONSOLE_CSRF_COOKIE, path=CONSOLE_PATH)
        return response


def console_pages(request: Request) -> ConsolePages:
    """The app's console pages (:func:`securelogin.entrypoints.console.routes.install`
    keeps them in ``app.state.console_pages``)."""
    pages: ConsolePages = request.app.state.console_pages
    return pages


#: a handler's parameter: ``pages: ConsolePagesDep``
ConsolePagesDep = Annotated[ConsolePages, Depends(console_pages)]


def words_complete() -> bool:
    """Both catalogues carry every console key (used by the tests)."""
    keys = {k for k in EN if k.startswith("console.")}
    return all(keys <= set(c) for c in CATALOGUES.values())
