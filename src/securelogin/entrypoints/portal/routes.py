"""Client Portal pages (SPEC §8): the shell — login form, language switch, CSRF, headers.

Entry points only translate (STYLE.md rule 2): these handlers pick the language, check
the form's CSRF token and render a template; every rule lives in the services. The real
login (R-LOGIN) plugs into ``POST /login`` in a later issue.

CSRF protection is a double submit: a random token in the HttpOnly, SameSite=Strict
cookie ``sl_csrf`` and the same value in a hidden form field, compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from securelogin.entrypoints.portal.i18n import LANGUAGE_NAMES, negotiate, supported, translate
from securelogin.service.context import Services
from securelogin.service.ports import Random

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES_DIR = Path(__file__).with_name("templates")

CSRF_COOKIE = "sl_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
USERNAME_MAX = 64

#: 32 random bytes, URL-safe base64 without padding.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")

#: Sent with every portal page: no inline script or style, no framing, no foreign forms.
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


def environment() -> Environment:
    """The template environment; autoescaping is on for every ``.html`` template."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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


def csrf_token(request: Request, random: Random) -> str:
    """The browser's token when it has a well-formed one, else a fresh one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN.fullmatch(current):
        return current
    return base64.urlsafe_b64encode(random.token_bytes(32)).rstrip(b"=").decode("ascii")


def csrf_matches(cookie: str | None, field: str) -> bool:
    """Double-submit check in constant time; an absent or empty token never matches."""
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode("utf-8"), field.encode("utf-8"))


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def secure(response: Response, lang: str) -> Response:
    """Add the security headers and ``Content-Language`` every portal answer carries."""
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = lang
    return response


def set_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


class Pages:
    """Renders portal templates with the words of one language."""

    def __init__(self, env: Environment) -> None:
        self._env = env

    def render(
        self,
        request: Request,
        template: str,
        lang: str,
        *,
        status_code: int = 200,
        here: str = "/",
        **context: object,
    ) -> HTMLResponse:
        def t(key: str, **kw: object) -> str:
            return translate(lang, key, **kw)

        html = self._env.get_template(template).render(
            lang=lang,
            t=t,
            here=here,
            languages=list(LANGUAGE_NAMES.items()),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        secure(response, lang)
        return response

    def login_form(
        self,
        request: Request,
        lang: str,
        token: str,
        *,
        username: str = "",
        notice: str = "",
    ) -> HTMLResponse:
        response = self.render(
            request,
            "index.html",
            lang,
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            username=username[:USERNAME_MAX],
            username_max=USERNAME_MAX,
            notice=notice,
        )
        set_csrf_cookie(response, request, token)
        return response


def build_router(services: Services) -> APIRouter:
    """The portal's pages; ``create_app`` mounts :data:`STATIC_DIR` at ``/static``."""
    pages = Pages(environment())
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        lang = page_language(request)
        return pages.login_form(request, lang, csrf_token(request, services.random))

    @router.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> HTMLResponse:
        lang = page_language(request)
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), token):
            return pages.render(
                request,
                "error.html",
                lang,
                status_code=403,
                heading=translate(lang, "error.expired.heading"),
                message=translate(lang, "error.expired"),
            )
        # The login service (R-LOGIN-1..11) is wired here by a later issue; until then the
        # password is not even read, and the form answers politely.
        return pages.login_form(
            request,
            lang,
            csrf_token(request, services.random),
            username=username,
            notice=translate(lang, "login.unavailable"),
        )

    @router.get("/lang/{code}")
    def switch_language(
        request: Request,
        code: str,
        next_path: Annotated[str | None, Query(alias="next")] = None,
    ) -> Response:
        lang = supported(code) or "en"
        response = RedirectResponse(same_site_path(next_path), status_code=303)
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=_is_https(request),
        )
        return secure(response, lang)

    return router
