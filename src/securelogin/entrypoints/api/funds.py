"""JSON API: withdrawals (R-WD, R-LIMIT) and restrictions (R-RESTRICT-1), SPEC §10.2.

Each route calls one service function and returns its result in the contract's shape;
errors (with ``remaining`` for limit refusals) go through problems.py.
"""

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, JsonValue, WithJsonSchema

from securelogin.domain.limits import Remaining
from securelogin.domain.money import AMOUNT_PATTERN, from_cents
from securelogin.entrypoints.api.logins import MAX_WAIT, bearer_token
from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.schemas import ANSWER_MAX, FactorOut, TierOut
from securelogin.entrypoints.api.waits import HubsDep, KeyWaits, jittered
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service import sessions
from securelogin.service.funds import restrictions, withdrawal_confirm, withdrawals
from securelogin.service.funds.funds import remaining_json
from securelogin.service.funds.withdrawals import IDEMPOTENCY_KEY_PATTERN
from securelogin.service.funds_ports import WithdrawalStatus
from securelogin.service.oidc import bearer


class WithdrawalRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, max_length=16)
    #: SPEC §10.2: a string such as "123.45"; anything else (numbers, true, "1e3") is
    #: refused by the service as ``invalid_input`` with ``field: amount``
    amount: Annotated[
        JsonValue,
        WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["123.45"]}),
    ]
    destination: str = Field(min_length=1, max_length=64)
    #: another of the user's active devices confirms (its lower limits apply, R-LIMIT-1)
    device_id: str | None = Field(default=None, max_length=40)


class RemainingOut(BaseModel):
    today: str | None
    window: str | None

    @classmethod
    def of(cls, remaining: Remaining) -> "RemainingOut":
        body = remaining_json(remaining)
        return cls(today=body["today"], window=body["window"])


class WithdrawalStartedOut(BaseModel):
    withdrawal_id: str
    status: str
    factor: FactorOut | None = None
    remaining: RemainingOut


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(
        min_length=1,
        max_length=ANSWER_MAX,
        description="The device's answer, or the password for a"
        ' `{"type":"password"}` prompt (R-WD-4)',
    )


class ConfirmOut(BaseModel):
    withdrawal_id: str
    status: str
    reason: str | None = None
    remaining: RemainingOut


class FallbackOut(BaseModel):
    prompt: dict[str, object]


class WithdrawalOut(BaseModel):
    withdrawal_id: str
    account: str
    amount: str
    destination: str
    status: str
    reason: str | None
    business_day: date | None
    created_at: datetime
    expires_at: datetime


class LimitsOut(BaseModel):
    daily: str | None
    five_day: str | None


class AccountLimitsOut(BaseModel):
    account: str
    available: str
    remaining: RemainingOut


class RestrictionsOut(BaseModel):
    username: str
    sls_participant: bool
    tier: TierOut
    may_trade_pink_sheets: bool
    limits: LimitsOut
    accounts: list[AccountLimitsOut]


#: the header as the server checks it (``withdrawals.parse_request``), so that a missing or
#: bad key is ``invalid_input`` with ``field: idempotency_key`` like every other field
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "1-100 visible ASCII characters; the same key returns the same withdrawal",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 100,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}


def _money(cents: int | None) -> str | None:
    return None if cents is None else str(from_cents(cents))


def current(
    services: ServicesDep, token: Annotated[str, Depends(bearer_token)]
) -> sessions.CurrentSession:
    """A session token or an OpenID Connect access token (issue 16 §1)."""
    return bearer.authenticate(services, token)


Session = Annotated[sessions.CurrentSession, Depends(current)]


router = APIRouter(prefix="/api/v1", tags=["withdrawals"])


@router.post(
    "/withdrawals",
    status_code=201,
    response_model=WithdrawalStartedOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
def request(
    body: WithdrawalRequestIn,
    session: Session,
    http: Request,
    services: ServicesDep,
    token: Annotated[str, Depends(bearer_token)],
    idempotency_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> WithdrawalStartedOut:
    """R-WD-1: ask for a withdrawal; the answer names the device to confirm with and
    its prompt (bound to amount and destination, R-WD-4) — for a user with no device,
    ``{"type":"password"}`` (``device_id`` and ``kind`` null) within the rank-0
    limits.  422 ``insufficient_funds`` | ``daily_limit_exceeded`` |
    ``five_day_limit_exceeded`` with ``remaining``.  The bearer is a session token or
    an OpenID Connect access token; an access token whose ``acr`` is below the tier
    the amount needs answers 401 ``insufficient_user_authentication`` with
    ``WWW-Authenticate: Bearer error="insufficient_user_authentication",
    acr_values="…"`` (RFC 9470)."""
    parsed = withdrawals.parse_request(
        account=body.account,
        amount=body.amount,
        destination=body.destination,
        idempotency_key=idempotency_key,
        device_id=body.device_id,
    )
    # RFC 9470: an access token below the tier this amount needs is sent to step up
    bearer.require_tier_for(services, token, amount_cents=parsed.amount_cents)
    started = withdrawals.request_withdrawal(
        services, session, parsed, client_ip=http.client.host if http.client else None
    )
    return WithdrawalStartedOut(
        withdrawal_id=started.withdrawal_id,
        status=started.status,
        factor=FactorOut.of(started.factor) if started.factor else None,
        remaining=RemainingOut.of(started.remaining),
    )


@router.post(
    "/withdrawals/{withdrawal_id}/confirm",
    response_model=ConfirmOut,
    responses=problem_responses(401, 403, 404, 409, 410, 422, 423),
)
async def confirm(
    withdrawal_id: str, body: ConfirmIn, session: Session, services: ServicesDep, waits: HubsDep
) -> ConfirmOut:
    """The second factor's answer — or the password, for a password prompt (R-WD-4);
    a wrong one counts toward the lock-out (R-LOGIN-3).  Booked or refused
    atomically (R-LIMIT-5)."""
    try:
        result = await run_in_threadpool(
            withdrawal_confirm.confirm_withdrawal, services, session, withdrawal_id, body.response
        )
    finally:
        waits.withdrawals.notify(withdrawal_id)  # a long-poll on any process sees the outcome
    return ConfirmOut(
        withdrawal_id=result.withdrawal_id,
        status=result.status,
        reason=result.reason,
        remaining=RemainingOut.of(result.remaining),
    )


@router.post(
    "/withdrawals/{withdrawal_id}/fallback",
    response_model=FallbackOut,
    responses=problem_responses(401, 403, 404, 409, 410),
)
def fallback(withdrawal_id: str, session: Session, services: ServicesDep) -> FallbackOut:
    """Mobile key: the offline challenge instead of the push (R-LOGIN-5), bound to
    the withdrawal (R-WD-4)."""
    factor = withdrawal_confirm.push_fallback(services, session, withdrawal_id)
    return FallbackOut(prompt=factor.prompt.as_json())


@router.get(
    "/withdrawals/{withdrawal_id}",
    response_model=WithdrawalOut,
    responses=problem_responses(401, 404, 422),
)
async def show(
    withdrawal_id: str,
    session: Session,
    services: ServicesDep,
    waits: HubsDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> WithdrawalOut:
    """One of the caller's withdrawals and where it stands; ``?wait=S`` long-polls
    while it waits for its confirmation (until a typed answer or a push approval in
    any process decides it, or it expires), as ``GET /logins/{id}`` does."""

    def read() -> withdrawals.WithdrawalView:
        return withdrawals.withdrawal_status(services, session, withdrawal_id)

    found = await (
        _long_poll(waits.withdrawals, read, withdrawal_id, wait)
        if wait > 0
        else run_in_threadpool(read)
    )
    return WithdrawalOut(
        withdrawal_id=found.withdrawal_id,
        account=found.account,
        amount=str(found.amount),
        destination=found.destination,
        status=found.status,
        reason=found.reason,
        business_day=found.business_day,
        created_at=found.created_at,
        expires_at=found.expires_at,
    )


async def _long_poll(
    hub: KeyWaits,
    read: Callable[[], withdrawals.WithdrawalView],
    withdrawal_id: str,
    wait: float,
) -> withdrawals.WithdrawalView:
    deadline = time.monotonic() + jittered(wait)
    with hub.watch(withdrawal_id) as woken:  # first: a change wakes us
        found = await run_in_threadpool(read)
        while (
            found.status is WithdrawalStatus.CONFIRMATION_REQUIRED
            and (left := deadline - time.monotonic()) > 0
        ):
            if not await woken.wait(left):
                break  # nothing changed (else the poller had woken us)
            woken.clear()
            found = await run_in_threadpool(read)
    return found


@router.get(
    "/users/{username}/restrictions",
    response_model=RestrictionsOut,
    responses=problem_responses(401, 403, 404),
)
def restrictions_of(
    username: str, services: ServicesDep, token: Annotated[str, Depends(bearer_token)]
) -> RestrictionsOut:
    """R-RESTRICT-1, for a service key (``Bearer slk_…``) or the user's own session."""
    found = restrictions.restrictions_for(services, bearer=token, username=username)
    return RestrictionsOut(
        username=found.username,
        sls_participant=found.sls_participant,
        tier=TierOut.of(found.tier),
        may_trade_pink_sheets=found.may_trade_pink_sheets,
        limits=LimitsOut(
            daily=_money(found.limits.daily_cents),
            five_day=_money(found.limits.window_cents),
        ),
        accounts=[
            AccountLimitsOut(
                account=a.account,
                available=str(from_cents(a.available_cents)),
                remaining=RemainingOut.of(a.remaining),
            )
            for a in found.accounts
        ],
    )
