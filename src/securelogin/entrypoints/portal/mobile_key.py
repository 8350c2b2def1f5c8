"""Client Portal pages: mobile key activation from the security settings, QR activation
(issue 4, R-KEY-1).

The QR code carries ``securelogin-key://activate?server=URL&session=ID``: a one-time
activation id valid 10 minutes; the logged-in session already proved password and device.
It is drawn server-side as inline SVG (segno), so the page needs no script and no CDN.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.account import MENUS, session_for
from securelogin.entrypoints.portal.site import PortalPagesDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import CsrfField, Pages, csrf_ok, page_language
from securelogin.service.context import Services
from securelogin.service.login import me, mobile_key
from securelogin.service.sessions import CurrentSession

MOBILE_KEY_PATH = "/portal/settings/mobile-key"
#: the mobile key web app (docs/mobile-key-app.md), offered for installing on the phone
KEY_APP_PATH = "/key/"


def activation_link(server: str, activation_id: str) -> str:
    return "securelogin-key://activate?" + urlencode({"server": server, "session": activation_id})


def qr_svg(text: str) -> Markup:
    """The QR code as inline SVG (no external image, allowed by the portal's CSP)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG of our link, no user markup


router = APIRouter(include_in_schema=False)


def render(
    services: Services,
    pages: Pages,
    request: Request,
    current: CurrentSession,
    link: str | None = None,
    qr: Markup | None = None,
    expires: str | None = None,
) -> HTMLResponse:
    found = me.describe_me(services, current)
    keys = [d for d in found.devices if d.kind == "mobile_key" and d.state == "active"]
    app_url = str(request.base_url).rstrip("/") + KEY_APP_PATH
    return pages.render(
        request,
        "mobile_key.html",
        page_language(request),
        here=MOBILE_KEY_PATH,
        me=found,
        menu=MENUS.get(found.access_level, ()),
        keys=keys,
        link=link,
        qr=qr,
        expires=expires,
        server=str(request.base_url).rstrip("/"),  # for the securelogin key commands
        app_url=app_url,
        app_qr=qr_svg(app_url),
    )


@router.get(MOBILE_KEY_PATH, response_class=HTMLResponse)
def show(request: Request, services: ServicesDep, pages: PortalPagesDep) -> Response:
    """The user's mobile key, and the button that makes an activation QR code."""
    current = session_for(services, request, {AccessLevel.FULL})
    if isinstance(current, Response):
        return current
    return render(services, pages, request, current)


@router.post(MOBILE_KEY_PATH, response_class=HTMLResponse)
def activate(
    request: Request, services: ServicesDep, pages: PortalPagesDep, token: CsrfField = ""
) -> Response:
    """A one-time activation session shown as a QR code (R-KEY-1)."""
    if not csrf_ok(request, token):
        return pages.csrf_refused(request, page_language(request))
    current = session_for(services, request, {AccessLevel.FULL})
    if isinstance(current, Response):
        return current
    started = mobile_key.start_qr_activation(services, current)
    link = activation_link(str(request.base_url).rstrip("/"), started.activation_id)
    return render(
        services,
        pages,
        request,
        current,
        link=link,
        qr=qr_svg(link),
        expires=started.expires_at.strftime("%Y-%m-%d %H:%M"),
    )
