"""Client Portal pages of the lost-device story (issue 6): the online security code card
(R-LOST-2), the replacement request and its activation (R-LOST-3/4), returns
(R-RETURN-1), the message centre (R-OPS-5) and document downloads (R-LOGIN-8).

Each handler checks the session's level, calls one service function and renders; errors
come back on the same page with their message.  Every form carries the CSRF token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import Annotated, Any, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.domain.lifecycle import ReturnReason
from securelogin.domain.returns import RETURN_ADDRESSES, Region
from securelogin.entrypoints.portal.account import MENUS, session_for
from securelogin.entrypoints.portal.web import (
    CSRF_FIELD,
    RESPONSE_MAX,
    Pages,
    csrf_ok,
    page_language,
    redirect,
)
from securelogin.errors import SecureLoginError
from securelogin.service import documents, lifecycle, me, messages, replacement, returns
from securelogin.service.context import Services
from securelogin.service.sessions import CurrentSession

ONLINE_CARD_PATH = "/portal/online-card"
REPLACEMENT_PATH = "/portal/replacement"
RETURNS_PATH = "/portal/returns"
MESSAGES_PATH = "/portal/messages"
FULL = frozenset({AccessLevel.FULL})
CARD = frozenset({AccessLevel.FULL, AccessLevel.CARD_ONLY})
READERS = frozenset({AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY})
#: codes whose words the catalogue has; other errors show the service's message
ERROR_WORDS = {"wrong_answer": "lost.wrong_answer"}

Csrf = Annotated[str, Form(alias=CSRF_FIELD)]


def error_text(exc: SecureLoginError) -> tuple[str, dict[str, str]]:
    key = ERROR_WORDS.get(exc.code)
    return (key, {}) if key else ("lost.error", {"message": exc.message})


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def gate(request: Request, allowed: Collection[AccessLevel]) -> CurrentSession | Response:
        return session_for(services, request, allowed)

    def render(
        request: Request,
        template: str,
        here: str,
        session: CurrentSession,
        *,
        status_code: int = 200,
        error: SecureLoginError | None = None,
        **context: object,
    ) -> HTMLResponse:
        found = me.describe_me(services, session)
        problem = error_text(error) if error else None
        return pages.render(
            request,
            template,
            page_language(request),
            status_code=status_code,
            here=here,
            me=found,
            menu=MENUS.get(found.access_level, ()),
            **cast(
                dict[str, Any],
                {
                    "problem": problem,
                    "unread": messages.unread_count(services, session),
                    **context,
                },
            ),
        )

    def refused(request: Request) -> HTMLResponse:
        return pages.csrf_refused(request, page_language(request))

    # --- R-LOST-2 --------------------------------------------------------------------

    @router.get(ONLINE_CARD_PATH, response_class=HTMLResponse)
    def online_card_page(request: Request) -> Response:
        session = gate(request, CARD)
        if isinstance(session, Response):
            return session
        pending = lifecycle.pending_online_card(services, session)
        return render(request, "online_card.html", ONLINE_CARD_PATH, session, pending=pending)

    @router.post(ONLINE_CARD_PATH, response_class=HTMLResponse)
    def online_card_issue(request: Request, token: Csrf = "") -> Response:
        session = gate(request, CARD)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            card = lifecycle.request_online_card(services, session)
        except SecureLoginError as exc:
            return render(
                request,
                "online_card.html",
                ONLINE_CARD_PATH,
                session,
                error=exc,
                pending=None,
                status_code=409,
            )
        grid = sorted(card.values.items())
        return render(
            request,
            "online_card.html",
            ONLINE_CARD_PATH,
            session,
            pending=card.device_id,
            grid=grid,
            expires_at=card.expires_at,
            prompt=card.prompt,
        )

    @router.post(ONLINE_CARD_PATH + "/challenge", response_class=HTMLResponse)
    def online_card_challenge(
        request: Request, device_id: Annotated[str, Form()] = "", token: Csrf = ""
    ) -> Response:
        session = gate(request, CARD)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            prompt = lifecycle.activation_prompt(services, session, device_id[:40])
        except SecureLoginError as exc:
            return render(
                request,
                "online_card.html",
                ONLINE_CARD_PATH,
                session,
                error=exc,
                pending=None,
                status_code=409,
            )
        return render(
            request, "online_card.html", ONLINE_CARD_PATH, session, pending=device_id, prompt=prompt
        )

    @router.post(ONLINE_CARD_PATH + "/activate", response_class=HTMLResponse)
    def online_card_activate(
        request: Request,
        device_id: Annotated[str, Form()] = "",
        first: Annotated[str, Form()] = "",
        second: Annotated[str, Form()] = "",
        token: Csrf = "",
    ) -> Response:
        session = gate(request, CARD)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        answer = (first.strip() + second.strip())[:RESPONSE_MAX]
        try:
            lifecycle.activate_online_card(services, session, device_id[:40], answer)
        except SecureLoginError as exc:
            prompt = None
            with contextlib.suppress(SecureLoginError):
                prompt = lifecycle.activation_prompt(services, session, device_id[:40])
            return render(
                request,
                "online_card.html",
                ONLINE_CARD_PATH,
                session,
                error=exc,
                pending=device_id if prompt else None,
                prompt=prompt,
                status_code=422,
            )
        return redirect(request, page_language(request), REPLACEMENT_PATH + "?done=card")

    # --- R-LOST-3/4 ------------------------------------------------------------------

    def replacement_page(
        request: Request,
        session: CurrentSession,
        *,
        error: SecureLoginError | None = None,
        address: str = "",
        status_code: int = 200,
    ) -> HTMLResponse:
        return render(
            request,
            "replacement.html",
            REPLACEMENT_PATH,
            session,
            error=error,
            status_code=status_code,
            requests=replacement.my_requests(services, session),
            accounts=replacement.deposit_accounts(services, session),
            address=address,
            done=request.query_params.get("done", ""),
        )

    @router.get(REPLACEMENT_PATH, response_class=HTMLResponse)
    def replacement_form(request: Request) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        return replacement_page(request, session)

    @router.post(REPLACEMENT_PATH, response_class=HTMLResponse)
    def replacement_draft(
        request: Request,
        address: Annotated[str, Form()] = "",
        pin: Annotated[str, Form()] = "",
        account: Annotated[str, Form()] = "",
        token: Csrf = "",
    ) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            draft = replacement.draft_replacement(
                services, session, address=address[:1000], pin=pin[:16], account=account or None
            )
        except SecureLoginError as exc:
            return replacement_page(
                request, session, error=exc, address=address[:500], status_code=422
            )
        return redirect(request, page_language(request), f"{REPLACEMENT_PATH}/{draft.request_id}")

    def request_page(
        request: Request,
        session: CurrentSession,
        request_id: str,
        *,
        error: SecureLoginError | None = None,
        prompt: object = None,
        status_code: int = 200,
    ) -> Response:
        try:
            found = replacement.overview(services, session, request_id[:40])
        except SecureLoginError:
            return redirect(request, page_language(request), REPLACEMENT_PATH)
        return render(
            request,
            "replacement_request.html",
            REPLACEMENT_PATH,
            session,
            error=error,
            item=found,
            prompt=prompt,
            status_code=status_code,
        )

    @router.get(REPLACEMENT_PATH + "/{request_id}", response_class=HTMLResponse)
    def replacement_overview(request: Request, request_id: str) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        return request_page(request, session, request_id)

    @router.post(REPLACEMENT_PATH + "/{request_id}/confirm", response_class=HTMLResponse)
    def replacement_confirm(request: Request, request_id: str, token: Csrf = "") -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            replacement.confirm_replacement(services, session, request_id[:40])
        except SecureLoginError as exc:
            return request_page(request, session, request_id, error=exc, status_code=409)
        return redirect(request, page_language(request), f"{REPLACEMENT_PATH}/{request_id[:40]}")

    @router.post(REPLACEMENT_PATH + "/{request_id}/challenge", response_class=HTMLResponse)
    def replacement_challenge(request: Request, request_id: str, token: Csrf = "") -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            prompt = lifecycle.replacement_prompt(services, session, request_id[:40])
        except SecureLoginError as exc:
            return request_page(request, session, request_id, error=exc, status_code=409)
        return request_page(request, session, request_id, prompt=prompt)

    @router.post(REPLACEMENT_PATH + "/{request_id}/activate", response_class=HTMLResponse)
    def replacement_activate(
        request: Request,
        request_id: str,
        response: Annotated[str, Form()] = "",
        token: Csrf = "",
    ) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            lifecycle.activate_replacement(
                services, session, request_id[:40], response.strip()[:RESPONSE_MAX]
            )
        except SecureLoginError as exc:
            return request_page(request, session, request_id, error=exc, status_code=422)
        return redirect(request, page_language(request), f"{REPLACEMENT_PATH}/{request_id[:40]}")

    # --- R-RETURN-1 --------------------------------------------------------------------

    def returns_page(
        request: Request,
        session: CurrentSession,
        *,
        error: SecureLoginError | None = None,
        started: returns.ReturnStarted | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return render(
            request,
            "returns.html",
            RETURNS_PATH,
            session,
            error=error,
            status_code=status_code,
            devices=returns.returnable_devices(services, session),
            mine=returns.my_returns(services, session),
            started=started,
            reasons=[r.value for r in ReturnReason],
            regions=[r.value for r in Region],
            addresses={r.value: a for r, a in RETURN_ADDRESSES.items()},
        )

    @router.get(RETURNS_PATH, response_class=HTMLResponse)
    def returns_form(request: Request) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        return returns_page(request, session)

    @router.post(RETURNS_PATH, response_class=HTMLResponse)
    def returns_start(
        request: Request,
        device_id: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        region: Annotated[str, Form()] = "us_canada",
        token: Csrf = "",
    ) -> Response:
        session = gate(request, FULL)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        try:
            started = returns.start_return(
                services,
                session,
                device_id=device_id[:40],
                reason=reason[:32],
                region=region[:32],
            )
        except SecureLoginError as exc:
            return returns_page(request, session, error=exc, status_code=422)
        return returns_page(request, session, started=started)

    # --- R-OPS-5 ---------------------------------------------------------------------

    @router.get(MESSAGES_PATH, response_class=HTMLResponse)
    def message_centre(request: Request) -> Response:
        session = gate(request, READERS)
        if isinstance(session, Response):
            return session
        inbox = messages.inbox(services, session)
        return render(request, "messages.html", MESSAGES_PATH, session, inbox=inbox)

    @router.post(MESSAGES_PATH + "/read")
    def message_centre_read(request: Request, token: Csrf = "") -> Response:
        session = gate(request, READERS)
        if isinstance(session, Response):
            return session
        if not csrf_ok(request, token):
            return refused(request)
        messages.mark_all_read(services, session)
        return redirect(request, page_language(request), MESSAGES_PATH)

    # --- R-LOGIN-8 ---------------------------------------------------------------------

    @router.get("/portal/documents/{document_id}.pdf")
    def document_download(request: Request, document_id: str) -> Response:
        session = gate(request, READERS)
        if isinstance(session, Response):
            return session
        try:
            found = documents.download(services, session, document_id[:40])
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
