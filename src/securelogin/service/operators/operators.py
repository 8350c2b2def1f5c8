"""Operators and their console sessions (SPEC §1 "Operator", §7, §8).

An operator logs in to the console with a username and password (Argon2id, R-LOGIN-2),
then with a TOTP code of their own (RFC 6238, SHA-1, 6 digits, 30 s; the seed is sealed
with the master key).  The same rules as client logins apply: no user enumeration
(R-LOGIN-1), failures counted atomically before an answer is checked and 10 of them lock
(R-LOGIN-3), a TOTP step accepted once is never accepted again (R-LOGIN-6).  Console
sessions are opaque tokens stored hashed, with a short idle timeout and an absolute
lifetime; every change is audited with the actor ``operator:<name>`` (R-OPS-6).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from securelogin.domain import otp
from securelogin.domain.audit import AuditEvent
from securelogin.domain.identity import PolicyViolation, check_password, normalize_username
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.errors import (
    CannotDisableSelf,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    Locked,
    LoginFailed,
    NotFound,
    NotLocked,
    Unauthenticated,
)
from securelogin.service.ceremony.counting import locked_until, lockout
from securelogin.service.context import Services
from securelogin.service.login_ports import FailureCounter
from securelogin.service.operator_ports import OperatorRepository, OperatorRow
from securelogin.service.sessions import token_hash

ISSUER = "SecureLogin Console"
TOTP_DIGITS = 6
TOTP_PERIOD = 30
TOTP_SEED_BYTES = 20
#: the TOTP step must follow the password step within this time
TOTP_STAGE_SECONDS = 180
STAGE_TOTP = "totp"
STAGE_ACTIVE = "active"
TOKEN_PREFIX = "slo_"  # noqa: S105 - the public prefix of console tokens
CONTROL_ACTOR = "admin"


@dataclass(frozen=True, kw_only=True)
class OperatorEnrolled:
    """A new operator; the TOTP secret is shown once (for the authenticator app)."""

    operator: Operator
    secret_base32: str
    otpauth_uri: str


@dataclass(frozen=True, kw_only=True)
class OperatorSummary:
    username: str
    roles: frozenset[Role]
    disabled: bool
    locked: bool
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ConsoleGrant:
    """A console session: the token goes into the console cookie, stored only hashed."""

    token: str
    operator: Operator
    expires_at: datetime


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """``helpdesk``, ``compliance``, ``logistics``, ``admin``; at least one."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(f"unknown role {name!r} (known: {known})", field="role") from None
    if not roles:
        raise InvalidInput("an operator needs at least one role", field="role")
    return frozenset(roles)


def _operator_name(username: str) -> str:
    try:
        return normalize_username(username)
    except PolicyViolation as exc:
        raise InvalidInput(str(exc), field="username") from None


def as_operator(row: OperatorRow) -> Operator:
    return Operator(id=row.id, username=row.username, roles=frozenset(Role(r) for r in row.roles))


def otpauth_uri(username: str, secret_base32: str) -> str:
    """The Key URI Format authenticator apps read (SHA1, 6 digits, 30 s)."""
    label = quote(f"{ISSUER}:{username}")
    return (
        f"otpauth://totp/{label}?secret={secret_base32}&issuer={quote(ISSUER)}"
        f"&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD}"
    )


def _totp_context(username: str) -> str:
    return f"operator-totp:{username}"


def create_operator(
    services: Services,
    *,
    username: str,
    password: str,
    roles: frozenset[Role],
    actor: str = CONTROL_ACTOR,
    acting: Operator | None = None,
) -> OperatorEnrolled:
    """``admin operator create``: password policy of R-LOGIN-2, a fresh TOTP seed.

    ``acting``: the console admin doing it (role ``admin``, audited as them); without
    it the caller is the server's command line (actor ``actor``)."""
    actor = _acting_actor(acting, actor)
    name = _operator_name(username)
    if not roles:
        raise InvalidInput("an operator needs at least one role", field="role")
    try:
        check_password(password, common=services.policy.common_passwords)
    except PolicyViolation as exc:
        raise InvalidInput(str(exc), field="password") from None
    seed, sealed = _new_seed(services, name)
    password_hash = services.passwords.hash(password)
    now = services.clock.now()
    with services.uow() as uow:
        operator_id = uow.operators.add(
            username=name,
            password_hash=password_hash,
            totp_secret=sealed,
            roles=frozenset(r.value for r in roles),
            at=now,
        )
        uow.audit.record(
            AuditEvent(
                action="operator.created",
                actor=actor,
                subject=f"operator:{name}",
                data={"roles": ",".join(sorted(r.value for r in roles))},
            )
        )
        uow.commit()
    return _enrolled(Operator(id=operator_id, username=name, roles=roles), seed)


def _acting_actor(acting: Operator | None, actor: str) -> str:
    """The audit actor of an admin action: the console admin (after ``require_role``), or
    the server's command line."""
    if acting is None:
        return actor
    require_role(acting, Role.ADMIN)
    return acting.actor


def _new_seed(services: Services, name: str) -> tuple[bytes, bytes]:
    """A fresh TOTP seed and its sealed form (AES-GCM, context ``operator-totp:<name>``)."""
    seed = services.random.token_bytes(TOTP_SEED_BYTES)
    return seed, services.box.seal(seed, context=_totp_context(name))


def _enrolled(operator: Operator, seed: bytes) -> OperatorEnrolled:
    secret = base64.b32encode(seed).decode("ascii").rstrip("=")
    return OperatorEnrolled(
        operator=operator, secret_base32=secret, otpauth_uri=otpauth_uri(operator.username, secret)
    )


def _existing(repo: OperatorRepository, name: str) -> OperatorRow:
    row = repo.by_username(name)
    if row is None:
        raise NotFound(f"no operator {name}")
    return row


def list_operators(services: Services, *, acting: Operator | None = None) -> list[OperatorSummary]:
    """Every operator with roles and state (the console shows it to admins only)."""
    _acting_actor(acting, CONTROL_ACTOR)
    now = services.clock.now()
    with services.uow() as uow:
        rows = uow.operators.all()
    return [
        OperatorSummary(
            username=r.username,
            roles=as_operator(r).roles,
            disabled=r.disabled,
            locked=locked_until(services, r, now) is not None,
            created_at=r.created_at,
        )
        for r in rows
    ]


def disable_operator(
    services: Services,
    username: str,
    *,
    actor: str = CONTROL_ACTOR,
    acting: Operator | None = None,
) -> None:
    """Disable an operator and end their console sessions at once.  A console admin
    cannot disable themselves (``cannot_disable_self``): the console keeps an admin."""
    actor = _acting_actor(acting, actor)
    name = _operator_name(username)
    now = services.clock.now()
    with services.uow() as uow:
        row = _existing(uow.operators, name)
        if acting is not None and row.id == acting.id:
            raise CannotDisableSelf
        if not uow.operators.set_disabled(row.id, disabled=True):
            raise Conflict(f"operator {name} is already disabled")
        ended = uow.operators.revoke_sessions_of(row.id, now=now)
        uow.audit.record(
            AuditEvent(
                action="operator.disabled",
                actor=actor,
                subject=f"operator:{name}",
                data={"sessions_ended": ended},
            )
        )
        uow.commit()


def reset_operator_totp(
    services: Services,
    username: str,
    *,
    actor: str = CONTROL_ACTOR,
    acting: Operator | None = None,
) -> OperatorEnrolled:
    """A new TOTP seed for an operator (a lost or replaced phone), shown once; the old
    one stops working and the operator's console sessions end in the same transaction.
    The last accepted TOTP step stays, so no step is ever accepted twice (R-LOGIN-6)."""
    actor = _acting_actor(acting, actor)
    name = _operator_name(username)
    seed, sealed = _new_seed(services, name)
    now = services.clock.now()
    with services.uow() as uow:
        row = _existing(uow.operators, name)
        uow.operators.set_totp_secret(row.id, sealed)
        ended = uow.operators.revoke_sessions_of(row.id, now=now)
        uow.audit.record(
            AuditEvent(
                action="operator.totp_reset",
                actor=actor,
                subject=f"operator:{name}",
                data={"sessions_ended": ended},
            )
        )
        uow.commit()
    return _enrolled(as_operator(row), seed)


def unlock_operator(
    services: Services,
    username: str,
    *,
    actor: str = CONTROL_ACTOR,
    acting: Operator | None = None,
) -> None:
    """End an operator's lockout (R-LOGIN-3): both failure counters back to zero;
    ``not_locked`` when they are not locked."""
    actor = _acting_actor(acting, actor)
    name = _operator_name(username)
    now = services.clock.now()
    with services.uow() as uow:
        row = _existing(uow.operators, name)
        if locked_until(services, row, now) is None:
            raise NotLocked
        uow.operators.clear_failures(row.id, FailureCounter.PASSWORD)
        uow.operators.clear_failures(row.id, FailureCounter.FACTOR)
        uow.audit.record(
            AuditEvent(
                action="operator.unlocked",
                actor=actor,
                subject=f"operator:{name}",
                data={
                    "password_failures": row.password_failures,
                    "factor_failures": row.factor_failures,
                },
            )
        )
        uow.commit()


def _new_token(services: Services) -> str:
    raw = base64.urlsafe_b64encode(services.random.token_bytes(32)).decode().rstrip("=")
    return TOKEN_PREFIX + raw


def _audit(services: Services, action: str, name: str, **data: str | int) -> None:
    with services.uow() as uow:
        uow.audit.record(
            AuditEvent(
                action=action, actor=f"operator:{name}", subject=f"operator:{name}", data=data
            )
        )
        uow.commit()


def start_console_login(services: Services, *, username: str, password: str) -> str:
    """Password step: returns the token of a session waiting for the TOTP code.

    Unknown, disabled and wrong passwords all raise ``InvalidCredentials`` after the same
    work (one Argon2id verification); a locked operator gets ``Locked``.
    """
    now = services.clock.now()
    try:
        name: str | None = normalize_username(username)
    except PolicyViolation:
        name = None
    with services.uow() as uow:
        row = uow.operators.by_username(name) if name else None
        if row is None:
            services.passwords.verify_dummy(password="")
            raise InvalidCredentials
        retry_at = locked_until(services, row, now)
        reserved = None
        if retry_at is None:
            reserved = uow.operators.reserve_failure(
                row.id, FailureCounter.PASSWORD, now=now, lockout=lockout(services, now)
            )
        if reserved is None:
            services.passwords.verify_dummy(password="")
            raise Locked(retry_at=retry_at or now)
        uow.commit()
    if not services.passwords.verify(row.password_hash, password) or row.disabled:
        _audit(services, "operator.password_failed", row.username)
        raise InvalidCredentials
    token = _new_token(services)
    with services.uow() as uow:
        uow.operators.clear_failures(row.id, FailureCounter.PASSWORD)
        uow.operators.add_session(
            token_hash=token_hash(token),
            operator_id=row.id,
            stage=STAGE_TOTP,
            now=now,
            expires_at=now + timedelta(seconds=TOTP_STAGE_SECONDS),
        )
        uow.commit()
    return token


def matching_step(seed: bytes, code: str, *, at: datetime) -> int | None:
    """RFC 6238: the step (current or previous) whose code equals ``code``; both are
    computed, so that the work does not depend on which one matches."""
    answer = "".join(code.split())
    now_step = otp.totp_counter(at.timestamp(), TOTP_PERIOD)
    matched = None
    for step in (now_step, now_step - 1):
        expected = otp.hotp(seed, step, digits=TOTP_DIGITS)
        if otp.constant_time_equal(expected, answer) and matched is None:
            matched = step
    return matched


def answer_console_totp(services: Services, pending_token: str, code: str) -> ConsoleGrant:
    """TOTP step: a new token for an active session (the pending one stops working)."""
    now = services.clock.now()
    with services.uow() as uow:
        pending = uow.operators.session_by_token_hash(token_hash(pending_token))
        if (
            pending is None
            or pending.stage != STAGE_TOTP
            or pending.revoked_at is not None
            or now >= pending.expires_at
        ):
            raise Unauthenticated("Your console login expired; please log in again")
        row = uow.operators.by_id(pending.operator_id)
        assert row is not None  # noqa: S101 - a session always has its operator
        limits = lockout(services, now)
        if (
            row.disabled
            or uow.operators.reserve_failure(row.id, FailureCounter.FACTOR, now=now, lockout=limits)
            is None
        ):
            raise Locked(retry_at=locked_until(services, row, now))
        seed = services.box.open(row.totp_secret, context=_totp_context(row.username))
        step = matching_step(seed, code[:16], at=now)
        if step is None or not uow.operators.advance_totp_step(row.id, step):
            # a wrong code and a replayed step read the same (R-LOGIN-10)
            uow.audit.record(_event("operator.totp_failed", row.username))
            uow.commit()
            raise LoginFailed
        token = _new_token(services)
        expires_at = now + timedelta(seconds=services.policy.operator_session_seconds)
        if not uow.operators.promote_session(
            pending.id, token_hash=token_hash(token), now=now, expires_at=expires_at
        ):
            raise Unauthenticated("Your console login expired; please log in again")
        uow.operators.clear_failures(row.id, FailureCounter.FACTOR)
        uow.audit.record(_event("operator.logged_in", row.username))
        uow.commit()
    return ConsoleGrant(token=token, operator=as_operator(row), expires_at=expires_at)


def _event(action: str, name: str, **data: str | int) -> AuditEvent:
    return AuditEvent(
        action=action, actor=f"operator:{name}", subject=f"operator:{name}", data=data
    )


def authenticate_operator(services: Services, token: str) -> Operator:
    """The operator behind a console token; refreshes the idle timer."""
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.operators.session_by_token_hash(token_hash(token))
        if (
            row is None
            or row.stage != STAGE_ACTIVE
            or row.revoked_at is not None
            or now >= row.expires_at
        ):
            raise Unauthenticated("Your console session has ended; please log in again")
        if now >= row.last_seen_at + timedelta(seconds=services.policy.operator_idle_seconds):
            uow.operators.revoke_session(row.id, now=now)
            uow.commit()
            raise Unauthenticated("Your console session was idle too long; please log in again")
        operator = uow.operators.by_id(row.operator_id)
        if operator is None or operator.disabled:
            raise Unauthenticated("Your console session has ended; please log in again")
        uow.operators.touch_session(row.id, now=now)
        uow.commit()
    return as_operator(operator)


def logout_operator(services: Services, token: str) -> None:
    now = services.clock.now()
    with services.uow() as uow:
        row = uow.operators.session_by_token_hash(token_hash(token))
        if row is None or row.revoked_at is not None:
            return
        uow.operators.revoke_session(row.id, now=now)
        operator = uow.operators.by_id(row.operator_id)
        if operator is not None:
            uow.audit.record(_event("operator.logged_out", operator.username))
        uow.commit()


def operator_named(services: Services, username: str) -> Operator:
    """An enabled operator by name, for the ``admin helpdesk`` commands (which run on the
    server with database access, so no console login is asked)."""
    name = _operator_name(username)
    with services.uow() as uow:
        row = uow.operators.by_username(name)
    if row is None or row.disabled:
        raise NotFound(f"no enabled operator {name}")
    return as_operator(row)
