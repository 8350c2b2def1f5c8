"""Account documents (R-LOGIN-8): activity statements and tax forms, stored per account
as PDF and listed and downloaded by every user with a grant on the account — also by
``documents_only`` sessions of users whose accounts are all closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from securelogin.domain.access import AccessLevel
from securelogin.domain.audit import AuditEvent
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.errors import AccessDenied, InvalidInput, NotFound
from securelogin.service.context import Services
from securelogin.service.lifecycle_ports import DocumentRow, Statement
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

READERS = frozenset({AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY})


class DocumentKind(StrEnum):
    ACTIVITY_STATEMENT = "activity_statement"
    TAX_FORM = "tax_form"


TITLES = {
    DocumentKind.ACTIVITY_STATEMENT: "Activity Statement",
    DocumentKind.TAX_FORM: "Tax Form (annual cash summary)",
}


@dataclass(frozen=True, kw_only=True)
class Download:
    filename: str
    pdf: bytes


def list_documents(services: Services, session: CurrentSession) -> list[DocumentRow]:
    if session.access_level not in READERS:
        raise AccessDenied("documents need a full or documents-only session")
    with services.uow() as uow:
        return uow.documents.documents_of(session.user_id)


def download(services: Services, session: CurrentSession, document_id: str) -> Download:
    if session.access_level not in READERS:
        raise AccessDenied("documents need a full or documents-only session")
    with services.uow() as uow:
        found = uow.documents.document_pdf(document_id, user_id=session.user_id)
    if found is None:
        raise NotFound("no such document")
    row, pdf = found
    return Download(filename=f"{row.account_number}-{row.kind}-{row.period}.pdf", pdf=pdf)


def store_document(
    services: Services,
    uow: UnitOfWork,
    *,
    account_id: int,
    account_number: str,
    kind: DocumentKind,
    period: str,
    now: datetime,
) -> str:
    """Render the account's ledger as a PDF and store it; returns the document id."""
    lines = uow.deposits.ledger(account_id)
    if kind is DocumentKind.TAX_FORM:
        lines = [line for line in lines if line.at.year == int(period[:4])]
    balance = uow.funds.lock_account(account_id).balance_cents
    local = ZoneInfo(services.policy.timezone)
    statement = Statement(
        title=f"{TITLES[kind]} {period}",
        account_number=account_number,
        holder=uow.closure.holder_name(account_id),
        period=period,
        generated=now.astimezone(local).date(),
        lines=tuple(lines),
        closing_balance_cents=balance,
    )
    public_id = "doc_" + services.random.token_bytes(10).hex()
    uow.documents.add_document(
        public_id=public_id,
        account_id=account_id,
        kind=kind.value,
        title=statement.title,
        period=period,
        pdf=services.statements.pdf(statement),
        now=now,
    )
    return public_id


def generate(
    services: Services, operator: Operator, *, account: str, kind: str, period: str
) -> str:
    """``admin documents generate``: one statement or tax form for an account."""
    require_role(operator, Role.ADMIN)
    try:
        which = DocumentKind(kind)
    except ValueError:
        raise InvalidInput("kind must be activity_statement or tax_form", field="kind") from None
    if not (period[:4].isdigit() and 4 <= len(period) <= 32):
        raise InvalidInput("period must start with a year, e.g. 2026 or 2026-11", field="period")
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.accounts.by_number(account.strip().upper())
        if row is None:
            raise NotFound(f"no account {account}")
        public_id = store_document(
            services,
            uow,
            account_id=row.id,
            account_number=row.number,
            kind=which,
            period=period,
            now=now,
        )
        uow.audit.record(
            AuditEvent(
                action="document.generated",
                actor=operator.actor,
                subject=row.number,
                data={"document": public_id, "kind": which.value, "period": period},
            )
        )
        uow.commit()
    return public_id
