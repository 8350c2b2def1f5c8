"""Client Portal pages a ``documents_only`` session may see too (issue 6): the message
centre (R-OPS-5) and document downloads (R-LOGIN-8).  Included by the router of
:mod:`securelogin.entrypoints.portal.lifecycle`; moved out of it to keep that module small.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.portal.site import PortalPagesDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import CsrfField, page_language, redirect
from securelogin.errors import SecureLoginError
from securelogin.service import messages
from securelogin.service.context import Services
from securelogin.service.lifecycle import documents
from securelogin.service.sessions import CurrentSession

MESSAGES_PATH = "/portal/messages"
READERS = frozenset({AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY})


def _area(services: ServicesDep, pages: PortalPagesDep) -> AccountPages:
    """This feature's account pages (made per request: a few attributes)."""
    return AccountPages(services, pages)


Area = Annotated[AccountPages, Depends(_area)]


router = APIRouter(include_in_schema=False)


# --- R-OPS-5 ---------------------------------------------------------------------


@router.get(MESSAGES_PATH, response_class=HTMLResponse)
def message_centre(request: Request, services: ServicesDep, area: Area) -> Response:
    return area.show(
        request,
        READERS,
        lambda session: area.render(
            request,
            session,
            "messages.html",
            here=MESSAGES_PATH,
            messages=(),
            problem=None,
            unread=messages.unread_count(services, session),
            inbox=messages.inbox(services, session),
        ),
    )


@router.post(MESSAGES_PATH + "/read")
def message_centre_read(
    request: Request, services: ServicesDep, area: Area, token: CsrfField = ""
) -> Response:
    session = area.form_session(request, READERS, token)
    if isinstance(session, Response):
        return session
    messages.mark_all_read(services, session)
    return redirect(request, page_language(request), MESSAGES_PATH)


# --- R-LOGIN-8 ---------------------------------------------------------------------


@router.get("/portal/documents/{document_id}.pdf")
def document_download(
    request: Request, services: ServicesDep, area: Area, document_id: str
) -> Response:
    return area.show(request, READERS, lambda session: pdf(services, session, document_id[:40]))


def pdf(services: Services, session: CurrentSession, document_id: str) -> Response:
    try:
        found = documents.download(services, session, document_id)
    except SecureLoginError:
        return Response(status_code=404)
    return Response(
        found.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
