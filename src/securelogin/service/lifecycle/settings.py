"""Security settings of the Client Portal (SPEC §5.1, R-OPT-1..3): who may change them,
opting out with a signed waiver, and opting back in.

``users.opted_out`` is the one source of truth of an opt-out (the login, the limits and
the restrictions read it); ``opt_outs`` keeps each signed waiver word for word with its
version, SHA-256 digest and time.  The signature is the tick "I accept" on the waiver
shown, confirmed through the second-factor ceremony (purpose ``settings``): the user's
strongest device answers (a typed answer, or the mobile key's push), or, for a user
with no device, the password typed again — counted like a login's (R-LOGIN-3), so the
settings page is no way to guess either.  The answer and the opt-out commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

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
    AlreadyUsed,
    Locked,
    NotOptedOut,
    NotPrimaryUser,
    OptOutClosed,
    OptOutDisabled,
    ReauthenticationFailed,
    Unauthenticated,
    UnknownOptOut,
    WaiverNotSigned,
)
from securelogin.service.ceremony.answers import evaluated
from securelogin.service.ceremony.counting import Verdict, locked_until, lockout
from securelogin.service.ceremony.factors import (
    FactorView,
    candidate,
    choose_device,
    deliver_codes,
    factor_view,
    factor_without_device,
    issue_challenge,
    open_ceremony,
)
from securelogin.service.ceremony.outcomes import Approval, Purpose
from securelogin.service.ceremony.ports import CeremonyRow
from securelogin.service.ceremony.record import is_open
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
#: answers per challenge of the opt-out's confirmation (as a withdrawal's)
MAX_ANSWERS = 3


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


@dataclass(frozen=True, kw_only=True)
class OptOutStarted:
    """The waiver accepted; the opt-out waits for its confirmation (``factor``)."""

    confirmation_id: str
    factor: FactorView
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class OptOutStep:
    """What the confirmation page shows: the prompt while it is open (``pushed``: a
    mobile key's push waits, the page reloads), else whether the user is opted out."""

    factor: FactorView | None
    pushed: bool
    opted_out: bool


def start_opt_out(
    services: Services,
    *,
    user_id: int,
    accept: bool,
    waiver_digest: str,
    platform: str = "portal",
    client_ip: str | None = None,
) -> OptOutStarted:
    """R-OPT-2, first step: the waiver accepted ("I accept" on the text whose digest
    ``waiver_digest`` names), the change waits for the user's strongest device (a typed
    answer, or the mobile key's push) — with no device, the password typed again — in a
    ceremony of purpose ``settings`` whose subject is the waiver's digest."""
    if not services.policy.opt_out_allowed:
        raise OptOutDisabled
    shown = signed_waiver(waiver_digest)
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, user_id)
        require_primary(uow, user)
        if user.opted_out:
            raise AlreadyOptedOut
        if not accept:
            raise WaiverNotSigned
        if shown is None:
            raise WaiverNotSigned("The waiver has changed since it was shown; read it again")
        device = choose_device(services, uow, user_id=user.id, requested=None, now=now)
        if device is None:
            factor_without_device(services, Purpose.SETTINGS)
        expires_at = now + timedelta(seconds=services.policy.login_ttl_seconds)
        ceremony, factor = open_ceremony(
            services,
            uow,
            purpose=Purpose.SETTINGS,
            subject=shown.digest,
            user_id=user.id,
            device=device,
            expires_at=expires_at,
            now=now,
            platform=platform,
            client_ip=client_ip,
        )
        uow.commit()
    if factor.prompt.sent_to is not None:
        deliver_codes(services)
    return OptOutStarted(confirmation_id=ceremony.id, factor=factor, expires_at=expires_at)


def confirm_opt_out(
    services: Services, *, user_id: int, confirmation_id: str, response: str
) -> OptedOut:
    """R-OPT-2, second step: the device's answer (or the password) under the user's
    answer lock (R-LOGIN-3: only a wrong answer counts, on the same counter as a
    login's); when right, the opt-out is written in the same unit of work."""
    now = services.clock.now()

    def opened(uow: UnitOfWork) -> tuple[CeremonyRow, CeremonyRow]:
        ceremony = _own_ceremony(uow, user_id, confirmation_id)
        if not is_open(ceremony, now):
            raise OptOutClosed
        return ceremony, ceremony

    with evaluated(
        services,
        user_id=user_id,
        response=response,
        now=now,
        max_answers=MAX_ANSWERS,
        open_ceremony=opened,
    ) as turn:
        uow, held, outcome = turn.uow, turn.held, turn.outcome
        if outcome.accepted is None:
            uow.audit.record(
                AuditEvent(
                    action="settings.signature_failed", actor=held.username, subject=held.username
                )
            )
            uow.commit()
            if outcome.verdict is Verdict.ALREADY_USED:
                raise AlreadyUsed
            if outcome.verdict is Verdict.CLOSED:
                raise OptOutClosed
            raise ReauthenticationFailed
        user = _user(uow, user_id)
        done = _write_opt_out(uow, user, turn.subject.subject, now, via=_via(turn.subject))
        uow.commit()
    return done


def push_approved(services: Services, uow: UnitOfWork, approval: Approval) -> None:
    """The opt-out's push was approved (wired in bootstrap.py; the ceremony ended in
    this unit of work): write the opt-out in the same commit (raise to refuse)."""
    _write_opt_out(uow, _user(uow, approval.user_id), approval.subject, approval.at, via="push")


def opt_out_step(services: Services, *, user_id: int, confirmation_id: str) -> OptOutStep:
    """The confirmation page: the prompt (with the push's number) while it is open."""
    now = services.clock.now()
    with services.uow() as uow:
        ceremony = _own_ceremony(uow, user_id, confirmation_id)
        user = _user(uow, user_id)
        if not is_open(ceremony, now):
            return OptOutStep(factor=None, pushed=False, opted_out=user.opted_out)
        factor = factor_view(uow, ceremony.id)
        pending = uow.mobile_keys.pending_push_of(ceremony.id, now=now)
    if factor is not None and pending is not None:
        factor = replace(factor, prompt=replace(factor.prompt, number=pending.number))
    return OptOutStep(factor=factor, pushed=pending is not None, opted_out=user.opted_out)


def skip_push(services: Services, *, user_id: int, confirmation_id: str) -> None:
    """The "no notification" fallback (R-LOGIN-5): the pending push is withdrawn and
    the mobile key's offline challenge is issued instead, so the page shows what to
    type."""
    now = services.clock.now()
    with services.uow() as uow:
        ceremony = _own_ceremony(uow, user_id, confirmation_id)
        device = uow.device_access.by_id(ceremony.device_id) if ceremony.device_id else None
        if not is_open(ceremony, now) or device is None:
            return
        if uow.mobile_keys.pending_push_of(ceremony.id, now=now) is None:
            return  # no push waits: the offline challenge is already the prompt
        uow.mobile_keys.withdraw_pushes(ceremony.id, now=now)
        issue_challenge(
            services,
            uow,
            device=device,
            ceremony=ceremony,
            expires_at=ceremony.expires_at,
            now=now,
            fallback=True,
        )
        uow.commit()


def _own_ceremony(uow: UnitOfWork, user_id: int, confirmation_id: str) -> CeremonyRow:
    ceremony = uow.ceremonies.get(confirmation_id)
    if ceremony is None or ceremony.purpose is not Purpose.SETTINGS or ceremony.user_id != user_id:
        raise UnknownOptOut
    return ceremony


def _via(ceremony: CeremonyRow) -> str:
    return "device" if ceremony.device_id is not None else "password"


def _write_opt_out(
    uow: UnitOfWork, user: UserRow, waiver_digest: str, now: datetime, *, via: str
) -> OptedOut:
    """The opt-out itself, in the caller's unit of work: the flag, the signed waiver
    word for word, the audit."""
    shown = signed_waiver(waiver_digest)
    if shown is None:  # the waiver changed while the confirmation waited
        raise WaiverNotSigned("The waiver has changed since it was shown; read it again")
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
            data={"waiver_version": shown.version, "waiver_digest": shown.digest, "via": via},
        )
    )
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
