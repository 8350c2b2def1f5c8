"""What the account pages' handlers share (settings, withdrawals, lifecycle pages).

A page of the account area renders with the user's name and menu (:meth:`AccountPages.render`);
a form POST first finds the session allowed to see the page, then checks the CSRF token
(:meth:`AccountPages.form_session`), then calls one service function and answers with a
page or a redirect (:meth:`AccountPages.submit`).  Entry points only translate
(STYLE.md rule 2): no rule lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.account import MENUS, session_for
from securelogin.entrypoints.web.pages import Message, Pages, csrf_ok, page_language
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.login import me
from securelogin.service.sessions import CurrentSession

T = TypeVar("T")


class AccountPages:
    """The account area's pages of one feature: the session, CSRF and the frame.

    ``here`` is the menu entry the feature's pages light up (a page may name another);
    ``always`` is context every page of the feature gets (e.g. a formatting function).
    """

    def __init__(
        self, services: Services, pages: Pages, *, here: str = "/", **always: object
    ) -> None:
        self.services = services
        self.pages = pages
        self.here = here
        self.always = always

    def render(
        self,
        request: Request,
        current: CurrentSession,
        template: str,
        *,
        here: str | None = None,
        status_code: int = 200,
        messages: Iterable[Message] = (),
        **context: object,
    ) -> HTMLResponse:
        """A page with the user's name and the menu of their access level."""
        return self.pages.render(
            request,
            template,
            page_language(request),
            status_code=status_code,
            here=here or self.here,
            messages=messages,
            me=me.describe_me(self.services, current),
            menu=MENUS.get(current.access_level, ()),
            **{**self.always, **context},
        )

    def show(
        self,
        request: Request,
        allowed: Collection[AccessLevel],
        page: Callable[[CurrentSession], Response],
    ) -> Response:
        """A GET: ``page`` for the session when its level is allowed, else where to go."""
        current = session_for(self.services, request, allowed)
        return current if isinstance(current, Response) else page(current)

    def form_session(
        self,
        request: Request,
        allowed: Collection[AccessLevel],
        token: str,
        *,
        csrf_first: bool = False,
    ) -> CurrentSession | Response:
        """The session behind a form POST when its level is allowed and the form carries
        this browser's CSRF token; else the response to return as it is (the login page,
        the landing page of the level, or the 403 of a stale form).  ``csrf_first``
        checks the token before the session (the withdrawal pages do)."""
        if csrf_first and not csrf_ok(request, token):
            return self.pages.csrf_refused(request, page_language(request))
        current = session_for(self.services, request, allowed)
        if isinstance(current, Response):
            return current
        if not csrf_first and not csrf_ok(request, token):
            return self.pages.csrf_refused(request, page_language(request))
        return current

    def submit(
        self,
        request: Request,
        allowed: Collection[AccessLevel],
        token: str,
        action: Callable[[CurrentSession], T],
        *,
        refused: Callable[[CurrentSession, SecureLoginError], Response],
        done: Callable[[CurrentSession, T], Response],
    ) -> Response:
        """One form POST: :meth:`form_session`, then ``action`` (one service call); its
        error goes to ``refused`` (the page again with the words), its result to ``done``
        (a page or a 303)."""
        current = self.form_session(request, allowed, token)
        if isinstance(current, Response):
            return current
        try:
            result = action(current)
        except SecureLoginError as exc:
            return refused(current, exc)
        return done(current, result)
