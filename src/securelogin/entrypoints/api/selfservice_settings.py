"""JSON API of the security settings (SPEC §5.1, §5.3; issue 16 §3): opting out and back
in (R-OPT-1..3) and sharing a device held under another username (R-SHARE-1..5).

The same use cases as the portal's pages (``entrypoints/portal/settings.py``):
:mod:`securelogin.service.lifecycle.settings` and :mod:`~securelogin.service.lifecycle.sharing`.
The opt-out is signed as in the portal (the waiver's digest and "I accept", then
confirmed through the second-factor ceremony, purpose ``settings``: the user's device,
or the password typed again for a user with none, counted like a login's); a share
request is confirmed by the owner's device through the ceremony (purpose ``share``).
Every call needs a ``full``
session (:mod:`~securelogin.entrypoints.api.selfservice_auth`); errors are the problem
documents of ``problems.py`` with the codes of ``securelogin.errors``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.optout import OptInChoice
from securelogin.domain.sharing import ShareStatus
from securelogin.entrypoints.api.logins import MAX_WAIT
from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.schemas import FactorOut
from securelogin.entrypoints.api.selfservice_auth import FullSession
from securelogin.entrypoints.api.waits import HubsDep, jittered
from securelogin.entrypoints.portal.mobile_key import activation_link
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service.lifecycle import settings, sharing
from securelogin.service.login import mobile_key

router = APIRouter(prefix="/api/v1", tags=["self-service: settings and sharing"])

#: where a client continues each way back in over the API (R-OPT-3)
NEXT_CALL: dict[OptInChoice, str] = {
    OptInChoice.MOBILE_KEY: "/api/v1/settings/mobile-key",
    OptInChoice.ONLINE_CARD: "/api/v1/online-card/{device_id}/challenge",
    OptInChoice.SHARE: "/api/v1/share-requests",
}


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrimaryUserOut(BaseModel):
    account: str
    #: the users who may change this account's security settings (comma-separated)
    users: str


class WaiverOut(BaseModel):
    version: str
    language: str
    text: str
    #: SHA-256 of version and text: what ``POST /settings/opt-out`` signs
    digest: str


class SettingsOut(BaseModel):
    username: str
    opted_out: bool
    opted_out_since: datetime | None
    #: R-OPT-1: False when the user lacks ``security_settings`` on one of their accounts
    may_change: bool
    primary_users: list[PrimaryUserOut]
    opt_out_allowed: bool
    has_active_device: bool
    waiver: WaiverOut
    opt_in_choices: list[OptInChoice]


class OptOutIn(StrictIn):
    #: the user ticked "I accept" under the waiver shown
    accept: StrictBool
    #: ``waiver.digest`` of the text shown (any language)
    waiver_digest: str = Field(min_length=1, max_length=64)


class OptOutStartedOut(BaseModel):
    confirmation_id: str
    status: Literal["confirmation_required"] = "confirmation_required"
    #: the user's device and what it must answer (a mobile key: a push with ``number``),
    #: or ``{"type":"password"}`` for a user with no device; answer with ``/confirm``
    factor: FactorOut
    expires_at: datetime


class OptOutConfirmIn(StrictIn):
    #: what the device shows (card answers: the two values concatenated), or the password
    response: str = Field(min_length=1, max_length=128)


class OptOutStatusOut(BaseModel):
    confirmation_id: str
    #: ``confirmation_required`` while it waits; ``opted_out`` once confirmed (by a
    #: typed answer or the push); ``closed`` when it ended without opting out
    status: Literal["confirmation_required", "opted_out", "closed"]
    factor: FactorOut | None = None


class OptedOutOut(BaseModel):
    opted_out: Literal[True] = True
    waiver_version: str
    waiver_digest: str
    signed_at: datetime


class OptInIn(StrictIn):
    choice: OptInChoice


class CardOut(BaseModel):
    """A new online security code card, shown once: print or save it now."""

    device_id: str
    serial: str | None
    #: position → the 3 characters printed there
    values: dict[str, str]


class OptInOut(BaseModel):
    #: True: back in the Secure Login System; False: get a device first, then call again
    done: bool
    choice: OptInChoice
    #: the API call that continues this way back in (``done`` False)
    next: str | None = None
    card: CardOut | None = None


class ShareStartIn(StrictIn):
    owner: str = Field(min_length=1, max_length=64)
    owner_password: str = Field(min_length=1, max_length=128)
    #: one of the owner's devices; by default the owner's most secure shareable device
    device_id: str | None = Field(default=None, min_length=1, max_length=40)


class ShareStartedOut(BaseModel):
    request_id: str
    status: Literal["challenge"] = "challenge"
    #: the owner's device and what it must answer (type its answer into ``/answer``)
    factor: FactorOut


class ShareAnswerIn(StrictIn):
    response: str = Field(min_length=1, max_length=64)


class ShareRequestOut(BaseModel):
    request_id: str
    requester: str
    owner: str
    device_id: str
    device_kind: DeviceKind
    device_serial: str | None
    status: ShareStatus
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None

    @classmethod
    def of(cls, view: sharing.ShareRequestView) -> ShareRequestOut:
        return cls(
            request_id=view.request_id,
            requester=view.requester,
            owner=view.owner,
            device_id=view.device_id,
            device_kind=view.device_kind,
            device_serial=view.device_serial,
            status=view.status,
            created_at=view.created_at,
            decided_at=view.decided_at,
            decided_by=view.decided_by,
            reason=view.reason,
        )


class ShareRequestsOut(BaseModel):
    requests: list[ShareRequestOut]


# --- R-OPT -----------------------------------------------------------------------------


@router.get("/settings", response_model=SettingsOut, responses=problem_responses(401, 403))
def settings_view(
    services: ServicesDep,
    session: FullSession,
    language: Annotated[Literal["en", "zh-CN"], Query()] = "en",
) -> SettingsOut:
    """R-OPT-1..3: whether the user takes part, who may change the settings (the primary
    users of the accounts where this user may not), and the waiver to sign, in
    ``language``."""
    view = settings.settings_of(services, user_id=session.user_id, language=language)
    return SettingsOut(
        username=view.username,
        opted_out=view.opted_out,
        opted_out_since=view.opted_out_since,
        may_change=view.may_change,
        primary_users=[PrimaryUserOut(account=a, users=u) for a, u in view.primary_users],
        opt_out_allowed=view.opt_out_allowed,
        has_active_device=view.has_active_device,
        waiver=WaiverOut(
            version=view.waiver.version,
            language=view.waiver.language,
            text=view.waiver.text,
            digest=view.waiver.digest,
        ),
        opt_in_choices=list(OptInChoice),
    )


@router.post(
    "/settings/opt-out",
    status_code=201,
    response_model=OptOutStartedOut,
    responses=problem_responses(401, 403, 409, 422),
)
def opt_out(
    services: ServicesDep, session: FullSession, body: OptOutIn, request: Request
) -> OptOutStartedOut:
    """R-OPT-2: accept the waiver; the change then waits for the user's strongest device
    (``factor``: a typed answer, or a mobile key's push with its ``number``) — with no
    device, the password typed again — answered by ``POST
    /settings/opt-out/{confirmation_id}/confirm``.  403 ``not_primary_user`` |
    ``opt_out_disabled``; 409 ``already_opted_out``; 422 ``waiver_not_signed``."""
    started = settings.start_opt_out(
        services,
        user_id=session.user_id,
        accept=body.accept,
        waiver_digest=body.waiver_digest,
        platform="api",
        client_ip=request.client.host if request.client else None,
    )
    return OptOutStartedOut(
        confirmation_id=started.confirmation_id,
        factor=FactorOut.of(started.factor),
        expires_at=started.expires_at,
    )


@router.post(
    "/settings/opt-out/{confirmation_id}/confirm",
    response_model=OptedOutOut,
    responses=problem_responses(401, 403, 404, 409, 422, 423),
)
def opt_out_confirm(
    services: ServicesDep,
    session: FullSession,
    confirmation_id: Annotated[str, Path(max_length=40)],
    body: OptOutConfirmIn,
) -> OptedOutOut:
    """R-OPT-2: the device's answer (or the password) opts out, in one transaction.
    401 ``reauthentication_failed`` (wrong: counted like a login's, R-LOGIN-3);
    423 ``locked``; 409 ``already_used`` | ``opt_out_closed`` | ``already_opted_out``;
    404 ``opt_out_not_found``."""
    done = settings.confirm_opt_out(
        services,
        user_id=session.user_id,
        confirmation_id=confirmation_id,
        response=body.response,
    )
    return OptedOutOut(
        waiver_version=done.waiver_version,
        waiver_digest=done.waiver_digest,
        signed_at=done.signed_at,
    )


@router.get(
    "/settings/opt-out/{confirmation_id}",
    response_model=OptOutStatusOut,
    responses=problem_responses(401, 403, 404),
)
def opt_out_status(
    services: ServicesDep,
    session: FullSession,
    confirmation_id: Annotated[str, Path(max_length=40)],
) -> OptOutStatusOut:
    """Where an opt-out's confirmation stands (poll it while a push waits).
    404 ``opt_out_not_found``."""
    step = settings.opt_out_step(services, user_id=session.user_id, confirmation_id=confirmation_id)
    if step.factor is not None:
        return OptOutStatusOut(
            confirmation_id=confirmation_id,
            status="confirmation_required",
            factor=FactorOut.of(step.factor),
        )
    return OptOutStatusOut(
        confirmation_id=confirmation_id, status="opted_out" if step.opted_out else "closed"
    )


@router.post(
    "/settings/opt-in", response_model=OptInOut, responses=problem_responses(401, 403, 409, 422)
)
def opt_in(services: ServicesDep, session: FullSession, body: OptInIn) -> OptInOut:
    """R-OPT-3: back in at once when the user holds an active device; otherwise the
    chosen way first gives them one (``online_card``: the card is in the answer, once)
    and ``next`` names the call that continues.  409 ``not_opted_out``."""
    result = settings.opt_back_in(services, user_id=session.user_id, choice=body.choice)
    card = result.card
    return OptInOut(
        done=result.done,
        choice=result.choice,
        next=None if result.done else NEXT_CALL[result.choice],
        card=CardOut(
            device_id=card.device_id,
            serial=card.serial,
            values={str(k): v for k, v in sorted(card.values.items())},
        )
        if card
        else None,
    )


class MobileKeyActivationOut(BaseModel):
    #: one-time, 10 minutes: the app completes it with ``POST
    #: /api/v1/key/activations/{activation_id}/complete`` (no SMS code needed)
    activation_id: str
    #: ``securelogin-key://activate?server=…&session=…``, what the portal's QR code carries
    link: str
    expires_at: datetime


@router.post(
    "/settings/mobile-key",
    status_code=201,
    response_model=MobileKeyActivationOut,
    responses=problem_responses(401, 403),
)
def mobile_key_activation(
    services: ServicesDep, session: FullSession, request: Request
) -> MobileKeyActivationOut:
    """R-KEY-1 from the security settings (and R-OPT-3's first way back in): the session
    already proved password and device, so the mobile key app needs only this one-time
    activation (the portal shows it as a QR code)."""
    started = mobile_key.start_qr_activation(services, session)
    server = str(request.base_url).rstrip("/")
    return MobileKeyActivationOut(
        activation_id=started.activation_id,
        link=activation_link(server, started.activation_id),
        expires_at=started.expires_at,
    )


# --- R-SHARE ---------------------------------------------------------------------------


@router.post(
    "/share-requests",
    status_code=201,
    response_model=ShareStartedOut,
    responses=problem_responses(401, 403, 422),
)
def share_start(services: ServicesDep, session: FullSession, body: ShareStartIn) -> ShareStartedOut:
    """R-SHARE-1/2: the owner's username and password; the owner's device is then
    challenged (its prompt is in ``factor``).  422 with an R-SHARE-3 code
    (``less_secure_device``, ``identity_mismatch``, ``temporary_device_assigned``,
    ``requester_is_owner``, ``device_not_shareable``, ``device_not_active``,
    ``already_shared``, ``owner_authentication_failed``) or ``unknown_device``."""
    started = sharing.start_share(
        services,
        requester_id=session.user_id,
        owner_username=body.owner,
        owner_password=body.owner_password,
        device_id=body.device_id,
    )
    return ShareStartedOut(request_id=started.request_id, factor=FactorOut.of(started.factor))


@router.post(
    "/share-requests/{request_id}/answer",
    response_model=ShareRequestOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def share_answer(
    services: ServicesDep,
    session: FullSession,
    waits: HubsDep,
    request_id: Annotated[str, Path(max_length=40)],
    body: ShareAnswerIn,
) -> ShareRequestOut:
    """R-SHARE-1/4/5: what the owner's device shows (card answers: the two values
    concatenated).  ``approved`` (the requester's own devices are retired, and a session
    one of them opened ends) or ``pending_compliance``.  422
    ``owner_authentication_failed`` (3 answers at most) or another R-SHARE-3 code;
    409 ``login_expired`` | ``share_request_decided``; 404 ``share_request_not_found``."""
    decided = await run_in_threadpool(
        lambda: sharing.answer_share(
            services, requester_id=session.user_id, request_id=request_id, response=body.response
        )
    )
    waits.shares.notify(request_id)  # a long-poll of it, here or in another process
    return ShareRequestOut.of(decided)


@router.get(
    "/share-requests", response_model=ShareRequestsOut, responses=problem_responses(401, 403)
)
def share_requests(services: ServicesDep, session: FullSession) -> ShareRequestsOut:
    """The user's latest share requests (20), newest first, and where each stands."""
    found = sharing.my_requests(services, user_id=session.user_id)
    return ShareRequestsOut(requests=[ShareRequestOut.of(r) for r in found])


@router.get(
    "/share-requests/{request_id}",
    response_model=ShareRequestOut,
    responses=problem_responses(401, 403, 404),
)
async def share_request(
    services: ServicesDep,
    session: FullSession,
    waits: HubsDep,
    request_id: Annotated[str, Path(max_length=40)],
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> ShareRequestOut:
    """One of the user's share requests (R-SHARE-4: ``pending_compliance`` until
    compliance decides; ``reason`` then says why); ``?wait=S`` long-polls while it
    waits for the owner's device (until a typed answer, or a push approval or denial in
    any process, decides it), as ``GET /logins/{id}`` does.  404
    ``share_request_not_found``."""

    def read() -> sharing.ShareRequestView:
        return sharing.my_request(services, user_id=session.user_id, request_id=request_id)

    deadline = time.monotonic() + jittered(wait)
    with waits.shares.watch(request_id) as woken:  # first: a change wakes us
        found = await run_in_threadpool(read)
        while found.status is ShareStatus.CHALLENGE and (left := deadline - time.monotonic()) > 0:
            if not await woken.wait(left):
                break  # nothing changed (else the poller had woken us)
            woken.clear()
            found = await run_in_threadpool(read)
    return ShareRequestOut.of(found)
