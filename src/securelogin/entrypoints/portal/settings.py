"""Client Portal pages of security settings (SPEC §5.1, §5.3; R-OPT-1..3, R-SHARE-1..5).

``/portal/settings`` shows whether the user takes part in the Secure Login System, the
notice naming the primary user when this user may not change settings (R-OPT-1), the
opt-out (a signed waiver, ``/portal/settings/opt-out``, then confirmed on
``/portal/settings/opt-out/{id}`` by the user's device — a mobile key's push page
reloads every ``PUSH_REFRESH_SECONDS`` with the fallback button — or, with no device,
the password) or the three ways back in, links
to the device pages of other features, and the user's sharing requests.  Sharing is
``/portal/settings/share``: the owner's username and password, then the owner's device
answers a challenge.  When that device is a mobile key it gets a push: the requester's
page (``/portal/settings/share/{id}``) shows its number and reloads every
``PUSH_REFRESH_SECONDS`` (a ``Refresh`` header, as the login and withdrawal pages) until
the owner approves or denies, then the settings page with the outcome; "no notification"
withdraws the push and shows the offline challenge issued with it.  Every page is for
``full`` sessions; every POST checks CSRF; each handler calls one service function and
turns its errors into words.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from securelogin.domain.access import AccessLevel
from securelogin.domain.optout import OptInChoice
from securelogin.domain.sharing import ShareStatus
from securelogin.entrypoints.portal.forms import AccountPages
from securelogin.entrypoints.portal.lifecycle import (
    ONLINE_CARD_PATH,
    REPLACEMENT_PATH,
    RETURNS_PATH,
)
from securelogin.entrypoints.portal.mobile_key import MOBILE_KEY_PATH
from securelogin.entrypoints.portal.passkeys import PASSKEYS_PATH
from securelogin.entrypoints.portal.prompts import prompt_page
from securelogin.entrypoints.portal.site import (
    ANSWER_MAX,
    PASSWORD_MAX,
    RESPONSE_MAX,
    USERNAME_MAX,
    PortalPagesDep,
)
from securelogin.entrypoints.portal.verify import PUSH_REFRESH_SECONDS
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import (
    CsrfField,
    Message,
    page_language,
    redirect,
)
from securelogin.errors import (
    SecureLoginError,
    ShareRefused,
    UnknownOptOut,
    UnknownShareRequest,
)
from securelogin.service.context import Services
from securelogin.service.lifecycle import settings, sharing
from securelogin.service.sessions import CurrentSession

SETTINGS_PATH = "/portal/settings"
OPT_OUT_PATH = "/portal/settings/opt-out"
OPT_OUT_ANSWER_PATH = "/portal/settings/opt-out/answer"
OPT_IN_PATH = "/portal/settings/opt-in"
SHARE_PATH = "/portal/settings/share"
SHARE_ANSWER_PATH = "/portal/settings/share/answer"
#: pages of other features this page links to (issue 4: mobile key; issue 6 B: lifecycle)
LINKS: tuple[tuple[str, str], ...] = (
    (MOBILE_KEY_PATH, "settings.link.mobile_key"),
    (PASSKEYS_PATH, "settings.link.passkeys"),
    (SHARE_PATH, "settings.link.share"),
    (ONLINE_CARD_PATH, "settings.link.online_card"),
    (REPLACEMENT_PATH, "settings.link.replacement"),
    (RETURNS_PATH, "settings.link.returns"),
)
#: ``?done=`` codes the settings page honours (a link cannot put other words on it)
DONE = ("opted_out", "opted_in", "share_approved", "share_pending", "share_failed")
FULL = {AccessLevel.FULL}


def error_words(exc: SecureLoginError) -> Message:
    if isinstance(exc, ShareRefused):
        return Message(tone="error", key=f"share.error.{exc.code}")
    known = {
        "not_primary_user",
        "opt_out_disabled",
        "already_opted_out",
        "not_opted_out",
        "waiver_not_signed",
        "reauthentication_failed",
        "already_used",
        "opt_out_closed",
        "locked",
    }
    key = exc.code if exc.code in known else "generic"
    return Message(tone="error", key=f"settings.error.{key}")


def _area(services: ServicesDep, pages: PortalPagesDep) -> AccountPages:
    """This feature's account pages (made per request: a few attributes)."""
    return AccountPages(services, pages, here=SETTINGS_PATH)


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
) -> HTMLResponse:
    view = settings.settings_of(services, user_id=current.user_id, language=page_language(request))
    return area.render(
        request,
        current,
        "settings.html",
        status_code=status_code,
        messages=messages,
        view=view,
        links=LINKS,
        choices=[c.value for c in OptInChoice],
        requests=sharing.my_requests(services, user_id=current.user_id),
    )


def share_refused(
    area: AccountPages, request: Request, current: CurrentSession, exc: SecureLoginError, owner: str
) -> Response:
    return area.render(
        request,
        current,
        "share.html",
        status_code=422,
        messages=(error_words(exc),),
        owner=owner,
        username_max=USERNAME_MAX,
    )


@router.get(SETTINGS_PATH, response_class=HTMLResponse)
def settings_page(request: Request, services: ServicesDep, area: Area) -> Response:
    done = request.query_params.get("done", "")
    messages = (Message(tone="info", key=f"settings.done.{done}"),) if done in DONE else ()
    return area.show(
        request, FULL, lambda current: overview(services, area, request, current, messages=messages)
    )


@router.get(OPT_OUT_PATH, response_class=HTMLResponse)
def opt_out_page(request: Request, services: ServicesDep, area: Area) -> Response:
    def waiver(current: CurrentSession) -> Response:
        view = settings.settings_of(
            services, user_id=current.user_id, language=page_language(request)
        )
        if not view.may_change or view.opted_out or not view.opt_out_allowed:
            return redirect(request, page_language(request), SETTINGS_PATH)
        return area.render(request, current, "settings_opt_out.html", view=view)

    return area.show(request, FULL, waiver)


@router.post(OPT_OUT_PATH, response_class=HTMLResponse)
def opt_out(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    accept: Annotated[str, Form(max_length=8)] = "",
    digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """R-OPT-2: the waiver accepted; the confirmation page asks the user's device."""
    lang = page_language(request)

    def refused(current: CurrentSession, exc: SecureLoginError) -> Response:
        view = settings.settings_of(services, user_id=current.user_id, language=lang)
        return area.render(
            request,
            current,
            "settings_opt_out.html",
            status_code=422,
            messages=(error_words(exc),),
            view=view,
        )

    return area.submit(
        request,
        FULL,
        token,
        lambda current: settings.start_opt_out(
            services,
            user_id=current.user_id,
            accept=accept == "yes",
            waiver_digest=digest,
            client_ip=request.client.host if request.client else None,
        ),
        refused=refused,
        done=lambda _current, started: redirect(
            request, lang, f"{OPT_OUT_PATH}/{started.confirmation_id}"
        ),
    )


def _opt_out_step(
    request: Request,
    services: Services,
    area: AccountPages,
    current: CurrentSession,
    confirmation_id: str,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
) -> Response:
    """The opt-out's confirmation page: the push's number while it waits (reloads by
    itself, as the login's push page), the typed prompt otherwise, the settings page
    once it ended."""
    lang = page_language(request)
    try:
        step = settings.opt_out_step(
            services, user_id=current.user_id, confirmation_id=confirmation_id
        )
    except UnknownOptOut:
        return redirect(request, lang, SETTINGS_PATH)
    if step.factor is None:  # confirmed (by the push) or ended
        if step.opted_out:
            return redirect(request, lang, f"{SETTINGS_PATH}?done=opted_out")
        return redirect(request, lang, OPT_OUT_PATH)
    shown = area.render(
        request,
        current,
        "settings_opt_out_confirm.html",
        status_code=status_code,
        messages=messages,
        prompt=prompt_page(step.factor),
        confirmation_id=confirmation_id,
        pushed=step.pushed,
    )
    if step.pushed:  # finishes once the phone approves; works without JavaScript
        shown.headers["Refresh"] = str(PUSH_REFRESH_SECONDS)
    return shown


@router.get(OPT_OUT_PATH + "/{confirmation_id}", response_class=HTMLResponse)
def opt_out_step(
    request: Request, confirmation_id: str, services: ServicesDep, area: Area
) -> Response:
    return area.show(
        request,
        FULL,
        lambda current: _opt_out_step(request, services, area, current, confirmation_id[:40]),
    )


@router.post(OPT_OUT_PATH + "/{confirmation_id}/fallback", response_class=HTMLResponse)
def opt_out_fallback(
    request: Request,
    confirmation_id: str,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
) -> Response:
    """Mobile key: the offline challenge instead of the push (R-LOGIN-5)."""
    current = area.form_session(request, FULL, token)
    if isinstance(current, Response):
        return current
    lang = page_language(request)
    try:
        settings.skip_push(services, user_id=current.user_id, confirmation_id=confirmation_id[:40])
    except UnknownOptOut:
        return redirect(request, lang, SETTINGS_PATH)
    return redirect(request, lang, f"{OPT_OUT_PATH}/{confirmation_id[:40]}")


@router.post(OPT_OUT_ANSWER_PATH, response_class=HTMLResponse)
def opt_out_answer(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    confirmation_id: Annotated[str, Form(max_length=40)] = "",
    response: Annotated[str, Form(max_length=PASSWORD_MAX)] = "",
    response_2: Annotated[str, Form(max_length=RESPONSE_MAX)] = "",
) -> Response:
    """R-OPT-2: the device's answer (or the password) opts out."""
    lang = page_language(request)

    def refused(current: CurrentSession, exc: SecureLoginError) -> Response:
        return _opt_out_step(
            request,
            services,
            area,
            current,
            confirmation_id,
            status_code=422,
            messages=(error_words(exc),),
        )

    return area.submit(
        request,
        FULL,
        token,
        lambda current: settings.confirm_opt_out(
            services,
            user_id=current.user_id,
            confirmation_id=confirmation_id,
            response=response + response_2,
        ),
        refused=refused,
        done=lambda _current, _result: redirect(request, lang, f"{SETTINGS_PATH}?done=opted_out"),
    )


@router.post(OPT_IN_PATH, response_class=HTMLResponse)
def opt_in(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    choice: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    current = area.form_session(request, FULL, token)
    if isinstance(current, Response):
        return current
    lang = page_language(request)
    try:
        picked = OptInChoice(choice)
    except ValueError:
        picked = None
    if picked is None:
        msg = Message(tone="error", key="settings.error.generic")
        return overview(services, area, request, current, status_code=422, messages=(msg,))
    try:
        result = settings.opt_back_in(services, user_id=current.user_id, choice=picked)
    except SecureLoginError as exc:
        return overview(
            services, area, request, current, status_code=422, messages=(error_words(exc),)
        )
    if result.done:
        return redirect(request, lang, f"{SETTINGS_PATH}?done=opted_in")
    if result.card is not None:  # shown once, never stored in the clear
        values = sorted(result.card.values.items())
        return area.render(request, current, "settings_card.html", values=values)
    return redirect(request, lang, result.next_path or SETTINGS_PATH)


@router.get(SHARE_PATH, response_class=HTMLResponse)
def share_page(request: Request, area: Area) -> Response:
    return area.show(
        request,
        FULL,
        lambda current: area.render(
            request, current, "share.html", owner="", username_max=USERNAME_MAX
        ),
    )


@router.post(SHARE_PATH, response_class=HTMLResponse)
def share_start(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    owner: Annotated[str, Form(max_length=USERNAME_MAX)] = "",
    owner_password: Annotated[str, Form(max_length=PASSWORD_MAX)] = "",
    device_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    return area.submit(
        request,
        FULL,
        token,
        lambda current: sharing.start_share(
            services,
            requester_id=current.user_id,
            owner_username=owner,
            owner_password=owner_password,
            device_id=device_id.strip() or None,
        ),
        refused=lambda current, exc: share_refused(area, request, current, exc, owner),
        done=lambda current, started: (
            # a push went to the owner's mobile key: its page, which finishes by itself
            redirect(request, page_language(request), f"{SHARE_PATH}/{started.request_id}")
            if started.factor.prompt.number is not None
            else area.render(
                request,
                current,
                "share_challenge.html",
                prompt=prompt_page(started.factor),
                request_id=started.request_id,
                owner=owner.strip().lower(),
                pushed=False,
            )
        ),
    )


def _share_done(status: ShareStatus) -> str:
    if status is ShareStatus.APPROVED:
        return "share_approved"
    return "share_pending" if status is ShareStatus.PENDING_COMPLIANCE else "share_failed"


@router.get(SHARE_PATH + "/{request_id}", response_class=HTMLResponse)
def share_step(request: Request, request_id: str, services: ServicesDep, area: Area) -> Response:
    """The requester's confirmation page: the push's number while it is pending (reloads
    by itself), the offline challenge after the fallback, the outcome once decided."""
    lang = page_language(request)

    def page(current: CurrentSession) -> Response:
        try:
            step = sharing.share_step(
                services, requester_id=current.user_id, request_id=request_id[:40]
            )
        except UnknownShareRequest:
            return redirect(request, lang, SETTINGS_PATH)
        if step.factor is None:  # decided, or its ceremony ended
            return redirect(request, lang, f"{SETTINGS_PATH}?done={_share_done(step.view.status)}")
        shown = area.render(
            request,
            current,
            "share_challenge.html",
            prompt=prompt_page(step.factor),
            request_id=step.view.request_id,
            owner=step.view.owner,
            pushed=step.pushed,
        )
        if step.pushed:  # as the login's push page: finishes once the phone approves
            shown.headers["Refresh"] = str(PUSH_REFRESH_SECONDS)  # works without JavaScript
        return shown

    return area.show(request, FULL, page)


@router.post(SHARE_PATH + "/{request_id}/fallback", response_class=HTMLResponse)
def share_fallback(
    request: Request, request_id: str, services: ServicesDep, area: Area, token: CsrfField = ""
) -> Response:
    """Mobile key: the offline challenge instead of the push (R-LOGIN-5)."""
    current = area.form_session(request, FULL, token)
    if isinstance(current, Response):
        return current
    lang = page_language(request)
    try:
        sharing.skip_push(services, requester_id=current.user_id, request_id=request_id[:40])
    except UnknownShareRequest:
        return redirect(request, lang, SETTINGS_PATH)
    return redirect(request, lang, f"{SHARE_PATH}/{request_id[:40]}")


@router.post(SHARE_ANSWER_PATH, response_class=HTMLResponse)
def share_answer(
    request: Request,
    services: ServicesDep,
    area: Area,
    token: CsrfField = "",
    request_id: Annotated[str, Form(max_length=40)] = "",
    response: Annotated[str, Form(max_length=ANSWER_MAX)] = "",
    response_2: Annotated[str, Form(max_length=RESPONSE_MAX)] = "",
) -> Response:
    def answered(_current: CurrentSession, decided: sharing.ShareRequestView) -> Response:
        # When the requester's own device opened this session, the approval ended it
        # and the settings page sends the browser to the login page (R-LOGIN-11).
        done = "share_pending" if decided.status == "pending_compliance" else "share_approved"
        return redirect(request, page_language(request), f"{SETTINGS_PATH}?done={done}")

    return area.submit(
        request,
        FULL,
        token,
        lambda current: sharing.answer_share(
            services,
            requester_id=current.user_id,
            request_id=request_id,
            response=response + response_2,
        ),
        refused=lambda current, exc: share_refused(area, request, current, exc, ""),
        done=answered,
    )
