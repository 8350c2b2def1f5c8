"""``GET /api/v1/me``: who the session belongs to, its tier and the user's devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from securelogin.domain.access import AccessLevel, temporary_access
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.errors import Unauthenticated
from securelogin.service.context import Services
from securelogin.service.sessions import CurrentSession, Tier


@dataclass(frozen=True, kw_only=True)
class DeviceSummary:
    device_id: str
    kind: DeviceKind
    serial: str | None
    state: str
    label: str | None


@dataclass(frozen=True, kw_only=True)
class Me:
    username: str
    access_level: AccessLevel
    tier: Tier
    devices: tuple[DeviceSummary, ...]
    #: a temporary-code session: when its full access ends (R-LOGIN-9), for the home page
    full_until: datetime | None = None


def describe_me(services: Services, session: CurrentSession) -> Me:
    with services.uow() as uow:
        user = uow.users.by_id(session.user_id)
        if user is None:
            raise Unauthenticated
        rows = uow.device_access.of_user(user.id)
    devices = tuple(
        DeviceSummary(
            device_id=r.public_id,
            kind=DeviceKind(r.kind),
            serial=r.serial,
            state=r.state,
            label=r.label,
        )
        for r in rows
    )
    full_until = None
    if session.tier.device_kind is DeviceKind.TEMPORARY_CODE:
        now = services.clock.now()
        ends = [
            temporary_access(r.activated_at, now=now)
            for r in rows
            if r.kind == DeviceKind.TEMPORARY_CODE and r.activated_at is not None
        ]
        full_until = max(
            (until for level, until in ends if level is AccessLevel.FULL), default=None
        )
    return Me(
        username=user.username,
        access_level=session.access_level,
        tier=session.tier,
        devices=devices,
        full_until=full_until,
    )
