"""Client Portal pages: withdrawals with remaining limits (issue 5, R-WD, R-LIMIT).

``/portal/withdraw`` shows the tier, the limits and what is left today and in the
5-business-day window per account, and the request form.  The form carries a fresh
idempotency key, so a double submission makes one withdrawal (R-WD-1).  The
confirmation step shows the device's prompt (as the login's verify page does) with the
amount and the destination it is bound to (R-WD-4) — or, for a user with no device, asks
for the password.  A refusal names the rule and the
amounts (R-WD-3).  Every POST carries the CSRF token and ends in a 303 or a page.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.domain.devices.base import PromptType
from securelogin.domain.money import format_usd
from securelogin.entrypoints.portal.account import session_for
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.portal.prompts import prompt_page
from securelogin.entrypoints.portal.site import ANSWER_MAX, PortalPagesDep
from securelogin.entrypoints.portal.verify import PUSH_REFRESH_SECONDS
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import (
    CsrfField,
    Message,
    page_language,
    redirect,
)
from securelogin.errors import (
    AccessDenied,
    AccountClosed,
    AlreadyUsed,
    ConfirmationFailed,
    DeviceRequired,
    IdempotencyKeyReused,
    InvalidInput,
    Locked,
    NoWithdrawRight,
    UnknownAccount,
    UnknownWithdrawal,
    WithdrawalClosed,
    WithdrawalExpired,
    WithdrawalRefused,
)
from securelogin.service.context import Services
from securelogin.service.funds import restrictions, withdrawal_confirm, withdrawals
from securelogin.service.sessions import CurrentSession

WITHDRAW_PATH = "/portal/withdraw"
FULL = {AccessLevel.FULL}
#: request errors shown on the form (the others are refusals with amounts)
FORM_ERRORS = (
    InvalidInput,
    UnknownAccount,
    NoWithdrawRight,
    AccountClosed,
    DeviceRequired,
    IdempotencyKeyReused,
    AccessDenied,
)


def money(cents: int | None) -> str | None:
    """``USD 1,497,500.00`` (domain.money.format_usd); None for no limit."""
    return None if cents is None else format_usd(cents)


def _area(services: ServicesDep, pages: PortalPagesDep) -> AccountPages:
    """This feature's account pages (made per request: a few attributes)."""
    return AccountPages(services, pages, here=WITHDRAW_PATH, money=money)


Area = Annotated[AccountPages, Depends(_area)]


router = APIRouter(include_in_schema=False)


def overview(
    services: Services,
    area: AccountPages,
    request: Request,
    current: CurrentSession,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
    refusal: WithdrawalRefused | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return area.render(
        request,
        current,
        "withdraw.html",
        status_code=status_code,
        messages=messages,
        view=restrictions.my_limits(services, current),
        refusal=refusal,
        form=form or {},
        idempotency_key=secrets.token_urlsafe(16),
    )


@router.get(WITHDRAW_PATH, response_class=HTMLResponse)
def show(request: Request, services: ServicesDep, area: Area) -> Response:
    """Tier, limits, what is left, and the request form."""
    return area.show(request, FULL, lambda current: overview(services, area, request, current))


@router.post(WITHDRAW_PATH)
def ask(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    account: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    destination: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """R-WD-1: request; on to the confirmation step, or the page with the refusal."""
    current = area.form_session(request, FULL, token, csrf_first=True)
    if isinstance(current, Response):
        return current
    form = {"account": account, "amount": amount, "destination": destination}
    try:
        parsed = withdrawals.parse_request(
            account=account[:16],
            amount=amount.strip()[:40],  # a browser field: surrounding spaces are typing
            destination=destination,
            idempotency_key=idempotency_key,
        )
        started = withdrawals.request_withdrawal(
            services,
            current,
            parsed,
            client_ip=request.client.host if request.client else None,
        )
    except WithdrawalRefused as refused:
        return overview(
            services, area, request, current, status_code=422, refusal=refused, form=form
        )
    except FORM_ERRORS as exc:
        message = Message(tone="error", key=_error_key(exc))
        return overview(
            services, area, request, current, status_code=422, messages=(message,), form=form
        )
    return redirect(request, page_language(request), f"{WITHDRAW_PATH}/{started.withdrawal_id}")


@router.get(WITHDRAW_PATH + "/{withdrawal_id}", response_class=HTMLResponse)
def step(request: Request, withdrawal_id: str, services: ServicesDep, area: Area) -> Response:
    """The confirmation step (R-WD-4), or the outcome once decided."""
    current = session_for(services, request, FULL)
    if isinstance(current, Response):
        return current
    try:
        view, factor = withdrawals.pending_confirmation(services, current, withdrawal_id)
    except UnknownWithdrawal:
        return redirect(request, page_language(request), WITHDRAW_PATH)
    notice = request.query_params.get("notice", "")
    password = factor is not None and factor.prompt.type is PromptType.PASSWORD
    failed = "withdraw.password_failed" if password else None
    messages = (
        (Message(tone="error", key=failed or "withdraw.confirm_failed"),)
        if notice == "failed"
        else ()
    )
    page = area.render(
        request,
        current,
        "withdraw_confirm.html",
        messages=messages,
        withdrawal=view,
        prompt=prompt_page(factor) if factor else None,
        limits=restrictions.my_limits(services, current),
    )
    if factor is not None and factor.prompt.type is PromptType.PUSH:
        # as the login's push page: finishes by itself once the phone approves
        page.headers["Refresh"] = str(PUSH_REFRESH_SECONDS)  # works without JavaScript
    return page


@router.post(WITHDRAW_PATH + "/{withdrawal_id}")
def confirm(
    request: Request,
    withdrawal_id: str,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    response: Annotated[str, Form()] = "",
    response_2: Annotated[str, Form()] = "",
) -> Response:
    """The device's answer, or the password of a user with no device (R-WD-4): booked
    or refused atomically (R-LIMIT-5)."""
    current = area.form_session(request, FULL, token, csrf_first=True)
    if isinstance(current, Response):
        return current
    lang, here = page_language(request), f"{WITHDRAW_PATH}/{withdrawal_id}"
    try:
        withdrawal_confirm.confirm_withdrawal(
            services, current, withdrawal_id, (response + response_2)[:ANSWER_MAX]
        )
    except (ConfirmationFailed, AlreadyUsed, Locked):
        return redirect(request, lang, here + "?notice=failed")
    except (WithdrawalClosed, WithdrawalExpired):
        return redirect(request, lang, here)
    except UnknownWithdrawal:
        return redirect(request, lang, WITHDRAW_PATH)
    return redirect(request, lang, here)


@router.post(WITHDRAW_PATH + "/{withdrawal_id}/fallback")
def fallback(
    request: Request,
    withdrawal_id: str,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
) -> Response:
    """Mobile key: the offline challenge instead of the push (R-LOGIN-5)."""
    current = area.form_session(request, FULL, token, csrf_first=True)
    if isinstance(current, Response):
        return current
    lang, here = page_language(request), f"{WITHDRAW_PATH}/{withdrawal_id}"
    try:
        withdrawal_confirm.push_fallback(services, current, withdrawal_id)
    except (WithdrawalClosed, WithdrawalExpired, UnknownWithdrawal):
        return redirect(request, lang, here)
    return redirect(request, lang, here)


def _error_key(exc: Exception) -> str:
    code = getattr(exc, "code", "generic")
    field = getattr(exc, "field", None)
    if code == "invalid_input" and field in {"amount", "destination"}:
        return f"withdraw.error.{field}"
    known = {
        "account_not_found",
        "no_withdraw_right",
        "account_closed",
        "device_required",
        "idempotency_key_reused",
        "access_denied",
    }
    return f"withdraw.error.{code if code in known else 'generic'}"
