"""JSON API of the lost-device story and of returns (SPEC §5.4, §5.5; issue 16 §3).

The same use cases as the portal's pages (``entrypoints/portal/lifecycle.py``):

* R-LOST-2, the online security code card, for a session opened with a temporary code
  (``full`` or ``card_only``): issue it (its values are in the answer, once), ask for an
  activation challenge (two positions), answer it — the card is active, the temporary
  code retired and the same session token continues on the card.
* R-LOST-3/4, a replacement device: a draft (shipping address, 4-digit soft PIN, the
  account carrying the deposit hold) → the overview → confirm (the hold is placed, an
  estimated ship date given) → follow it; once shipped, activate it by answering its
  challenge (or it activates itself 21 days after shipping).
* R-RETURN-1/4: what can be returned, the regional address, starting a return (code
  cards are shredded instead).

Reporting a lost device is the helpdesk's (R-LOST-1, after an identity check by phone):
the portal has no such action, so neither has this API.  Activation answers count on the
user's second-factor failure counter (R-LOGIN-3) in the use case.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from securelogin.domain.devices.base import Prompt
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.lifecycle import ADDRESS_MAX, RequestState, ReturnReason
from securelogin.domain.returns import RETURN_ADDRESSES, Region, ReturnAddress
from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.selfservice_auth import CardSession, FullSession
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service.lifecycle import lifecycle, replacement, returns
from securelogin.service.lifecycle_ports import OwnedDevice, ReturnRow

router = APIRouter(prefix="/api/v1", tags=["self-service: lost device and returns"])

DeviceId = Annotated[str, Path(max_length=40)]
RequestId = Annotated[str, Path(max_length=40)]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromptOut(BaseModel):
    #: as a login's prompt (SPEC §10.2): ``{"type":"card","indices":[I,J]}`` for cards,
    #: ``{"type":"challenge","challenge":"NNNNNN"}`` for challenge/response devices
    prompt: dict[str, object]

    @classmethod
    def of(cls, prompt: Prompt) -> PromptOut:
        return cls(prompt=prompt.as_json())


class AnswerIn(StrictIn):
    #: what the device shows; a card's two values concatenated (spaces and case ignored)
    response: str = Field(min_length=1, max_length=64)


# --- R-LOST-2 ---------------------------------------------------------------------------


class OnlineCardOut(BaseModel):
    """The new card, shown once (print or save it now), and its first challenge."""

    device_id: str
    #: position → the 3 characters printed there
    values: dict[str, str]
    expires_at: datetime | None
    prompt: dict[str, object]


class PendingCardOut(BaseModel):
    #: the online card waiting for activation, if any
    device_id: str | None


class ActivatedOut(BaseModel):
    device_id: str
    state: Literal["active"] = "active"


@router.get("/online-card", response_model=PendingCardOut, responses=problem_responses(401, 403))
def online_card_pending(services: ServicesDep, session: CardSession) -> PendingCardOut:
    """R-LOST-2: the user's online card that waits for activation (None: none)."""
    return PendingCardOut(device_id=lifecycle.pending_online_card(services, session))


@router.post(
    "/online-card",
    status_code=201,
    response_model=OnlineCardOut,
    responses=problem_responses(401, 403, 409),
)
def online_card_issue(services: ServicesDep, session: CardSession) -> OnlineCardOut:
    """R-LOST-2: a new online security code card for a session of a temporary code
    (403 ``access_denied`` otherwise); an earlier card still waiting is revoked.
    409 ``wrong_state`` when an online card is active already."""
    card = lifecycle.request_online_card(services, session)
    return OnlineCardOut(
        device_id=card.device_id,
        values={str(k): v for k, v in sorted(card.values.items())},
        expires_at=card.expires_at,
        prompt=card.prompt.as_json(),
    )


@router.post(
    "/online-card/{device_id}/challenge",
    response_model=PromptOut,
    responses=problem_responses(401, 403, 404, 409),
)
def online_card_challenge(
    services: ServicesDep, session: CardSession, device_id: DeviceId
) -> PromptOut:
    """A fresh activation challenge (two card positions, 10 minutes, 3 answers) for one
    of the user's devices that waits for activation.  404 ``not_found``; 409
    ``wrong_state``."""
    return PromptOut.of(lifecycle.activation_prompt(services, session, device_id))


@router.post(
    "/online-card/{device_id}/activate",
    response_model=ActivatedOut,
    responses=problem_responses(401, 403, 404, 409, 422, 423),
)
def online_card_activate(
    services: ServicesDep, session: CardSession, device_id: DeviceId, body: AnswerIn
) -> ActivatedOut:
    """R-LOST-2: the two values asked for → the card is active for its 21 days, the
    temporary code is retired and this session continues on the card (``full``, code
    card tier).  422 ``wrong_answer`` (counted, R-LOGIN-3); 409 ``wrong_state`` (ask
    for a new challenge); 423 ``locked``."""
    lifecycle.activate_online_card(services, session, device_id, body.response)
    return ActivatedOut(device_id=device_id)


# --- R-LOST-3/4 ---------------------------------------------------------------------------


class ReplacementIn(StrictIn):
    #: the shipping address, lines separated by newlines
    address: str = Field(min_length=1, max_length=ADDRESS_MAX * 2)
    #: R-LOST-3: the device's 4-digit soft PIN
    pin: str = Field(min_length=1, max_length=16)
    #: the account that carries the device deposit hold; default: the user's first open one
    account: str | None = Field(default=None, min_length=1, max_length=16)


class ReplacementOut(BaseModel):
    request_id: str
    kind: DeviceKind
    #: ``draft`` (check the overview, then confirm) → ``requested`` → ``assigned`` →
    #: ``shipped`` → ``activated``
    state: RequestState
    address: str
    account: str
    deposit: Annotated[Decimal, WithJsonSchema({"type": "string", "examples": ["20.00"]})]
    estimated_ship_date: date | None
    serial: str | None
    shipped_at: datetime | None
    #: when a shipped device becomes active by itself (R-LOST-4)
    activates_at: datetime | None

    @classmethod
    def of(cls, found: replacement.Replacement) -> ReplacementOut:
        return cls(
            request_id=found.request_id,
            kind=found.kind,
            state=found.state,
            address=found.address,
            account=found.account,
            deposit=found.deposit.quantize(Decimal("0.01")),
            estimated_ship_date=found.estimated_ship_date,
            serial=found.serial,
            shipped_at=found.shipped_at,
            activates_at=found.activates_at,
        )


class ReplacementsOut(BaseModel):
    requests: list[ReplacementOut]
    #: the accounts that may carry the deposit hold
    deposit_accounts: list[str]


@router.get("/replacements", response_model=ReplacementsOut, responses=problem_responses(401, 403))
def replacement_list(services: ServicesDep, session: FullSession) -> ReplacementsOut:
    """R-LOST-3/4: the user's submitted replacement requests and where each stands."""
    return ReplacementsOut(
        requests=[ReplacementOut.of(r) for r in replacement.my_requests(services, session)],
        deposit_accounts=replacement.deposit_accounts(services, session),
    )


@router.post(
    "/replacements",
    status_code=201,
    response_model=ReplacementOut,
    responses=problem_responses(401, 403, 409, 422),
)
def replacement_draft(
    services: ServicesDep, session: FullSession, body: ReplacementIn
) -> ReplacementOut:
    """R-LOST-3 step 1: a draft to check (nothing is held yet).  422
    ``invalid_soft_pin`` | ``invalid_input`` (``field`` address or account); 409
    ``wrong_state`` when a replacement is on its way already."""
    draft = replacement.draft_replacement(
        services, session, address=body.address, pin=body.pin, account=body.account
    )
    return ReplacementOut.of(draft)


@router.get(
    "/replacements/{request_id}",
    response_model=ReplacementOut,
    responses=problem_responses(401, 403, 404),
)
def replacement_show(
    services: ServicesDep, session: FullSession, request_id: RequestId
) -> ReplacementOut:
    """The overview of one of the user's requests (a draft to confirm, or where it
    stands).  404 ``not_found``."""
    return ReplacementOut.of(replacement.overview(services, session, request_id))


@router.post(
    "/replacements/{request_id}/confirm",
    response_model=ReplacementOut,
    responses=problem_responses(401, 403, 404, 409),
)
def replacement_confirm(
    services: ServicesDep, session: FullSession, request_id: RequestId
) -> ReplacementOut:
    """R-LOST-3: submit the draft; the deposit hold is placed (a hold, not a charge) and
    ``estimated_ship_date`` given.  409 ``wrong_state`` (submitted already) |
    ``deposit_not_covered``."""
    return ReplacementOut.of(replacement.confirm_replacement(services, session, request_id))


@router.post(
    "/replacements/{request_id}/challenge",
    response_model=PromptOut,
    responses=problem_responses(401, 403, 404, 409),
)
def replacement_challenge(
    services: ServicesDep, session: FullSession, request_id: RequestId
) -> PromptOut:
    """R-LOST-4: a challenge for the shipped device (10 minutes, 3 answers).
    404 ``not_found`` (not shipped yet); 409 ``wrong_state``."""
    return PromptOut.of(lifecycle.replacement_prompt(services, session, request_id))


@router.post(
    "/replacements/{request_id}/activate",
    response_model=ReplacementOut,
    responses=problem_responses(401, 403, 404, 409, 422, 423),
)
def replacement_activate(
    services: ServicesDep, session: FullSession, request_id: RequestId, body: AnswerIn
) -> ReplacementOut:
    """R-LOST-4: the device's answer → it is active at once, temporary devices are
    retired and this session continues on it.  422 ``wrong_answer`` (counted);
    409 ``wrong_state``; 423 ``locked``."""
    lifecycle.activate_replacement(services, session, request_id, body.response)
    return ReplacementOut.of(replacement.overview(services, session, request_id))


# --- R-RETURN ---------------------------------------------------------------------------


class AddressOut(BaseModel):
    region: Region
    lines: list[str]
    phones: list[str]
    local_lines: list[str]
    local_phones: list[str]

    @classmethod
    def of(cls, address: ReturnAddress) -> AddressOut:
        return cls(
            region=address.region,
            lines=list(address.lines),
            phones=list(address.phones),
            local_lines=list(address.local_lines),
            local_phones=list(address.local_phones),
        )


class ReturnableOut(BaseModel):
    device_id: str
    kind: DeviceKind
    serial: str | None
    state: str

    @classmethod
    def of(cls, device: OwnedDevice) -> ReturnableOut:
        return cls(
            device_id=device.public_id,
            kind=DeviceKind(device.kind),
            serial=device.serial,
            state=device.state,
        )


class ReturnOut(BaseModel):
    device_id: str
    kind: DeviceKind
    serial: str | None
    reason: ReturnReason
    region: Region
    #: ``pending`` until logistics records receipt, then ``received``
    state: str
    created_at: datetime
    received_at: datetime | None

    @classmethod
    def of(cls, row: ReturnRow) -> ReturnOut:
        return cls(
            device_id=row.device_public_id,
            kind=DeviceKind(row.kind),
            serial=row.serial,
            reason=ReturnReason(row.reason),
            region=Region(row.region),
            state=row.state,
            created_at=row.created_at,
            received_at=row.received_at,
        )


class ReturnsOut(BaseModel):
    #: the user's own physical devices that can be sent back (code cards: shredded)
    returnable: list[ReturnableOut]
    returns: list[ReturnOut]
    addresses: list[AddressOut]


class ReturnIn(StrictIn):
    device_id: str = Field(min_length=1, max_length=40)
    reason: Annotated[
        str, WithJsonSchema({"type": "string", "enum": [r.value for r in ReturnReason]})
    ]
    region: Annotated[
        str, WithJsonSchema({"type": "string", "enum": [r.value for r in Region]})
    ] = Region.US_CANADA.value


class ReturnStartedOut(BaseModel):
    device_id: str
    kind: DeviceKind
    #: R-RETURN-4: a code card is not sent back; it is shredded and deactivated
    shredded: bool
    #: where to send the device (None for a shredded card)
    address: AddressOut | None
    #: the shredded card was the user's last active device
    no_device_left: bool


@router.get("/returns", response_model=ReturnsOut, responses=problem_responses(401, 403))
def returns_list(services: ServicesDep, session: FullSession) -> ReturnsOut:
    """R-RETURN-1: what can be returned, the returns under way, the regional addresses."""
    return ReturnsOut(
        returnable=[ReturnableOut.of(d) for d in returns.returnable_devices(services, session)],
        returns=[ReturnOut.of(r) for r in returns.my_returns(services, session)],
        addresses=[AddressOut.of(a) for a in RETURN_ADDRESSES.values()],
    )


@router.post(
    "/returns",
    status_code=201,
    response_model=ReturnStartedOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def returns_start(services: ServicesDep, session: FullSession, body: ReturnIn) -> ReturnStartedOut:
    """R-RETURN-1/4: the device becomes ``return_pending`` and the answer names the
    regional address; a code card is shredded.  422 ``invalid_input`` (``field`` reason,
    region or device_id); 404 ``not_found``; 409 ``wrong_state``."""
    started = returns.start_return(
        services, session, device_id=body.device_id, reason=body.reason, region=body.region
    )
    return ReturnStartedOut(
        device_id=started.device_id,
        kind=started.kind,
        shredded=started.shredded,
        address=AddressOut.of(started.address) if started.address else None,
        no_device_left=started.no_device_left,
    )
