"""Client Portal pages a ``documents_only`` session may see too (issue 6): the message
centre (R-OPS-5) and document downloads (R-LOGIN-8).  Included by the router of
:mod:`securelogin.entrypoints.portal.lifecycle`; moved out of it to keep that module small.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.web.pages import CsrfField, Pages, page_language, redirect
from securelogin.errors import SecureLoginError
from securelogin.service import messages
from securelogin.service.context import Services
from securelogin.service.lifecycle import documents
from securelogin.service.sessions import CurrentSession

MESSAGES_PATH = "/portal/messages"
READERS = frozenset({AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY})


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    area = AccountPages(services, pages)

    # --- R-OPS-5 ---------------------------------------------------------------------

    @router.get(MESSAGES_PATH, response_class=HTMLResponse)
    def message_centre(request: Request) -> Response:
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
    def message_centre_read(request: Request, token: CsrfField = "") -> Response:
        session = area.form_session(request, READERS, token)
        if isinstance(session, Response):
            return session
        messages.mark_all_read(services, session)
        return redirect(request, page_language(request), MESSAGES_PATH)

    # --- R-LOGIN-8 ---------------------------------------------------------------------

    @router.get("/portal/documents/{document_id}.pdf")
    def document_download(request: Request, document_id: str) -> Response:
        return area.show(request, READERS, lambda session: pdf(session, document_id[:40]))

    def pdf(session: CurrentSession, document_id: str) -> Response:
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

    return router
