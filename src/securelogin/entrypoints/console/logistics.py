"""Logistics pages of the operator console (R-OPS-3, R-LOST-4, R-RETURN-2): open
replacement requests (assign a device from the inventory by serial, mark it shipped) and
devices on their way back (record receipt: returned, deposit released)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.web import ConsolePages, MenuItem, error_message
from securelogin.entrypoints.portal.web import CSRF_FIELD, Message
from securelogin.service import replacement, returns
from securelogin.service.context import Services

PATH = "/console/logistics"
MENU = (
    MenuItem(
        role=Role.LOGISTICS, path=PATH, key="console.logistics", text_key="console.logistics.text"
    ),
)

Csrf = Annotated[str, Form(alias=CSRF_FIELD)]


def build_router(services: Services, pages: ConsolePages) -> APIRouter:
    router = APIRouter()

    def page(
        request: Request,
        operator: Operator,
        *,
        status_code: int = 200,
        messages: tuple[Message, ...] = (),
    ) -> HTMLResponse:
        return pages.render(
            request,
            "console/logistics.html",
            operator=operator,
            status_code=status_code,
            messages=messages,
            requests=replacement.open_requests(services, operator),
            pending=returns.pending_returns(services, operator),
        )

    @router.get(PATH, response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        operator = pages.operator(request, Role.LOGISTICS)
        if isinstance(operator, Response):
            return operator
        return page(request, operator)

    def act(request: Request, token: str, action: Callable[[Operator], object]) -> Response:
        """CSRF, one service call, then the list again: refused with words (422) or a 303."""
        return pages.submit(
            request,
            Role.LOGISTICS,
            token,
            action,
            refused=lambda operator, exc: page(
                request, operator, status_code=422, messages=(error_message(exc),)
            ),
            done=lambda _operator, _result: pages.redirect(request, PATH),
        )

    @router.post(PATH + "/assign", response_class=HTMLResponse)
    def assign(
        request: Request,
        request_id: Annotated[str, Form()] = "",
        serial: Annotated[str, Form()] = "",
        token: Csrf = "",
    ) -> Response:
        return act(
            request,
            token,
            lambda operator: replacement.assign_device(
                services, operator, request_id=request_id[:40], serial=serial[:64]
            ),
        )

    @router.post(PATH + "/ship", response_class=HTMLResponse)
    def ship(
        request: Request, request_id: Annotated[str, Form()] = "", token: Csrf = ""
    ) -> Response:
        return act(
            request,
            token,
            lambda operator: replacement.ship(services, operator, request_id=request_id[:40]),
        )

    @router.post(PATH + "/receive", response_class=HTMLResponse)
    def receive(
        request: Request, return_id: Annotated[str, Form()] = "", token: Csrf = ""
    ) -> Response:
        number = int(return_id) if return_id.isdigit() else -1
        return act(
            request,
            token,
            lambda operator: returns.record_receipt(services, operator, return_id=number),
        )

    return router
