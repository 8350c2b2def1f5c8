"""What every page of the portal and the console shares: templates, language, CSRF,
cookies, security headers, the form's CSRF field.

Nothing here decides anything about logins or sessions; it only turns a request into a
language and a page, and a page into a response with the right headers and cookies.

CSRF protection is a double submit: a random token in an HttpOnly, SameSite=Strict
cookie (the portal's ``sl_csrf``; the console keeps its own) and the same value in a
hidden form field, compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from securelogin.domain.money import format_usd
from securelogin.entrypoints.web.i18n import LANGUAGE_NAMES, negotiate, translate
from securelogin.service.ports import Random

#: the templates every page may include (``_messages.html``)
TEMPLATES_DIR = Path(__file__).with_name("templates")

CSRF_COOKIE = "sl_csrf"
CSRF_FIELD = "csrf_token"
#: a form's CSRF token, as a handler's parameter: ``token: CsrfField = ""``
CsrfField = Annotated[str, Form(alias=CSRF_FIELD)]
LANG_COOKIE = "lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600

#: 32 random bytes, URL-safe base64 without padding.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")

#: Sent with every page: no inline script or style, no framing, no foreign forms.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages carry a CSRF token and may carry a username: keep them out of shared caches.
    "Cache-Control": "no-store",
    "Vary": "Cookie, Accept-Language",
}


@dataclass(frozen=True, kw_only=True)
class Message:
    """One line of a page's message region: ``tone`` is ``error`` or ``info``; ``key``
    names the words in the catalogue."""

    tone: str
    key: str


def template_environment(*own: Path) -> Environment:
    """The templates of ``own`` directories first, then the kit's; autoescaping is on for
    every ``.html`` template."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in (*own, TEMPLATES_DIR)]),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["usd"] = format_usd  # money, one way everywhere: USD 1,497,500.00
    return env


def page_language(request: Request) -> str:
    return negotiate(
        request.cookies.get(LANG_COOKIE),
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
    )


def same_site_path(candidate: str | None) -> str:
    """``candidate`` if it is a path on this site, else ``/`` (no open redirect).

    ``//host`` and ``/\\host`` are network paths to browsers, and they drop tabs and
    newlines before parsing, so only a single ``/`` followed by printable characters
    other than a backslash passes.
    """
    if (
        not candidate
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in candidate)
    ):
        return "/"
    return candidate


def csrf_token(request: Request, random: Random, *, cookie: str = CSRF_COOKIE) -> str:
    """The browser's token when it has a well-formed one, else a fresh one."""
    current = request.cookies.get(cookie, "")
    if _TOKEN.fullmatch(current):
        return current
    return base64.urlsafe_b64encode(random.token_bytes(32)).rstrip(b"=").decode("ascii")


def csrf_matches(cookie: str | None, field: str) -> bool:
    """Double-submit check in constant time; an absent or empty token never matches."""
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode("utf-8"), field.encode("utf-8"))


def csrf_ok(request: Request, field: str) -> bool:
    return csrf_matches(request.cookies.get(CSRF_COOKIE), field)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def secure(response: Response, lang: str) -> Response:
    """Add the security headers and ``Content-Language`` every portal answer carries."""
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = lang
    return response


def set_private_cookie(
    response: Response, request: Request, name: str, value: str, *, path: str = "/"
) -> None:
    """An HttpOnly, SameSite=Strict cookie for this browser session (Secure over https)."""
    response.set_cookie(
        name, value, path=path, httponly=True, samesite="strict", secure=is_https(request)
    )


def clear_private_cookie(
    response: Response, request: Request, name: str, *, path: str = "/"
) -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite="strict", secure=is_https(request)
    )


def redirect(
    request: Request, lang: str, path: str, *, notice: str | None = None
) -> RedirectResponse:
    """303 See Other to a page of this site, optionally with one of :data:`NOTICES`."""
    target = same_site_path(path)
    if notice is not None:
        target += ("&" if "?" in target else "?") + "notice=" + notice
    response = RedirectResponse(target, status_code=303)
    secure(response, lang)
    return response


class Pages:
    """Renders templates with the words of one language."""

    def __init__(
        self,
        env: Environment,
        random: Random,
        *,
        csrf_cookie: str = CSRF_COOKIE,
        csrf_path: str = "/",
    ) -> None:
        """``csrf_cookie``/``csrf_path``: the console keeps a CSRF cookie of its own, so
        that its pages never replace the portal's token (an open portal tab stays valid)."""
        self._env = env
        self._random = random
        self._csrf_cookie = csrf_cookie
        self._csrf_path = csrf_path

    def render(
        self,
        request: Request,
        template: str,
        lang: str,
        *,
        status_code: int = 200,
        here: str = "/",
        messages: Iterable[Message] = (),
        **context: object,
    ) -> HTMLResponse:
        """A page; every page carries a CSRF token (its forms, the header's Log Out)."""

        def t(key: str, **kw: object) -> str:
            if any(isinstance(v, Markup) for v in kw.values()):
                # Markup placeholders (e.g. <strong>) stay; the words and the rest are escaped.
                return escape(translate(lang, key)).format(**kw)
            return translate(lang, key, **kw)

        token = csrf_token(request, self._random, cookie=self._csrf_cookie)
        html = self._env.get_template(template).render(
            lang=lang,
            t=t,
            here=here,
            languages=list(LANGUAGE_NAMES.items()),
            messages=list(messages),
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        secure(response, lang)
        set_private_cookie(response, request, self._csrf_cookie, token, path=self._csrf_path)
        return response

    def csrf_refused(self, request: Request, lang: str) -> HTMLResponse:
        """The answer to a form without this browser's token (a stale tab or a forgery)."""
        return self.render(
            request,
            "error.html",
            lang,
            status_code=403,
            heading=translate(lang, "error.expired.heading"),
            message=translate(lang, "error.expired"),
        )
