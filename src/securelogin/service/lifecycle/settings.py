"""Security settings of the Client Portal (SPEC §5.1, R-OPT-1..3): who may change them,
opting out with a signed waiver, and opting back in.

``users.opted_out`` is the one source of truth of an opt-out (the login, the limits and
the restrictions read it); ``opt_outs`` keeps each signed waiver word for word with its
version, SHA-256 digest and time.  The signature is the tick "I accept" on the waiver
shown plus the user's password typed again: the password is checked like a login's
(counted before the slow hash, R-LOGIN-3), so the settings page is no way to guess it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from securelogin.domain.access import is_usable
from securelogin.domain.audit import AuditEvent
from securelogin.domain.optout import (
    AccountRights,
    OptInChoice,
    Waiver,
    may_change,
    missing_rights,
    primaries_by_account,
    signed_waiver,
    waiver,
)
from securelogin.errors import (
    AlreadyOptedOut,
    Locked,
    NotOptedOut,
    NotPrimaryUser,
    OptOutDisabled,
    ReauthenticationFailed,
    Unauthenticated,
    WaiverNotSigned,
)
from securelogin.service.ceremony.counting import locked_until, lockout
from securelogin.service.ceremony.factors import candidate
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards
from securelogin.service.login_ports import FailureCounter
from securelogin.service.ports import UnitOfWork, UserRow
from securelogin.service.sharing_ports import NewOptOut

#: where each way back in continues (R-OPT-3); the mobile key page belongs to issue 4
NEXT_STEP: dict[OptInChoice, str] = {
    OptInChoice.MOBILE_KEY: "/portal/settings/mobile-key",
    OptInChoice.ONLINE_CARD: "/portal/settings/online-card",
    OptInChoice.SHARE: "/portal/settings/share",
}


@dataclass(frozen=True, kw_only=True)
class SettingsView:
    """What the security settings page shows to one user."""

    username: str
    opted_out: bool
    opted_out_since: datetime | None
    may_change: bool
    #: R-OPT-1: per account where this user lacks the right, who has it
    primary_users: tuple[tuple[str, str], ...]
    opt_out_allowed: bool
    has_active_device: bool
    waiver: Waiver


@dataclass(frozen=True, kw_only=True)
class OptedOut:
    waiver_version: str
    waiver_digest: str
    signed_at: datetime


@dataclass(frozen=True, kw_only=True)
class OptInResult:
    """Opted back in (``done``), or where to go first to get a device (``next_path``)."""

    done: bool
    choice: OptInChoice
    next_path: str | None = None
    card: cards.IssuedCard | None = None


def _user(uow: UnitOfWork, user_id: int) -> UserRow:
    user = uow.users.by_id(user_id)
    if user is None:
        raise Unauthenticated
    return user


def _rights(uow: UnitOfWork, user: UserRow) -> tuple[bool, tuple[tuple[str, str], ...]]:
    rows = uow.sharing.account_rights(user.id)
    primaries = primaries_by_account(rows)
    grants = [
        AccountRights(account=account, rights=rights, primary_users=primaries[account])
        for account, name, rights in rows
        if name == user.username
    ]
    return may_change(grants), missing_rights(grants)


def require_primary(uow: UnitOfWork, user: UserRow) -> None:
    """R-OPT-1: refuse anyone but the primary user, naming who has the right."""
    allowed, missing = _rights(uow, user)
    if not allowed:
        raise NotPrimaryUser(missing)


def has_active_device(uow: UnitOfWork, user_id: int, now: datetime) -> bool:
    return any(is_usable(candidate(r), now=now) for r in uow.device_access.of_user(user_id))


def settings_of(services: Services, *, user_id: int, language: str = "en") -> SettingsView:
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, user_id)
        allowed, missing = _rights(uow, user)
        current = uow.sharing.current_opt_out(user.id) if user.opted_out else None
        active = has_active_device(uow, user.id, now)
    return SettingsView(
        username=user.username,
        opted_out=user.opted_out,
        opted_out_since=current.signed_at if current else None,
        may_change=allowed,
        primary_users=missing,
        opt_out_allowed=services.policy.opt_out_allowed,
        has_active_device=active,
        waiver=waiver(language),
    )


def check_password(services: Services, user: UserRow, password: str) -> bool:
    """A password typed again, counted like a login's (R-LOGIN-3): the failure is
    reserved before the slow hash, cleared on success; ``Locked`` while locked."""
    now = services.clock.now()
    with services.uow() as uow:
        retry_at = locked_until(services, user, now)
        reserved = None
        if retry_at is None:
            reserved = uow.failures.reserve(
                user.id, FailureCounter.PASSWORD, now=now, lockout=lockout(services, now)
            )
        if reserved is None:
            services.passwords.verify_dummy(password="")
            raise Locked(retry_at=retry_at or now)
        uow.commit()
    if not services.passwords.verify(user.password_hash, password):
        return False
    with services.uow() as uow:
        uow.failures.clear(user.id, FailureCounter.PASSWORD)
        uow.commit()
    return True


def opt_out(
    services: Services,
    *,
    user_id: int,
    accept: bool,
    waiver_digest: str,
    password: str,
) -> OptedOut:
    """R-OPT-2: sign the waiver (tick + password) and opt out, in one unit of work.
    ``waiver_digest`` names the text the user was shown (in their language)."""
    if not services.policy.opt_out_allowed:
        raise OptOutDisabled
    shown = signed_waiver(waiver_digest)
    with services.uow() as uow:
        user = _user(uow, user_id)
        require_primary(uow, user)
        if user.opted_out:
            raise AlreadyOptedOut
    if not accept:
        raise WaiverNotSigned
    if shown is None:
        raise WaiverNotSigned("The waiver has changed since it was shown; read it again")
    if not check_password(services, user, password):
        _audit(services, "settings.signature_failed", user.username)
        raise ReauthenticationFailed
    now = services.clock.now()
    with services.uow() as uow:
        require_primary(uow, user)
        if not uow.sharing.set_opted_out(user.id, opted_out=True):
            raise AlreadyOptedOut
        uow.sharing.add_opt_out(
            NewOptOut(
                user_id=user.id,
                waiver_version=shown.version,
                waiver_language=shown.language,
                waiver_text=shown.text,
                waiver_digest=shown.digest,
            ),
            at=now,
        )
        uow.audit.record(
            AuditEvent(
                action="settings.opted_out",
                actor=user.username,
                subject=user.username,
                data={"waiver_version": shown.version, "waiver_digest": shown.digest},
            )
        )
        uow.commit()
    return OptedOut(waiver_version=shown.version, waiver_digest=shown.digest, signed_at=now)


def opt_back_in(services: Services, *, user_id: int, choice: OptInChoice) -> OptInResult:
    """R-OPT-3: only after an opt-out, by the primary user.  With an active device the
    user is back in at once; otherwise the chosen way gives them one first (an online
    card is issued here, by :func:`cards.issue_code_card`), then they confirm again."""
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, user_id)
        require_primary(uow, user)
        if not user.opted_out:
            raise NotOptedOut
        if has_active_device(uow, user.id, now):
            if not uow.sharing.set_opted_out(user.id, opted_out=False):
                raise NotOptedOut
            end_opt_out(uow, user, now=now, how=choice.value)
            uow.commit()
            return OptInResult(done=True, choice=choice)
    card = None
    if choice is OptInChoice.ONLINE_CARD:
        card = cards.issue_code_card(
            services, username=user.username, actor=user.username, online=True
        )
    return OptInResult(done=False, choice=choice, next_path=NEXT_STEP[choice], card=card)


def end_opt_out(uow: UnitOfWork, user: UserRow, *, now: datetime, how: str) -> None:
    """Close the signed waiver and record the way back in (the caller flipped the flag)."""
    uow.sharing.end_opt_out(user.id, at=now, how=how)
    uow.audit.record(
        AuditEvent(
            action="settings.opted_in",
            actor=user.username,
            subject=user.username,
            data={"how": how},
        )
    )


def _audit(services: Services, action: str, username: str) -> None:
    with services.uow() as uow:
        uow.audit.record(AuditEvent(action=action, actor=username, subject=username))
        uow.commit()
