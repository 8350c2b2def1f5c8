"""Sessions (SPEC §1, R-LOGIN-8/9/11): opaque tokens stored hashed, access levels, idle and
absolute timeouts, and who the bearer of a token is."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import AccessLevel
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import AccountStatus, Right
from securelogin.errors import Unauthenticated
from securelogin.service.context import Services
from securelogin.service.ports import GrantView, UnitOfWork

TOKEN_PREFIX = "slt_"  # noqa: S105 - the public prefix of session tokens


@dataclass(frozen=True, kw_only=True)
class Tier:
    rank: int
    device_kind: DeviceKind | None


@dataclass(frozen=True, kw_only=True)
class SessionGrant:
    """What a successful login hands out; the token is shown once and stored hashed."""

    token: str
    access_level: AccessLevel
    tier: Tier
    expires_at: datetime
    session_id: int


@dataclass(frozen=True, kw_only=True)
class CurrentSession:
    session_id: int
    user_id: int
    access_level: AccessLevel
    tier: Tier
    expires_at: datetime


def token_hash(token: str) -> str:
    """SHA-256 suffices: tokens carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_sensitive(grants: list[GrantView]) -> bool:
    """R-LOGIN-11: sessions that may withdraw or change security settings time out idle."""
    wanted = {Right.WITHDRAW, Right.SECURITY_SETTINGS}
    return any(g.status is AccountStatus.OPEN and g.rights & wanted for g in grants)


def open_session(
    services: Services,
    uow: UnitOfWork,
    *,
    user_id: int,
    device_id: int | None,
    access_level: AccessLevel,
    tier: Tier,
    now: datetime,
    ends_by: datetime | None = None,
) -> SessionGrant:
    """Create a session inside the caller's unit of work (a new token on every login)."""
    policy = services.policy
    raw = base64.urlsafe_b64encode(services.random.token_bytes(32)).decode().rstrip("=")
    token = TOKEN_PREFIX + raw
    expires_at = now + timedelta(seconds=policy.session_absolute_seconds)
    if ends_by is not None:
        expires_at = min(expires_at, ends_by)
    idle = policy.session_idle_seconds if is_sensitive(uow.users.grants_of(user_id)) else None
    session_id = uow.sessions.add(
        token_hash=token_hash(token),
        user_id=user_id,
        device_id=device_id,
        access_level=access_level,
        tier_rank=tier.rank,
        tier_kind=tier.device_kind,
        now=now,
        expires_at=expires_at,
        idle_seconds=idle,
    )
    return SessionGrant(
        token=token,
        access_level=access_level,
        tier=tier,
        expires_at=expires_at,
        session_id=session_id,
    )


def authenticate(services: Services, token: str) -> CurrentSession:
    """The session behind a bearer token; refreshes its idle timer (R-LOGIN-11)."""
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.sessions.by_token_hash(token_hash(token))
        if row is None or row.revoked_at is not None or now >= row.expires_at:
            raise Unauthenticated("Your session has ended; please log in again")
        if row.device_id is not None and row.device_state != DeviceState.ACTIVE:
            # R-LOGIN-11: revoking (or losing) a device ends the sessions it created
            raise Unauthenticated("Your session has ended; please log in again")
        if row.idle_seconds is not None and now >= row.last_seen_at + timedelta(
            seconds=row.idle_seconds
        ):
            uow.sessions.revoke(row.id, now=now)
            uow.commit()
            raise Unauthenticated("Your session was idle too long; please log in again")
        uow.sessions.touch(row.id, now=now)
        uow.commit()
    kind = DeviceKind(row.tier_kind) if row.tier_kind else None
    return CurrentSession(
        session_id=row.id,
        user_id=row.user_id,
        access_level=AccessLevel(row.access_level),
        tier=Tier(rank=row.tier_rank, device_kind=kind),
        expires_at=row.expires_at,
    )


def logout(services: Services, token: str) -> None:
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.sessions.by_token_hash(token_hash(token))
        if row is not None:
            uow.sessions.revoke(row.id, now=now)
            uow.commit()
