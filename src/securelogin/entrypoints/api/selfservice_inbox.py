"""JSON API of the message centre (R-OPS-5) and of documents (R-LOGIN-8); issue 16 §3.

The same use cases as the portal's pages (``entrypoints/portal/inbox.py`` and the
documents page): :mod:`securelogin.service.messages` and
:mod:`securelogin.service.lifecycle.documents`.  A ``full`` session may call them, and a
``documents_only`` one too (users whose accounts are all closed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel

from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.selfservice_auth import ReaderSession
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service import messages
from securelogin.service.lifecycle import documents

router = APIRouter(prefix="/api/v1", tags=["self-service: messages and documents"])


class MessageOut(BaseModel):
    message_id: int
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    unread: int
    #: the latest 50, newest first
    messages: list[MessageOut]


class DocumentOut(BaseModel):
    document_id: str
    account: str
    #: ``activity_statement`` or ``tax_form``
    kind: str
    title: str
    period: str
    created_at: datetime
    #: where to download its PDF
    href: str


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


@router.get("/messages", response_model=InboxOut, responses=problem_responses(401, 403))
def message_centre(services: ServicesDep, session: ReaderSession) -> InboxOut:
    """R-OPS-5: the user's message centre (device shipped, activated, reminders …)."""
    found = messages.inbox(services, session)
    return InboxOut(
        unread=found.unread,
        messages=[
            MessageOut(
                message_id=m.id,
                subject=m.subject,
                body=m.body,
                created_at=m.created_at,
                read_at=m.read_at,
            )
            for m in found.messages
        ],
    )


@router.post("/messages/read", response_model=InboxOut, responses=problem_responses(401, 403))
def message_centre_read(services: ServicesDep, session: ReaderSession) -> InboxOut:
    """Mark every message read (as the portal's button does); the inbox afterwards."""
    messages.mark_all_read(services, session)
    return message_centre(services, session)


@router.get("/documents", response_model=DocumentsOut, responses=problem_responses(401, 403))
def document_list(services: ServicesDep, session: ReaderSession) -> DocumentsOut:
    """R-LOGIN-8: activity statements and tax forms of the user's accounts."""
    return DocumentsOut(
        documents=[
            DocumentOut(
                document_id=d.public_id,
                account=d.account_number,
                kind=d.kind,
                title=d.title,
                period=d.period,
                created_at=d.created_at,
                href=f"/api/v1/documents/{d.public_id}",
            )
            for d in documents.list_documents(services, session)
        ]
    )


@router.get(
    "/documents/{document_id}",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the document as PDF",
        },
        **problem_responses(401, 403, 404),
    },
)
def document_download(
    services: ServicesDep,
    session: ReaderSession,
    document_id: Annotated[str, Path(max_length=40)],
) -> Response:
    """R-LOGIN-8: one document as PDF.  404 ``not_found`` (also another user's)."""
    found = documents.download(services, session, document_id)
    return Response(
        found.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )
