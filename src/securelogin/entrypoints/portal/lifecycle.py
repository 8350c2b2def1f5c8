"""Client Portal pages of the lost-device story (issue 6): the online security code card
(R-LOST-2), the replacement request and its activation (R-LOST-3/4), returns
(R-RETURN-1); the message centre (R-OPS-5) and document downloads (R-LOGIN-8) are in
:mod:`securelogin.entrypoints.portal.inbox`, included here.

Each handler checks the session's level, calls one service function and renders; errors
come back on the same page with their message.  Every form carries the CSRF token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.domain.lifecycle import ReturnReason
from securelogin.domain.returns import RETURN_ADDRESSES, Region
from securelogin.entrypoints.portal import inbox
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.portal.site import RESPONSE_MAX, PortalPagesDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import CsrfField, page_language, redirect
from securelogin.errors import SecureLoginError
from securelogin.service import messages
from securelogin.service.context import Services
from securelogin.service.lifecycle import lifecycle, replacement, returns
from securelogin.service.sessions import CurrentSession

ONLINE_CARD_PATH = "/portal/online-card"
REPLACEMENT_PATH = "/portal/replacement"
RETURNS_PATH = "/portal/returns"
FULL = frozenset({AccessLevel.FULL})
CARD = frozenset({AccessLevel.FULL, AccessLevel.CARD_ONLY})
#: codes whose words the catalogue has; other errors show the service's message
ERROR_WORDS = {"wrong_answer": "lost.wrong_answer"}

T = TypeVar("T")


def error_text(exc: SecureLoginError) -> tuple[str, dict[str, str]]:
    key = ERROR_WORDS.get(exc.code)
    return (key, {}) if key else ("lost.error", {"message": exc.message})


class Page(Protocol):
    """A page of this area, shown again with the error when a form is refused."""

    def __call__(
        self,
        request: Request,
        session: CurrentSession,
        *,
        error: SecureLoginError | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Response: ...


class LostPages:
    """This area's pages for one request: the frame with the unread count, and the
    pages a refused form shows again (each a :class:`Page`)."""

    def __init__(self, services: Services, area: AccountPages) -> None:
        self.services = services
        self.area = area

    def render(
        self,
        request: Request,
        template: str,
        here: str,
        session: CurrentSession,
        *,
        status_code: int = 200,
        error: SecureLoginError | None = None,
        **context: object,
    ) -> HTMLResponse:
        return self.area.render(
            request,
            session,
            template,
            here=here,
            status_code=status_code,
            messages=(),
            problem=error_text(error) if error else None,
            unread=messages.unread_count(self.services, session),
            **context,
        )

    def show(self, request: Request, allowed: frozenset[AccessLevel], page: Page) -> Response:
        """A GET: ``page`` for a session whose level is allowed."""
        return self.area.show(request, allowed, lambda session: page(request, session))

    def submit(
        self,
        request: Request,
        allowed: frozenset[AccessLevel],
        token: str,
        action: Callable[[CurrentSession], T],
        *,
        page: Page,
        status_code: int,
        done: Callable[[CurrentSession, T], Response],
        **again: Any,
    ) -> Response:
        """A POST of these pages: one service call; when refused, ``page`` again with the
        error (and ``again``) under ``status_code``."""
        return self.area.submit(
            request,
            allowed,
            token,
            action,
            refused=lambda session, exc: page(
                request, session, error=exc, status_code=status_code, **again
            ),
            done=done,
        )

    def card_page(self, request: Request, session: CurrentSession, **context: Any) -> HTMLResponse:
        if "pending" not in context:  # the page as a GET shows it
            context["pending"] = lifecycle.pending_online_card(self.services, session)
        return self.render(request, "online_card.html", ONLINE_CARD_PATH, session, **context)

    def replacement_page(
        self, request: Request, session: CurrentSession, *, address: str = "", **context: Any
    ) -> HTMLResponse:
        return self.render(
            request,
            "replacement.html",
            REPLACEMENT_PATH,
            session,
            requests=replacement.my_requests(self.services, session),
            accounts=replacement.deposit_accounts(self.services, session),
            address=address,
            done=request.query_params.get("done", ""),
            **context,
        )

    def request_page(
        self,
        request: Request,
        session: CurrentSession,
        request_id: str,
        *,
        error: SecureLoginError | None = None,
        prompt: object = None,
        status_code: int = 200,
    ) -> Response:
        try:
            found = replacement.overview(self.services, session, request_id[:40])
        except SecureLoginError:
            return redirect(request, page_language(request), REPLACEMENT_PATH)
        return self.render(
            request,
            "replacement_request.html",
            REPLACEMENT_PATH,
            session,
            error=error,
            item=found,
            prompt=prompt,
            status_code=status_code,
        )

    def on_request(
        self,
        request: Request,
        request_id: str,
        token: str,
        action: Callable[[CurrentSession], T],
        *,
        status_code: int,
        done: Callable[[CurrentSession, T], Response] | None = None,
    ) -> Response:
        """A POST about one replacement request: refused on its page, else back to it."""
        back = f"{REPLACEMENT_PATH}/{request_id[:40]}"
        return self.submit(
            request,
            FULL,
            token,
            action,
            page=lambda request, session, **again: self.request_page(
                request, session, request_id, **again
            ),
            status_code=status_code,
            done=done or (lambda _s, _r: redirect(request, page_language(request), back)),
        )

    def returns_page(
        self,
        request: Request,
        session: CurrentSession,
        *,
        started: returns.ReturnStarted | None = None,
        **context: Any,
    ) -> HTMLResponse:
        return self.render(
            request,
            "returns.html",
            RETURNS_PATH,
            session,
            devices=returns.returnable_devices(self.services, session),
            mine=returns.my_returns(self.services, session),
            reasons=[r.value for r in ReturnReason],
            regions=[r.value for r in Region],
            addresses={r.value: a for r, a in RETURN_ADDRESSES.items()},
            started=started,
            **context,
        )


def _lost(services: ServicesDep, pages: PortalPagesDep) -> LostPages:
    """This area's pages (made per request: a few attributes)."""
    return LostPages(services, AccountPages(services, pages))


Lost = Annotated[LostPages, Depends(_lost)]


router = APIRouter(include_in_schema=False)


# --- R-LOST-2 --------------------------------------------------------------------


@router.get(ONLINE_CARD_PATH, response_class=HTMLResponse)
def online_card(request: Request, lost: Lost) -> Response:
    return lost.show(request, CARD, lost.card_page)


@router.post(ONLINE_CARD_PATH, response_class=HTMLResponse)
def online_card_issue(
    request: Request, services: ServicesDep, lost: Lost, token: CsrfField = ""
) -> Response:
    def issued(session: CurrentSession, card: lifecycle.NewOnlineCard) -> Response:
        return lost.card_page(
            request,
            session,
            pending=card.device_id,
            grid=sorted(card.values.items()),
            expires_at=card.expires_at,
            prompt=card.prompt,
        )

    return lost.submit(
        request,
        CARD,
        token,
        lambda session: lifecycle.request_online_card(services, session),
        page=lost.card_page,
        status_code=409,
        pending=None,
        done=issued,
    )


@router.post(ONLINE_CARD_PATH + "/challenge", response_class=HTMLResponse)
def online_card_challenge(
    request: Request,
    services: ServicesDep,
    lost: Lost,
    device_id: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    return lost.submit(
        request,
        CARD,
        token,
        lambda session: lifecycle.activation_prompt(services, session, device_id[:40]),
        page=lost.card_page,
        status_code=409,
        pending=None,
        done=lambda session, prompt: lost.card_page(
            request, session, pending=device_id, prompt=prompt
        ),
    )


@router.post(ONLINE_CARD_PATH + "/activate", response_class=HTMLResponse)
def online_card_activate(
    request: Request,
    services: ServicesDep,
    lost: Lost,
    device_id: Annotated[str, Form()] = "",
    first: Annotated[str, Form()] = "",
    second: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    answer = (first.strip() + second.strip())[:RESPONSE_MAX]

    def wrong(session: CurrentSession, exc: SecureLoginError) -> Response:
        prompt = None
        with contextlib.suppress(SecureLoginError):
            prompt = lifecycle.activation_prompt(services, session, device_id[:40])
        return lost.card_page(
            request,
            session,
            error=exc,
            pending=device_id if prompt else None,
            prompt=prompt,
            status_code=422,
        )

    return lost.area.submit(
        request,
        CARD,
        token,
        lambda session: lifecycle.activate_online_card(services, session, device_id[:40], answer),
        refused=wrong,
        done=lambda _session, _result: redirect(
            request, page_language(request), REPLACEMENT_PATH + "?done=card"
        ),
    )


# --- R-LOST-3/4 ------------------------------------------------------------------


@router.get(REPLACEMENT_PATH, response_class=HTMLResponse)
def replacement_form(request: Request, lost: Lost) -> Response:
    return lost.show(request, FULL, lost.replacement_page)


@router.post(REPLACEMENT_PATH, response_class=HTMLResponse)
def replacement_draft(
    request: Request,
    services: ServicesDep,
    lost: Lost,
    address: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    return lost.submit(
        request,
        FULL,
        token,
        lambda session: replacement.draft_replacement(
            services, session, address=address[:1000], pin=pin[:16], account=account or None
        ),
        page=lost.replacement_page,
        status_code=422,
        address=address[:500],
        done=lambda _session, draft: redirect(
            request, page_language(request), f"{REPLACEMENT_PATH}/{draft.request_id}"
        ),
    )


@router.get(REPLACEMENT_PATH + "/{request_id}", response_class=HTMLResponse)
def replacement_overview(request: Request, request_id: str, lost: Lost) -> Response:
    return lost.area.show(
        request, FULL, lambda session: lost.request_page(request, session, request_id)
    )


@router.post(REPLACEMENT_PATH + "/{request_id}/confirm", response_class=HTMLResponse)
def replacement_confirm(
    request: Request, request_id: str, services: ServicesDep, lost: Lost, token: CsrfField = ""
) -> Response:
    return lost.on_request(
        request,
        request_id,
        token,
        lambda session: replacement.confirm_replacement(services, session, request_id[:40]),
        status_code=409,
    )


@router.post(REPLACEMENT_PATH + "/{request_id}/challenge", response_class=HTMLResponse)
def replacement_challenge(
    request: Request, request_id: str, services: ServicesDep, lost: Lost, token: CsrfField = ""
) -> Response:
    return lost.on_request(
        request,
        request_id,
        token,
        lambda session: lifecycle.replacement_prompt(services, session, request_id[:40]),
        status_code=409,
        done=lambda session, prompt: lost.request_page(request, session, request_id, prompt=prompt),
    )


@router.post(REPLACEMENT_PATH + "/{request_id}/activate", response_class=HTMLResponse)
def replacement_activate(
    request: Request,
    request_id: str,
    services: ServicesDep,
    lost: Lost,
    response: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    answer = response.strip()[:RESPONSE_MAX]
    return lost.on_request(
        request,
        request_id,
        token,
        lambda session: lifecycle.activate_replacement(services, session, request_id[:40], answer),
        status_code=422,
    )


# --- R-RETURN-1 --------------------------------------------------------------------


@router.get(RETURNS_PATH, response_class=HTMLResponse)
def returns_form(request: Request, lost: Lost) -> Response:
    return lost.show(request, FULL, lost.returns_page)


@router.post(RETURNS_PATH, response_class=HTMLResponse)
def returns_start(
    request: Request,
    services: ServicesDep,
    lost: Lost,
    device_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "us_canada",
    token: CsrfField = "",
) -> Response:
    return lost.submit(
        request,
        FULL,
        token,
        lambda session: returns.start_return(
            services,
            session,
            device_id=device_id[:40],
            reason=reason[:32],
            region=region[:32],
        ),
        page=lost.returns_page,
        status_code=422,
        done=lambda session, started: lost.returns_page(request, session, started=started),
    )


router.include_router(inbox.router)
