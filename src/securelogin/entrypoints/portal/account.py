"""The portal pages behind a session (SPEC §1 "Session", R-LOGIN-8/9/11) and logging out.

Each access level has its own landing page, and a page shows itself only to the levels
it was made for; any other session is sent to its own page, so a ``card_only`` or
``documents_only`` session never sees the home page. The session token lives only in
the HttpOnly, SameSite=Strict cookie ``sl_session``; ``authenticate`` decides whether it
is still good (revoked, idle, expired).
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.site import SESSION_COOKIE, PortalPagesDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import (
    CsrfField,
    Pages,
    clear_private_cookie,
    csrf_ok,
    page_language,
    redirect,
)
from securelogin.errors import Unauthenticated
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.lifecycle import documents as document_service
from securelogin.service.login import me
from securelogin.service.oidc import logout as oidc_logout

HOME_PATH = "/portal"
CARD_ONLY_PATH = "/portal/card-only"
DOCUMENTS_PATH = "/portal/documents"

#: Where each access level lands after logging in. ``trading_password_only`` sessions are
#: for trading platforms (R-LOGIN-7): the portal has no page for them.
LANDING: dict[AccessLevel, str] = {
    AccessLevel.FULL: HOME_PATH,
    AccessLevel.CARD_ONLY: CARD_ONLY_PATH,
    AccessLevel.DOCUMENTS_ONLY: DOCUMENTS_PATH,
}

#: The menu of each level: (path, words).
MENUS: dict[AccessLevel, tuple[tuple[str, str], ...]] = {
    AccessLevel.FULL: (
        (HOME_PATH, "nav.home"),
        (DOCUMENTS_PATH, "nav.documents"),
        ("/portal/withdraw", "nav.withdraw"),
        ("/portal/settings", "nav.settings"),
        ("/portal/replacement", "nav.replacement"),
        ("/portal/returns", "nav.returns"),
        ("/portal/messages", "nav.messages"),
    ),
    AccessLevel.CARD_ONLY: ((CARD_ONLY_PATH, "nav.card"),),
    AccessLevel.DOCUMENTS_ONLY: (
        (DOCUMENTS_PATH, "nav.documents"),
        ("/portal/messages", "nav.messages"),
    ),
}


def landing_for(level: AccessLevel) -> str:
    return LANDING.get(level, "/")


def current_landing(services: Services, request: Request) -> str | None:
    """The landing page of the browser's session, None without a usable one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        current = sessions.authenticate(services, token)
    except Unauthenticated:
        return None
    return LANDING.get(current.access_level)


def session_for(
    services: Services, request: Request, allowed: Collection[AccessLevel]
) -> sessions.CurrentSession | Response:
    """The browser's session when its level may see this page, else where to go instead."""
    lang = page_language(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return redirect(request, lang, "/")
    try:
        current = sessions.authenticate(services, token)
    except Unauthenticated:
        response = redirect(request, lang, "/", notice="session_ended")
        clear_private_cookie(response, request, SESSION_COOKIE)
        return response
    if current.access_level not in allowed:
        return redirect(request, lang, landing_for(current.access_level))
    return current


router = APIRouter(include_in_schema=False)


def page(
    pages: Pages, request: Request, template: str, here: str, found: me.Me, documents: object = ()
) -> HTMLResponse:
    return pages.render(
        request,
        template,
        page_language(request),
        here=here,
        me=found,
        menu=MENUS.get(found.access_level, ()),
        documents=documents,
    )


@router.get(HOME_PATH, response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """Welcome, tier and devices: for ``full`` sessions only."""
    current = session_for(services, request, {AccessLevel.FULL})
    if isinstance(current, Response):
        return current
    return page(pages, request, "home.html", HOME_PATH, me.describe_me(services, current))


@router.get(CARD_ONLY_PATH, response_class=HTMLResponse)
def card_only(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """R-LOGIN-9: after a temporary code's 2 days, only the online card is left."""
    current = session_for(services, request, {AccessLevel.CARD_ONLY})
    if isinstance(current, Response):
        return current
    return page(pages, request, "card_only.html", CARD_ONLY_PATH, me.describe_me(services, current))


@router.get(DOCUMENTS_PATH, response_class=HTMLResponse)
def documents(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """R-LOGIN-8: activity statements and tax forms (service/lifecycle/documents.py)."""
    allowed = {AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY}
    current = session_for(services, request, allowed)
    if isinstance(current, Response):
        return current
    return page(
        pages,
        request,
        "documents.html",
        DOCUMENTS_PATH,
        me.describe_me(services, current),
        documents=document_service.list_documents(services, current),
    )


@router.post("/logout")
def log_out(
    request: Request, services: ServicesDep, pages: PortalPagesDep, token: CsrfField = ""
) -> Response:
    """End the session at once (the token stops working) and forget the cookie."""
    lang = page_language(request)
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, lang)
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        # its OpenID Connect tokens end too, and relying parties hear of it
        oidc_logout.end_portal_session(
            services, session_token, issuer=str(request.base_url).rstrip("/")
        )
    response = redirect(request, lang, "/", notice="logged_out")
    clear_private_cookie(response, request, SESSION_COOKIE)
    return response
