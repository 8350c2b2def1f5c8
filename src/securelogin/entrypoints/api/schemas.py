"""Request and answer shapes of the JSON API (SPEC §10.2); names here are the contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from securelogin.domain.access import AccessLevel, Platform
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.service.ceremony.factors import FactorView
from securelogin.service.sessions import SessionGrant, Tier


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    platform: Platform = Platform.PORTAL
    device_id: str | None = Field(default=None, max_length=40)


#: the longest answer: a passkey's assertion, the JSON text of the PublicKeyCredential
ANSWER_MAX = 8192


class AnswerRequest(Strict):
    #: a typed code (≤ 64 characters matter), or for a passkey the JSON text of the
    #: ``PublicKeyCredential`` that ``navigator.credentials.get()`` returned
    response: str = Field(min_length=1, max_length=ANSWER_MAX)


class TierOut(BaseModel):
    rank: int
    device_kind: DeviceKind | None

    @classmethod
    def of(cls, tier: Tier) -> TierOut:
        return cls(rank=tier.rank, device_kind=tier.device_kind)


class SessionOut(BaseModel):
    token: str
    access_level: AccessLevel
    tier: TierOut
    expires_at: datetime

    @classmethod
    def of(cls, grant: SessionGrant) -> SessionOut:
        return cls(
            token=grant.token,
            access_level=grant.access_level,
            tier=TierOut.of(grant.tier),
            expires_at=grant.expires_at,
        )


class FactorOut(BaseModel):
    #: both null for the password of a rank-0 user with no device (R-WD-4)
    device_id: str | None = Field(description="null when the prompt is the password")
    kind: DeviceKind | None = Field(description="null when the prompt is the password")
    prompt: dict[str, object] = Field(
        description='SPEC §10.2: {"type": "push"|"challenge"|"card"|"sms"|"code"|"password", …}'
    )

    @classmethod
    def of(cls, factor: FactorView) -> FactorOut:
        return cls(device_id=factor.device_id, kind=factor.kind, prompt=factor.prompt.as_json())


class LoginOut(BaseModel):
    login_id: str
    status: str
    factor: FactorOut | None = None
    session: SessionOut | None = None


class AnswerOut(BaseModel):
    status: str
    session: SessionOut


class DeviceOut(BaseModel):
    device_id: str
    kind: DeviceKind
    serial: str | None
    state: str
    label: str | None


class MeOut(BaseModel):
    username: str
    access_level: AccessLevel
    tier: TierOut
    devices: list[DeviceOut]
