"""What the portal's pages share beyond the web kit (:mod:`securelogin.entrypoints.web`):
its templates and static files, the login's and the session's cookies, the login form and
the notices a redirect may ask a portal page to show.

The login in progress and the session travel in HttpOnly, SameSite=Strict cookies
(``sl_login``, ``sl_session``), never in a URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from securelogin.entrypoints.web.pages import Message, Pages, template_environment

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES_DIR = Path(__file__).with_name("templates")

#: the login in progress (its id); only the second-factor routes under /login read it
LOGIN_COOKIE = "sl_login"
LOGIN_COOKIE_PATH = "/login"
#: the session token; every page under /portal reads it
SESSION_COOKIE = "sl_session"
USERNAME_MAX = 64
PASSWORD_MAX = 128
#: longer answers are wrong anyway; the cut keeps a pasted novel out of the services
RESPONSE_MAX = 64
#: a passkey's answer is the JSON text of its assertion (the longest answer a form sends)
ANSWER_MAX = 8192

#: The messages a redirect may ask the next page to show (``?notice=CODE``). Only these
#: codes are honoured, so a link cannot put words of its own on a page.
NOTICES: dict[str, tuple[Message, ...]] = {
    "expired": (Message(tone="info", key="notice.login_expired"),),
    "logged_out": (Message(tone="info", key="notice.logged_out"),),
    "session_ended": (Message(tone="info", key="notice.session_ended"),),
    "failed": (
        Message(tone="error", key="login.failed"),
        Message(tone="info", key="login.failed_help"),
    ),
    "no_device": (
        Message(tone="error", key="login.failed"),
        Message(tone="info", key="login.no_device"),
    ),
    "resent": (Message(tone="info", key="verify.sms.resent"),),
    "too_many_codes": (Message(tone="error", key="verify.sms.too_many"),),
}


def notices(request: Request) -> tuple[Message, ...]:
    return NOTICES.get(request.query_params.get("notice", ""), ())


def environment() -> Environment:
    """The portal's templates, then the kit's (``_messages.html``)."""
    return template_environment(TEMPLATES_DIR)


def portal_pages(request: Request) -> Pages:
    """The app's portal pages (:func:`securelogin.entrypoints.portal.routes.install`
    keeps them in ``app.state.portal_pages``)."""
    pages: Pages = request.app.state.portal_pages
    return pages


#: a handler's parameter: ``pages: PortalPagesDep``
PortalPagesDep = Annotated[Pages, Depends(portal_pages)]


def login_form(
    pages: Pages,
    request: Request,
    lang: str,
    *,
    username: str = "",
    messages: Iterable[Message] = (),
) -> HTMLResponse:
    return pages.render(
        request,
        "index.html",
        lang,
        messages=messages,
        username=username[:USERNAME_MAX],
        username_max=USERNAME_MAX,
        password_max=PASSWORD_MAX,
    )
