"""JSON API: the mobile key: activation, pull channel, push answers (R-KEY).

The wire protocol is docs/mobile-key-protocol.md.  Calls after activation are signed by
the app's P-256 key (headers ``X-SL-App``, ``X-SL-Time``, ``X-SL-Signature``).
"""

import base64
import json
import time
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.api.waits import HubsDep
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.errors import InvalidInput, KeySignatureInvalid, PushSubscriptionRejected
from securelogin.service.ceremony import push
from securelogin.service.login import key_biometric, key_pin, mobile_key
from securelogin.service.mobile_key_ports import AppRow

M = TypeVar("M", bound=BaseModel)

#: base64url (no padding) of 32 bytes: the app PIN's proof and the vault's server share
KEY32 = "^[A-Za-z0-9_-]{43}$"
#: the longest the pull channel waits (seconds)
MAX_PULL_WAIT = 60.0


class ActivationRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=200)


class PhoneOut(BaseModel):
    phone_id: str
    masked: str
    preselected: bool


class ActivationOut(BaseModel):
    activation_id: str
    phones: list[PhoneOut]
    expires_at: datetime


class CodeRequest(BaseModel):
    """A phone on record (``phone_id``) or a new number with its country — exactly one of
    the two (R-KEY-1; ``mobile_key.send_activation_code`` refuses anything else)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["phone_id"], "not": {"required": ["phone"]}},
                {"required": ["phone", "country"], "not": {"required": ["phone_id"]}},
            ]
        }
    )

    phone_id: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 64})] = Field(
        default=None, max_length=64
    )
    phone: Annotated[
        str | None, WithJsonSchema({"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"})
    ] = Field(default=None, max_length=20)
    country: Annotated[str | None, WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})] = (
        Field(default=None, max_length=2)
    )

    @field_validator("phone_id", "phone", "country", mode="before")
    @classmethod
    def _absent_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value


class CodeOut(BaseModel):
    sent_to: str


class PushIn(BaseModel):
    provider: Literal["webpush", "fcm", "apns"]
    token: str | None = Field(default=None, max_length=4000)
    subscription: dict[str, object] | None = None


class CompleteRequest(BaseModel):
    code: str | None = Field(default=None, max_length=12)
    public_key: str = Field(max_length=1000)
    recovery_pin: str = Field(max_length=64)
    push: PushIn | None = None
    #: the server-assisted app PIN (issue 12 §6): both or neither, base64url of 32 bytes
    pin_verifier: str | None = Field(default=None, pattern=KEY32)
    server_share: str | None = Field(default=None, pattern=KEY32)
    unlock_token: str | None = Field(default=None, pattern=KEY32)


class PinRequest(BaseModel):
    pin_verifier: str = Field(pattern=KEY32)
    server_share: str = Field(pattern=KEY32)
    unlock_token: str = Field(pattern=KEY32)


class UnlockRequest(BaseModel):
    unlock_token: str = Field(pattern=KEY32)
    proof: str = Field(pattern=KEY32)


class UnlockOut(BaseModel):
    server_share: str


class BiometricOptionsOut(BaseModel):
    ceremony_id: str
    #: creation options (registration) or request options (unlock), binary fields
    #: base64url, for ``navigator.credentials.create``/``get`` once decoded
    options: dict[str, object]


class BiometricRequest(BaseModel):
    #: the ``PublicKeyCredential`` as JSON (binary fields base64url)
    credential: dict[str, object]
    biometric_share: str = Field(pattern=KEY32)


class BiometricChallengeRequest(BaseModel):
    unlock_token: str = Field(pattern=KEY32)


class BiometricUnlockRequest(BaseModel):
    unlock_token: str = Field(pattern=KEY32)
    ceremony_id: str = Field(max_length=40)
    credential: dict[str, object]


class BiometricUnlockOut(BaseModel):
    biometric_share: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class PinResetRequest(BaseModel):
    unlock_token: str = Field(pattern=KEY32)
    recovery_pin: str = Field(max_length=64)


class OcraOut(BaseModel):
    suite: str
    secret: str


class EnrolledOut(BaseModel):
    app_id: str
    device_id: str
    username: str
    server_public_key: str
    ocra: OcraOut

    @classmethod
    def of(cls, e: mobile_key.Enrolled) -> "EnrolledOut":
        return cls(
            app_id=e.app_id,
            device_id=e.device_id,
            username=e.username,
            server_public_key=e.server_public_key,
            ocra=OcraOut(suite=e.suite, secret=e.secret),
        )


class AddUserRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=200)
    recovery_pin: str = Field(max_length=64)


class AddedOut(BaseModel):
    device_id: str
    username: str
    ocra: OcraOut


class AppUserOut(BaseModel):
    username: str
    device_id: str
    state: str


class AppOut(BaseModel):
    app_id: str
    users: list[AppUserOut]


class PushesOut(BaseModel):
    pushes: list[dict[str, object]]


class AnswerIn(BaseModel):
    decision: Literal["approve", "deny"]
    number: str | None = Field(default=None, max_length=2)
    not_me: bool = False
    signature: str = Field(max_length=400)


class PushAnswerOut(BaseModel):
    status: str


def _target(body: PushIn | None) -> mobile_key.PushTarget | None:
    if body is None:
        return None
    target = json.dumps(body.subscription) if body.provider == "webpush" else body.token
    if not target or target == "null":
        raise PushSubscriptionRejected("push needs its token (or subscription for webpush)")
    return mobile_key.PushTarget(provider=body.provider, target=target)


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}", field=where) from None


router = APIRouter(prefix="/api/v1/key", tags=["mobile key"])


async def signed(request: Request, services: ServicesDep) -> tuple[AppRow, bytes]:
    """The app's signature over method, path, time and body (401 key_signature_invalid)."""
    body = await request.body()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    app = await run_in_threadpool(
        lambda: mobile_key.authenticate_app(
            services,
            app_id=request.headers.get("x-sl-app"),
            timestamp=request.headers.get("x-sl-time"),
            signature=request.headers.get("x-sl-signature"),
            method=request.method,
            path=path,
            body=body,
        )
    )
    return app, body


Signed = Annotated[tuple[AppRow, bytes], Depends(signed)]


@router.post(
    "/activations",
    status_code=201,
    response_model=ActivationOut,
    responses=problem_responses(401, 422, 423),
)
def start(body: ActivationRequest, services: ServicesDep) -> ActivationOut:
    """R-KEY-1 step 1: username + password → the phones on record (one preselected)."""
    started = mobile_key.start_activation(services, username=body.username, password=body.password)
    return ActivationOut(
        activation_id=started.activation_id,
        phones=[
            PhoneOut(phone_id=p.phone_id, masked=p.masked, preselected=p.preselected)
            for p in started.phones
        ],
        expires_at=started.expires_at,
    )


@router.post(
    "/activations/{activation_id}/code",
    response_model=CodeOut,
    responses=problem_responses(404, 422, 429),
)
def send_code(activation_id: str, body: CodeRequest, services: ServicesDep) -> CodeOut:
    """R-KEY-1 step 2: the SMS activation code to a phone on record or a new number."""
    sent_to = mobile_key.send_activation_code(
        services, activation_id, phone_id=body.phone_id, phone=body.phone, country=body.country
    )
    return CodeOut(sent_to=sent_to)


@router.post(
    "/activations/{activation_id}/complete",
    status_code=201,
    response_model=EnrolledOut,
    responses=problem_responses(401, 404, 422, 423),
)
def complete(activation_id: str, body: CompleteRequest, services: ServicesDep) -> EnrolledOut:
    """R-KEY-1 step 3: code, public key, recovery PIN → the app and its OCRA secret."""
    enrolled = mobile_key.complete_activation(
        services,
        activation_id,
        code=body.code,
        public_key=body.public_key,
        recovery_pin=body.recovery_pin,
        push=_target(body.push),
        pin=key_pin.pin_setting(body.pin_verifier, body.server_share, body.unlock_token),
    )
    return EnrolledOut.of(enrolled)


@router.post(
    "/apps/{app_id}/unlock",
    response_model=UnlockOut,
    responses=problem_responses(401, 409, 422, 423),
)
def unlock(app_id: str, body: UnlockRequest, services: ServicesDep) -> UnlockOut:
    """The vault's server share for the right app PIN proof (issue 12 §6); not signed
    (the app's signing key is inside the vault this call opens) but carrying the
    unlock token the vault file holds."""
    share = key_pin.unlock(services, app_id=app_id, token=body.unlock_token, proof=body.proof)
    return UnlockOut(server_share=base64.urlsafe_b64encode(share).decode().rstrip("="))


@router.post(
    "/apps/{app_id}/biometric/registrations",
    status_code=201,
    response_model=BiometricOptionsOut,
    responses=problem_responses(401),
)
def biometric_options(app_id: str, auth: Signed, services: ServicesDep) -> BiometricOptionsOut:
    """Signed: creation options for the app's biometric credential (issue 15), a
    platform authenticator with user verification, a challenge valid 2 minutes."""
    app, _ = auth
    _same_app(app, app_id)
    started = key_biometric.start_registration(services, app)
    return BiometricOptionsOut(ceremony_id=started.ceremony_id, options=dict(started.options))


@router.post(
    "/apps/{app_id}/biometric/registrations/{ceremony_id}",
    status_code=204,
    responses=problem_responses(401, 409, 422),
)
def biometric_register(app_id: str, ceremony_id: str, auth: Signed, services: ServicesDep) -> None:
    """Signed: the new credential and the biometric share the server releases for
    its verified assertions; 422 ``passkey_rejected``, 409 ``passkey_ceremony_closed``."""
    app, raw = auth
    _same_app(app, app_id)
    body = _parse(BiometricRequest, raw)
    key_biometric.finish_registration(
        services,
        app,
        ceremony_id=ceremony_id,
        credential=json.dumps(body.credential),
        share=body.biometric_share,
    )


@router.delete("/apps/{app_id}/biometric", status_code=204, responses=problem_responses(401, 409))
def biometric_off(app_id: str, auth: Signed, services: ServicesDep) -> None:
    """Signed: biometric unlock off (credential and share forgotten)."""
    app, _ = auth
    _same_app(app, app_id)
    key_biometric.turn_off(services, app)


@router.post(
    "/apps/{app_id}/biometric/challenge",
    response_model=BiometricOptionsOut,
    responses=problem_responses(401, 409, 422),
)
def biometric_challenge(
    app_id: str, body: BiometricChallengeRequest, services: ServicesDep
) -> BiometricOptionsOut:
    """Request options for a biometric unlock (not signed: carries the unlock token)."""
    started = key_biometric.unlock_options(services, app_id=app_id, token=body.unlock_token)
    return BiometricOptionsOut(ceremony_id=started.ceremony_id, options=dict(started.options))


@router.post(
    "/apps/{app_id}/biometric/unlock",
    response_model=BiometricUnlockOut,
    responses=problem_responses(401, 409, 422, 423),
)
def biometric_unlock(
    app_id: str, body: BiometricUnlockRequest, services: ServicesDep
) -> BiometricUnlockOut:
    """The biometric share for an assertion the server verified (it replaces the PIN
    proof of ``unlock``); 401 ``biometric_rejected`` (counted like a wrong PIN)."""
    share = key_biometric.unlock(
        services,
        app_id=app_id,
        token=body.unlock_token,
        ceremony_id=body.ceremony_id,
        credential=json.dumps(body.credential),
    )
    return BiometricUnlockOut(biometric_share=_b64(share))


@router.put("/apps/{app_id}/push", status_code=204, responses=problem_responses(401, 422))
def set_push(app_id: str, auth: Signed, services: ServicesDep) -> None:
    """Signed: the app's wake-up target set after the activation (notifications turned
    on): ``{"provider":"webpush","subscription":{…}}`` or an FCM/APNs token; 422
    ``push_subscription_rejected`` for one that cannot be kept (nothing changed)."""
    app, raw = auth
    _same_app(app, app_id)
    try:
        body = PushIn.model_validate_json(raw or b"{}")
    except ValidationError:
        raise PushSubscriptionRejected(
            "push: provider webpush with its subscription, or fcm/apns with its token"
        ) from None
    mobile_key.set_push(services, app, _target(body))


@router.delete("/apps/{app_id}/push", status_code=204, responses=problem_responses(401))
def clear_push(app_id: str, auth: Signed, services: ServicesDep) -> None:
    """Signed: no more wake-ups through a provider (notifications turned off); the pull
    channel still brings the requests while the app is open."""
    app, _ = auth
    _same_app(app, app_id)
    mobile_key.set_push(services, app, None)


@router.put("/apps/{app_id}/pin", status_code=204, responses=problem_responses(401, 422))
def set_pin(app_id: str, auth: Signed, services: ServicesDep) -> None:
    """A new app PIN verifier and server share (a PIN change, or a vault upgrade)."""
    app, raw = auth
    _same_app(app, app_id)
    body = _parse(PinRequest, raw)
    setting = key_pin.pin_setting(body.pin_verifier, body.server_share, body.unlock_token)
    assert setting is not None  # noqa: S101 - both fields are required here
    key_pin.set_pin(services, app, setting)


@router.post(
    "/apps/{app_id}/pin/reset", status_code=204, responses=problem_responses(401, 422, 423)
)
def reset_pin(app_id: str, body: PinResetRequest, services: ServicesDep) -> None:
    """R-KEY-2: the recovery PIN re-enables an app PIN locked by wrong guesses."""
    key_pin.reset_pin(
        services, app_id=app_id, token=body.unlock_token, recovery_pin=body.recovery_pin
    )


@router.post(
    "/apps/{app_id}/users",
    status_code=201,
    response_model=AddedOut,
    responses=problem_responses(401, 422, 423),
)
def add_user(app_id: str, auth: Signed, services: ServicesDep) -> AddedOut:
    """R-KEY-3: another username in this app (password + the app's recovery PIN)."""
    app, raw = auth
    _same_app(app, app_id)
    body = _parse(AddUserRequest, raw)
    e = mobile_key.add_user(
        services,
        app,
        username=body.username,
        password=body.password,
        recovery_pin=body.recovery_pin,
    )
    return AddedOut(
        device_id=e.device_id, username=e.username, ocra=OcraOut(suite=e.suite, secret=e.secret)
    )


@router.get("/apps/{app_id}", response_model=AppOut, responses=problem_responses(401))
def describe(app_id: str, auth: Signed, services: ServicesDep) -> AppOut:
    """The usernames this app holds and the state of each key."""
    app, _ = auth
    _same_app(app, app_id)
    users = mobile_key.app_users(services, app)
    return AppOut(
        app_id=app.app_id,
        users=[
            AppUserOut(username=u.username, device_id=u.device_id, state=u.state) for u in users
        ],
    )


@router.get("/apps/{app_id}/pushes", response_model=PushesOut, responses=problem_responses(401))
async def pull(
    app_id: str,
    auth: Signed,
    services: ServicesDep,
    waits: HubsDep,
    wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT)] = 0,
) -> PushesOut:
    """The pull channel (R-KEY-4, no third party): pending pushes, oldest first;
    waits up to ``wait`` seconds when there are none."""
    app, _ = auth
    _same_app(app, app_id)
    deadline = time.monotonic() + wait
    while True:
        found = await run_in_threadpool(push.pending, services, app)
        left = deadline - time.monotonic()
        if found or left <= 0 or not await waits.apps.wait(app.app_id, left):
            return PushesOut(pushes=found)


@router.post(
    "/pushes/{push_id}/answer",
    response_model=PushAnswerOut,
    responses=problem_responses(401, 404, 409, 422, 423),
)
async def answer(
    push_id: str, auth: Signed, services: ServicesDep, waits: HubsDep
) -> PushAnswerOut:
    """The app's signed decision: 200 approved/denied; 422 number_mismatch; 409
    push_closed."""
    app, raw = auth
    body = _parse(AnswerIn, raw)
    result = await run_in_threadpool(
        lambda: push.answer_push(
            services,
            app,
            push_id=push_id,
            decision=body.decision,
            number=body.number,
            not_me=body.not_me,
            signature=body.signature,
        )
    )
    # the subject is the client's record (a login, a withdrawal, a share request): wake
    # whoever waits for it here and in the other processes (published after the commit)
    hub = waits.of_purpose(result.purpose)
    if hub is not None:
        hub.notify(result.subject)
    return PushAnswerOut(status=result.status)


def _same_app(app: AppRow, app_id: str) -> None:
    if app.app_id != app_id:
        raise KeySignatureInvalid("This app may act only on itself")
