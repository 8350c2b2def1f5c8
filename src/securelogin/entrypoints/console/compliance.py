"""The compliance page of the operator console (R-OPS-2, R-SHARE-4): share requests
between users of different entities with the same identification data wait here until an
operator with the compliance role approves or rejects them, with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.web import (
    ConsolePages,
    ConsolePagesDep,
    MenuItem,
    error_message,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import CsrfField, Message
from securelogin.service.context import Services
from securelogin.service.lifecycle import sharing

PATH = "/console/compliance"
MENU = (
    MenuItem(
        role=Role.COMPLIANCE,
        path=PATH,
        key="console.compliance",
        text_key="console.compliance.text",
    ),
)


router = APIRouter()


def page(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
) -> HTMLResponse:
    return pages.render(
        request,
        "console/compliance.html",
        operator=operator,
        status_code=status_code,
        messages=messages,
        requests=sharing.list_requests(services, operator),
        reason_max=sharing.REASON_MAX,
    )


@router.get(PATH, response_class=HTMLResponse)
def waiting(request: Request, services: ServicesDep, pages: ConsolePagesDep) -> Response:
    operator = pages.operator(request, Role.COMPLIANCE)
    if isinstance(operator, Response):
        return operator
    done = request.query_params.get("done") == "1"
    messages = (Message(tone="info", key="console.compliance.done"),) if done else ()
    return page(services, pages, request, operator, messages=messages)


@router.post(f"{PATH}/decide", response_class=HTMLResponse)
def decide(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    request_id: Annotated[str, Form(max_length=40)] = "",
    decision: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return pages.submit(
        request,
        Role.COMPLIANCE,
        token,
        lambda operator: sharing.decide(
            services,
            operator,
            request_id=request_id,
            approve=decision == "approve",
            reason=reason,
        ),
        refused=lambda operator, exc: page(
            services, pages, request, operator, status_code=422, messages=(error_message(exc),)
        ),
        done=lambda _operator, _decided: pages.redirect(request, f"{PATH}?done=1"),
    )
