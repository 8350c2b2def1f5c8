"""The login flow of SPEC §3: password, then one second-factor challenge, then a session.

The bookkeeping every device kind shares is written here once (STYLE.md rule 4):
password failures are counted *before* the hash is checked, by one atomic update; the
second-factor answers of one user are evaluated one at a time under a row lock and only
wrong ones count (R-LOGIN-3, ``service/ceremony/counting.py``); a challenge is
single-use, bound to its login, expires and takes at most 3 answers; a
time step or card pair accepted once is never accepted again (R-LOGIN-6).  Failed logins
say only "Invalid username or password" or "Login failed" (R-LOGIN-10).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import AccessLevel, Platform, is_usable, lock_ends
from securelogin.domain.audit import AuditEvent
from securelogin.domain.ceremony import CeremonyState
from securelogin.domain.identity import AccountStatus, PolicyViolation, normalize_username
from securelogin.errors import (
    AlreadyUsed,
    InvalidCredentials,
    Locked,
    LoginClosed,
    LoginExpired,
    LoginFailed,
    NoDeviceLeft,
    PushClosed,
    TooManyCodes,
    UnknownLogin,
)
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony import push
from securelogin.service.ceremony.counting import (
    Verdict,
    locked_until,
    lockout,
    serialise_login,
    settle,
)
from securelogin.service.ceremony.factors import (
    Accepted,
    FactorView,
    accepted_for,
    candidate,
    check_answer,
    choose_device,
    deliver_codes,
    deliver_wakeups,
    issue_challenge,
    open_ceremony,
    view_of_challenge,
)
from securelogin.service.ceremony.outcomes import Approval, Purpose
from securelogin.service.ceremony.ports import CeremonyRow
from securelogin.service.ceremony.record import state_of
from securelogin.service.context import Services
from securelogin.service.login_ports import DeviceRow, FailureCounter, LoginRow
from securelogin.service.ports import UnitOfWork, UserRow
from securelogin.service.sessions import SessionGrant, Tier, open_session

MAX_ANSWERS = 3


#: a login is a ceremony of purpose ``login``: its states and their one pure transition
#: function live in the domain (``domain/ceremony.py``)
LoginStatus = CeremonyState


@dataclass(frozen=True, kw_only=True)
class LoginStarted:
    login_id: str
    status: str
    factor: FactorView | None = None
    session: SessionGrant | None = None


@dataclass(frozen=True, kw_only=True)
class LoginState:
    login_id: str
    status: str
    factor: FactorView | None = None
    #: the session an approved push opened, handed out once (R-KEY-4)
    session: SessionGrant | None = None
    #: while in ``challenge``: when the login expires, and which challenge ``factor``
    #: shows (a new one after a resend or a fallback) — what a long-poll re-checks
    expires_at: datetime | None = None
    challenge_mark: int | None = None


def start_login(
    services: Services,
    *,
    username: str,
    password: str,
    platform: Platform,
    device_id: str | None = None,
    client_ip: str | None = None,
) -> LoginStarted:
    """R-LOGIN-1/3: check the password (same answer and work for unknown users), then
    open the second-factor challenge, or a session where none applies (R-LOGIN-7/8).
    ``client_ip`` is where the request came from (the push shows it, R-KEY-4)."""
    now = services.clock.now()
    user = check_password(services, username, password, now=now)
    with services.uow() as uow:
        uow.failures.clear(user.id, FailureCounter.PASSWORD)
        started = _after_password(services, uow, user, platform, device_id, now, client_ip)
        uow.commit()
    if started.factor is not None and started.factor.prompt.sent_to is not None:
        deliver_codes(services)
    if started.factor is not None and started.factor.prompt.number is not None:
        deliver_wakeups(services)
    return started


def check_password(services: Services, username: str, password: str, *, now: datetime) -> UserRow:
    """The password step with its counters (R-LOGIN-1/3), also used by the mobile key's
    activation; the caller clears the counter once its own transaction succeeds.

    A known and an unknown username do the same work in the same order (issue 12,
    finding 3): one transaction that counts the failure up front — the user's counter, or
    the typed name's (a keyed fingerprint) — one hash outside it, one audit record."""
    name, fingerprint = _typed_name(services, username)
    user = _reserve_password_attempt(services, name, fingerprint, now)
    if user is None or not services.passwords.verify(user.password_hash, password):
        actor = user.username if user is not None else "unknown"
        subject = user.username if user is not None else f"name:{fingerprint[:16]}"
        _record(services, AuditEvent(action="login.password_failed", actor=actor, subject=subject))
        raise InvalidCredentials
    return user


def _typed_name(services: Services, username: str) -> tuple[str | None, str]:
    """The normalised username (None when it cannot be one) and the keyed fingerprint
    its failures are counted under when nobody has it (R-LOGIN-3)."""
    try:
        name: str | None = normalize_username(username)
    except PolicyViolation:
        name = None
    typed = name or username.strip().casefold()
    return name, services.box.fingerprint(typed.encode("utf-8"), purpose="login-name")


def _reserve_password_attempt(
    services: Services, name: str | None, fingerprint: str, now: datetime
) -> UserRow | None:
    """Count the attempt as a failure up front, in its own short transaction, so that
    the slow hash runs outside any lock and parallel guesses never exceed the allowance.
    None for a name nobody has (counted too); ``Locked`` for a locked name, known or not."""
    retry_at = reserved = None
    limits = lockout(services, now)
    with services.uow() as uow:
        user = uow.users.by_username(name) if name else None
        if user is not None:
            retry_at = locked_until(services, user, now)
            if retry_at is None:
                reserved = uow.failures.reserve(
                    user.id, FailureCounter.PASSWORD, now=now, lockout=limits
                )
        else:
            reserved = uow.name_failures.reserve(fingerprint, now=now, lockout=limits)
            if reserved is None:
                retry_at = _name_locked_until(services, uow, fingerprint)
        if reserved is not None:
            uow.commit()
    # the hash (a dummy one unless a real check follows) runs after the transaction: no
    # write lock is held while it runs, so attempts do not queue behind each other
    if user is not None and reserved is not None:
        return user
    services.passwords.verify_dummy(password="")
    if reserved is not None:
        return None
    raise Locked(retry_at=retry_at or now)


def _name_locked_until(services: Services, uow: UnitOfWork, fingerprint: str) -> datetime | None:
    last = uow.name_failures.last(fingerprint)
    if last is None:
        return None
    window = timedelta(hours=services.policy.lockout_window_hours)
    return lock_ends(*last, threshold=services.policy.lockout_threshold, window=window)


def _after_password(
    services: Services,
    uow: UnitOfWork,
    user: UserRow,
    platform: Platform,
    device_id: str | None,
    now: datetime,
    client_ip: str | None,
) -> LoginStarted:
    login_id = "lg_" + base64.urlsafe_b64encode(services.random.token_bytes(16)).decode()
    login_id = login_id.rstrip("=")
    expires_at = now + timedelta(seconds=services.policy.login_ttl_seconds)
    level = _password_only_level(uow, user, platform)
    device = None
    if level is None:
        device = choose_device(services, uow, user_id=user.id, requested=device_id, now=now)
        if device is None and not user.opted_out:
            record_user_event(uow, "login.no_device", user.username)
            raise NoDeviceLeft
        if device is None:
            level = AccessLevel.FULL  # opted out and no device: the password is all there is
    if level is not None:
        grant = open_session(
            services,
            uow,
            user_id=user.id,
            device_id=None,
            access_level=level,
            tier=Tier(rank=0, device_kind=None),
            now=now,
        )
        uow.logins.add(
            login_id=login_id,
            user_id=user.id,
            platform=platform,
            ceremony_id=None,
            now=now,
            expires_at=expires_at,
            session_id=grant.session_id,
        )
        record_user_event(uow, "login.succeeded", user.username, level=level)
        return LoginStarted(login_id=login_id, status=LoginStatus.AUTHENTICATED, session=grant)
    assert device is not None  # noqa: S101 - level is None only when a device was chosen
    ceremony, factor = open_ceremony(
        services,
        uow,
        purpose=Purpose.LOGIN,
        subject=login_id,
        user_id=user.id,
        device=device,
        expires_at=expires_at,
        now=now,
        platform=platform,
        client_ip=client_ip,
    )
    uow.logins.add(
        login_id=login_id,
        user_id=user.id,
        platform=platform,
        ceremony_id=ceremony.id,
        now=now,
        expires_at=expires_at,
    )
    record_user_event(uow, "login.password_ok", user.username, kind=device.kind)
    return LoginStarted(login_id=login_id, status=LoginStatus.CHALLENGE, factor=factor)


def _password_only_level(uow: UnitOfWork, user: UserRow, platform: Platform) -> AccessLevel | None:
    grants = uow.users.grants_of(user.id)
    if grants and all(g.status is AccountStatus.CLOSED for g in grants):
        return AccessLevel.DOCUMENTS_ONLY  # R-LOGIN-8
    if user.opted_out and platform is Platform.TRADING:
        return AccessLevel.TRADING_PASSWORD_ONLY  # R-LOGIN-7
    return None


def login_state(services: Services, login_id: str) -> LoginState:
    """``GET /api/v1/logins/{id}``: where a login stands (expiry is computed, not stored)."""
    now = services.clock.now()
    with services.uow() as uow:
        found = uow.logins.get_with_challenge(login_id)
        if found is None:
            raise UnknownLogin
        login = found.login
        ceremony = login.ceremony
        status = state_of(ceremony, now) if ceremony else login.status
        challenge = None
        if ceremony is not None and status == LoginStatus.CHALLENGE:
            challenge = found.challenge
        factor = view_of_challenge(challenge, found.device) if challenge else None
        session = None
        if ceremony is not None and status == LoginStatus.AUTHENTICATED and services.mobile:
            session = push.collect_session(services, uow, ceremony.id)
            uow.commit()
    return LoginState(
        login_id=login.id,
        status=status,
        factor=factor,
        session=session,
        expires_at=login.expires_at if challenge else None,
        challenge_mark=challenge.id if challenge else None,
    )


def answer_login(services: Services, login_id: str, response: str) -> SessionGrant:
    """Check one answer in one transaction, under the user's answer lock (R-LOGIN-3):
    take one of the challenge's 3 answers, evaluate, then consume the challenge and open
    the session.  Only a wrong answer counts; a right one accepted before is
    ``AlreadyUsed`` (R-LOGIN-6), a twin of the answer that finished this login
    ``LoginClosed``."""
    now = services.clock.now()
    with services.uow() as uow:
        user = serialise_login(services, uow, login_id, now)
        if user is None:
            raise UnknownLogin
        # read under the lock: a twin answer may have ended the login meanwhile
        current = uow.logins.get_with_challenge(login_id)
        login, ceremony = _still_open(None if current is None else current.login, now)
        outcome = check_answer(
            services,
            uow,
            ceremony=ceremony,
            response=response,
            now=now,
            max_answers=MAX_ANSWERS,
            current=current,
        )
        settle(services, uow, user, outcome.verdict, now)
        if outcome.accepted is None:
            record_user_event(uow, "login.factor_failed", user.username, reason=outcome.reason)
            uow.commit()
            if outcome.verdict is Verdict.ALREADY_USED:
                raise AlreadyUsed
            if outcome.reason == "ceremony_closed":
                raise LoginClosed
            raise LoginFailed
        grant = _open_login_session(services, uow, login, user.username, outcome.accepted, now)
        uow.commit()
    return grant


def push_approved(services: Services, uow: UnitOfWork, approval: Approval) -> None:
    """The login's push was approved (wired in bootstrap.py; the ceremony has ended as
    authenticated in this unit of work): open the session in the same unit of work and
    keep it sealed for the client polling the login."""
    row = uow.logins.get(approval.subject)
    device = uow.device_access.by_id(approval.device_id)
    if row is None or device is None:
        raise PushClosed
    accepted = accepted_for(services, device, approval.at)
    grant = _open_login_session(services, uow, row, approval.username, accepted, approval.at)
    push.keep_session(services, uow, approval.push_id, grant)


def _challenge(
    services: Services,
    uow: UnitOfWork,
    ceremony: CeremonyRow,
    device: DeviceRow,
    now: datetime,
    *,
    fallback: bool = False,
) -> FactorView:
    """A new challenge (or push) for a login that is already open, within its expiry."""
    return issue_challenge(
        services,
        uow,
        device=device,
        ceremony=ceremony,
        expires_at=ceremony.expires_at,
        now=now,
        fallback=fallback,
    )


def _open_login(uow: UnitOfWork, login_id: str, now: datetime) -> tuple[LoginRow, CeremonyRow]:
    """The login and its ceremony, still waiting for the second factor."""
    return _still_open(uow.logins.get(login_id), now)


def _still_open(login: LoginRow | None, now: datetime) -> tuple[LoginRow, CeremonyRow]:
    if login is None:
        raise UnknownLogin
    ceremony = login.ceremony
    if ceremony is None or ceremony.state != LoginStatus.CHALLENGE:
        raise LoginClosed
    if now >= ceremony.expires_at:
        raise LoginExpired
    return login, ceremony


def _open_login_session(
    services: Services,
    uow: UnitOfWork,
    login: LoginRow,
    username: str,
    accepted: Accepted,
    now: datetime,
) -> SessionGrant:
    """The session of a login whose ceremony was just accepted (in this unit of work)."""
    ceremony = login.ceremony
    grant = open_session(
        services,
        uow,
        user_id=login.user_id,
        device_id=ceremony.device_id if ceremony else None,
        access_level=accepted.access_level,
        tier=accepted.tier,
        now=now,
        ends_by=accepted.access_until,
    )
    if not uow.logins.finish(login.id, session_id=grant.session_id, now=now):
        raise LoginClosed
    record_user_event(
        uow,
        "login.succeeded",
        username,
        level=grant.access_level,
        kind=accepted.tier.device_kind,
    )
    return grant


def _record(services: Services, event: AuditEvent) -> None:
    with services.uow() as uow:
        uow.audit.record(event)
        uow.commit()


#: codes sent per login, the first one included (SMS cost and abuse)
MAX_SENDS = 3


def resend_code(services: Services, login_id: str) -> FactorView:
    """ "Resend" on the SMS page: a new code, the old one retired; counters are not reset
    (R-LOGIN-3: asking for a new SMS does not reset a counter)."""
    now = services.clock.now()
    with services.uow() as uow:
        login, ceremony = _open_login(uow, login_id, now)
        device = uow.device_access.by_id(ceremony.device_id) if ceremony.device_id else None
        if device is None or device.kind not in ("sms", "mobile_key"):
            raise LoginClosed
        if not uow.ceremonies.count_send(ceremony.id, limit=MAX_SENDS - 1):
            raise TooManyCodes("No more codes can be sent for this login; start again later")
        uow.challenges.retire(ceremony.id, now=now)
        uow.mobile_keys.withdraw_pushes(ceremony.id, now=now)  # the new push: a new number
        factor = _challenge(services, uow, ceremony, device, now)
        user = uow.users.by_id(login.user_id)
        record_user_event(uow, "login.code_resent", user.username if user else "?")
        uow.commit()
    deliver_codes(services)
    deliver_wakeups(services)
    return factor


def fallback_challenge(services: Services, login_id: str) -> FactorView:
    """R-LOGIN-5 "Click here if you do not receive the notification": the mobile key's
    offline challenge; the push stays valid too, whichever succeeds first wins."""
    now = services.clock.now()
    with services.uow() as uow:
        _, ceremony = _open_login(uow, login_id, now)
        device = uow.device_access.by_id(ceremony.device_id) if ceremony.device_id else None
        if device is None or device.kind != "mobile_key":
            raise LoginClosed
        factor = _challenge(services, uow, ceremony, device, now, fallback=True)
        uow.commit()
    return factor


@dataclass(frozen=True, kw_only=True)
class DeviceChoice:
    device_id: str
    kind: str
    label: str | None
    serial: str | None
    current: bool


def login_devices(services: Services, login_id: str) -> list[DeviceChoice]:
    """The devices this login may switch to (the portal's device picker, R-LOGIN-4)."""
    now = services.clock.now()
    with services.uow() as uow:
        login, ceremony = _open_login(uow, login_id, now)
        rows = uow.device_access.of_user(login.user_id)
    usable = [r for r in rows if is_usable(candidate(r), now=now)]
    return [
        DeviceChoice(
            device_id=r.public_id,
            kind=r.kind,
            label=r.label,
            serial=r.serial,
            current=r.id == ceremony.device_id,
        )
        for r in usable
    ]


def switch_device(services: Services, login_id: str, device_id: str) -> FactorView:
    """Answer with another of the user's active devices: the open challenge is retired and
    the chosen device gets a fresh one; counters and the login's expiry stay as they are."""
    now = services.clock.now()
    with services.uow() as uow:
        login, ceremony = _open_login(uow, login_id, now)
        device = choose_device(services, uow, user_id=login.user_id, requested=device_id, now=now)
        if device is None:
            raise LoginFailed
        uow.challenges.retire(ceremony.id, now=now)
        uow.ceremonies.set_device(ceremony.id, device_id=device.id)
        factor = _challenge(services, uow, ceremony, device, now)
        uow.commit()
    if factor.prompt.sent_to is not None:
        deliver_codes(services)
    return factor


def login_states(services: Services, login_ids: list[str]) -> dict[str, LoginState]:
    """``login_state`` of many logins in one unit of work and one query (the long-polls'
    first reads, entrypoints/api/waits.py).  Only the logins that read alone would
    change nothing are answered: an unknown login and an ``authenticated`` one (whose
    session is handed out, a write) are left out, for ``login_state`` to read."""
    now = services.clock.now()
    with services.uow() as uow:
        found = uow.logins.with_challenges(login_ids)
    states: dict[str, LoginState] = {}
    for login_id, (row, challenge, device) in found.items():
        status = state_of(row.ceremony, now) if row.ceremony else row.status
        if status == LoginStatus.AUTHENTICATED:
            continue
        if status != LoginStatus.CHALLENGE:
            challenge = None
        states[login_id] = LoginState(
            login_id=row.id,
            status=status,
            factor=view_of_challenge(challenge, device) if challenge else None,
            expires_at=row.expires_at if challenge else None,
            challenge_mark=challenge.id if challenge else None,
        )
    return states
