"""``/api/v1/logins…`` and ``/api/v1/me`` (SPEC §10.2).  Each route calls one service
function and returns its result in the contract's shape; errors go through problems.py.
"""

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.schemas import (
    AnswerOut,
    AnswerRequest,
    DeviceOut,
    FactorOut,
    LoginOut,
    LoginRequest,
    MeOut,
    SessionOut,
    TierOut,
)
from securelogin.entrypoints.api.waits import HubsDep, LoginWaits, jittered
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.errors import Unauthenticated
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.login import login, me

#: the longest a client may long-poll a login (seconds)
MAX_WAIT = 60.0


class FallbackOut(BaseModel):
    prompt: dict[str, object]


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the session token as 'Authorization: Bearer TOKEN'")
    return token.strip()


def current(
    services: ServicesDep, token: Annotated[str, Depends(bearer_token)]
) -> sessions.CurrentSession:
    return sessions.authenticate(services, token)


router = APIRouter(prefix="/api/v1", tags=["login"])


@router.post(
    "/logins",
    status_code=201,
    response_model=LoginOut,
    responses=problem_responses(401, 422, 423, 429),
)
def start(body: LoginRequest, request: Request, services: ServicesDep) -> LoginOut:
    """Password step (R-LOGIN-1): a challenge for the second factor, or a session where
    none applies (R-LOGIN-7/8).  401 ``invalid_credentials``; 423 ``locked``."""
    started = login.start_login(
        services,
        username=body.username,
        password=body.password,
        platform=body.platform,
        device_id=body.device_id,
        client_ip=request.client.host if request.client else None,
    )
    return LoginOut(
        login_id=started.login_id,
        status=started.status,
        factor=FactorOut.of(started.factor) if started.factor else None,
        session=SessionOut.of(started.session) if started.session else None,
    )


@router.get("/logins/{login_id}", response_model=LoginOut, responses=problem_responses(404, 422))
async def state(
    login_id: str,
    services: ServicesDep,
    waits: HubsDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> LoginOut:
    """Where the login stands; ``?wait=S`` long-polls until it leaves ``challenge``
    (``authenticated`` once its push is approved, with the session, handed out once;
    ``denied`` after a denial).  A waiter holds no thread and no connection, and the
    re-poll of a login this process keeps as pending costs no query (waits.py)."""
    if wait <= 0:
        return _out(await run_in_threadpool(login.login_state, services, login_id))
    deadline = time.monotonic() + jittered(wait)
    return _out(await _long_poll(services, waits.logins, login_id, deadline))


async def _long_poll(
    services: Services, hub: LoginWaits, login_id: str, deadline: float
) -> login.LoginState:
    with hub.watch(login_id) as woken:  # first, so a change during a read wakes us
        now = hub.recall(login_id)
        if now is None:
            now = await hub.first_read(login_id, lambda: login.login_state(services, login_id))
        while now.status == "challenge" and (left := deadline - time.monotonic()) > 0:
            if not woken.is_set():
                hub.remember(now)  # no notify came during the read: still current
            if not await woken.wait(left):
                break  # nothing changed (else this process or the poller had woken us)
            woken.clear()
            now = await run_in_threadpool(login.login_state, services, login_id)
    return now


@router.post(
    "/logins/{login_id}/answer",
    response_model=AnswerOut,
    responses=problem_responses(401, 404, 409, 410, 422, 423),
)
async def answer(
    login_id: str, body: AnswerRequest, services: ServicesDep, waits: HubsDep
) -> AnswerOut:
    """The second factor's answer; 401 ``login_failed`` never says what was wrong."""
    try:
        grant = await run_in_threadpool(login.answer_login, services, login_id, body.response)
    finally:
        waits.logins.notify(login_id)  # a failed answer may have denied the login
    return AnswerOut(status="authenticated", session=SessionOut.of(grant))


@router.post(
    "/logins/{login_id}/fallback",
    response_model=FallbackOut,
    responses=problem_responses(404, 409, 410),
)
async def fallback(login_id: str, services: ServicesDep, waits: HubsDep) -> FallbackOut:
    """R-LOGIN-5 "Click here if you do not receive the notification": the mobile
    key's offline challenge; the push stays valid too (whichever succeeds first)."""
    factor = await run_in_threadpool(login.fallback_challenge, services, login_id)
    waits.logins.notify(login_id)  # the login shows this challenge now
    return FallbackOut(prompt=factor.prompt.as_json())


@router.post(
    "/logins/{login_id}/resend",
    response_model=FactorOut,
    responses=problem_responses(404, 409, 410, 429),
)
async def resend(login_id: str, services: ServicesDep, waits: HubsDep) -> FactorOut:
    """A new SMS code, or a new push (at most 3 per login), for this login."""
    factor = await run_in_threadpool(login.resend_code, services, login_id)
    waits.logins.notify(login_id)  # the login shows this challenge now
    return FactorOut.of(factor)


@router.get("/me", response_model=MeOut, responses=problem_responses(401))
def who(
    services: ServicesDep, session: Annotated[sessions.CurrentSession, Depends(current)]
) -> MeOut:
    """The session's user, access level, tier and devices."""
    found = me.describe_me(services, session)
    return MeOut(
        username=found.username,
        access_level=found.access_level,
        tier=TierOut.of(found.tier),
        devices=[
            DeviceOut(
                device_id=d.device_id,
                kind=d.kind,
                serial=d.serial,
                state=d.state,
                label=d.label,
            )
            for d in found.devices
        ],
    )


@router.delete("/sessions/current", status_code=204, responses=problem_responses(401))
def log_out(services: ServicesDep, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """Log out: the token stops working at once."""
    sessions.logout(services, token)
    return Response(status_code=204)


def _out(state: login.LoginState) -> LoginOut:
    return LoginOut(
        login_id=state.login_id,
        status=state.status,
        factor=FactorOut.of(state.factor) if state.factor else None,
        session=SessionOut.of(state.session) if state.session else None,
    )
