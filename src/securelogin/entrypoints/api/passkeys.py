"""``/api/v1/passkeys…``: register, list and remove the session user's passkeys (issue 16
§2, docs/api.md "Passkeys").  Logging in and confirming withdrawals with a passkey go
through the ordinary ``answer``/``confirm`` calls (the prompt type ``passkey``)."""

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from securelogin.entrypoints.api.logins import current
from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service import sessions
from securelogin.service.login import passkeys


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationRequest(Strict):
    label: str | None = Field(default=None, max_length=64)


class RegistrationOut(BaseModel):
    registration_id: str
    #: ``PublicKeyCredentialCreationOptions`` (binary fields base64url), for
    #: ``navigator.credentials.create({publicKey: …})`` once decoded
    options: dict[str, object]
    expires_at: datetime


class CredentialRequest(Strict):
    #: the ``PublicKeyCredential`` as JSON (``credential.toJSON()``): ``id``, ``rawId``,
    #: ``type``, ``response.clientDataJSON``, ``response.attestationObject`` (base64url)
    credential: dict[str, object]


class PasskeyOut(BaseModel):
    device_id: str
    label: str
    state: str
    created_at: datetime | None


class PasskeyList(BaseModel):
    passkeys: list[PasskeyOut]


def _out(view: passkeys.PasskeyView) -> PasskeyOut:
    return PasskeyOut(
        device_id=view.device_id, label=view.label, state=view.state, created_at=view.created_at
    )


router = APIRouter(prefix="/api/v1/passkeys", tags=["passkeys"])


@router.post(
    "/registrations",
    status_code=201,
    response_model=RegistrationOut,
    responses=problem_responses(401, 403, 422),
)
def start(
    body: RegistrationRequest,
    services: ServicesDep,
    session: Annotated[sessions.CurrentSession, Depends(current)],
) -> RegistrationOut:
    """A new passkey's creation options (a single-use challenge, valid 5 minutes).
    403 ``device_login_required`` unless the session was opened with a device."""
    started = passkeys.start_registration(services, session, label=body.label)
    return RegistrationOut(
        registration_id=started.registration_id,
        options=dict(started.options),
        expires_at=started.expires_at,
    )


@router.post(
    "/registrations/{registration_id}",
    status_code=201,
    response_model=PasskeyOut,
    responses=problem_responses(401, 403, 409, 422),
)
def finish(
    registration_id: str,
    body: CredentialRequest,
    services: ServicesDep,
    session: Annotated[sessions.CurrentSession, Depends(current)],
) -> PasskeyOut:
    """The authenticator's answer; 422 ``passkey_rejected`` (origin, RP ID, challenge,
    user verification, signature), 409 ``passkey_ceremony_closed`` (used, expired or
    unknown registration).  Nothing is stored unless it verifies."""
    return _out(
        passkeys.finish_registration(
            services,
            session,
            registration_id=registration_id,
            credential=json.dumps(body.credential),
        )
    )


@router.get("", response_model=PasskeyList, responses=problem_responses(401))
def listed(
    services: ServicesDep, session: Annotated[sessions.CurrentSession, Depends(current)]
) -> PasskeyList:
    """The session user's active passkeys."""
    return PasskeyList(passkeys=[_out(p) for p in passkeys.list_passkeys(services, session)])


@router.delete("/{device_id}", status_code=204, responses=problem_responses(401, 403, 404))
def remove(
    device_id: str,
    services: ServicesDep,
    session: Annotated[sessions.CurrentSession, Depends(current)],
) -> Response:
    """The passkey stops working at once, and the sessions it opened end."""
    passkeys.remove_passkey(services, session, device_id=device_id)
    return Response(status_code=204)
