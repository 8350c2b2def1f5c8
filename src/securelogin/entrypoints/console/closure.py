"""Account closure in the console (role ``admin``, R-CLOSE-1, R-RETURN-3/4, R-LOGIN-8).

``/console/closure?account=U…`` finds an open account and shows what closing it will do —
its users, their devices and, per device, the settlement (return, shred, deposit taken,
deactivated), the sessions that end — computed by
:func:`securelogin.service.lifecycle.closure.preview_closure` with the same rules the closure uses.
The admin confirms by typing the account number; ``POST /console/closure/close`` checks
the console's CSRF token, calls :func:`~securelogin.service.lifecycle.closure.close_account` once
and answers with the closure report.  Unknown account (``not_found``), an account closed
already (``account_closed``) or a wrong confirmation (``invalid_input``) change nothing
and show the page again with words.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.lifecycle import Settlement
from securelogin.domain.money import format_usd
from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.web import (
    ConsolePages,
    ConsolePagesDep,
    MenuItem,
    Message,
    error_message,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.i18n import EN
from securelogin.entrypoints.web.pages import CsrfField
from securelogin.errors import InvalidInput, SecureLoginError
from securelogin.service.context import Services
from securelogin.service.lifecycle import closure

PATH = "/console/closure"
MENU = (
    MenuItem(role=Role.ADMIN, path=PATH, key="console.closure", text_key="console.closure.text"),
)
#: HTTP status of a refusal, by error code (the rest: 422)
STATUS = {"access_denied": 403, "not_found": 404, "account_closed": 409}
#: longest account number the forms accept
NUMBER_MAX = closure.NUMBER_MAX


def usd(cents: int) -> str:
    """Cents as the console shows money: ``USD 1,234.56`` (domain.money.format_usd)."""
    return format_usd(cents)


def closure_message(exc: SecureLoginError) -> Message:
    """``console.closure.error.<code or field>`` (an account, not a user), else the
    console's words for the code."""
    code = f"{exc.code}.{exc.field}" if isinstance(exc, InvalidInput) and exc.field else exc.code
    key = f"console.closure.error.{code}"
    return Message(tone="error", key=key) if key in EN else error_message(exc)


router = APIRouter()


def page(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    account: str,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
) -> Response:
    plan = None
    if account:
        try:
            plan = closure.preview_closure(services, operator, account=account)
        except SecureLoginError as exc:
            if not messages:
                messages = (closure_message(exc),)
                status_code = STATUS.get(exc.code, 422)
    return pages.render(
        request,
        "console/closure.html",
        operator=operator,
        status_code=status_code,
        messages=messages,
        account=account[:NUMBER_MAX],
        plan=plan,
        settlement=Settlement,
        number_max=NUMBER_MAX,
        return_days=services.policy.lifecycle.closure_return_days,
        usd=usd,
    )


@router.get(PATH, response_class=HTMLResponse)
def preview(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    account: Annotated[str, Query()] = "",
) -> Response:
    operator = pages.operator(request, Role.ADMIN)
    if isinstance(operator, Response):
        return operator
    return page(services, pages, request, operator, account.strip()[:NUMBER_MAX])


@router.post(f"{PATH}/close", response_class=HTMLResponse)
def close(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    token: CsrfField = "",
    account: Annotated[str, Form()] = "",
    confirmation: Annotated[str, Form()] = "",
) -> Response:
    number = account.strip()[:NUMBER_MAX]
    return pages.submit(
        request,
        Role.ADMIN,
        token,
        lambda operator: closure.close_account(
            services, operator, account=number, confirmation=confirmation[:NUMBER_MAX]
        ),
        refused=lambda operator, exc: page(
            services,
            pages,
            request,
            operator,
            number,
            status_code=STATUS.get(exc.code, 422),
            messages=(closure_message(exc),),
        ),
        # the report is the answer to this POST (a reload asks to resubmit, and the
        # second closure is refused with account_closed)
        done=lambda operator, report: pages.render(
            request, "console/closure_done.html", operator=operator, report=report, usd=usd
        ),
    )
