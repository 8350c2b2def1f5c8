"""The helpdesk (R-OPS-1, R-LOST-1, R-LOGIN-3, R-LOGIN-9): identity-verified phone support.

Every function acts for an :class:`Operator` holding the ``helpdesk`` role and audits
with ``operator:<name>`` in the same transaction as the change (R-OPS-6).  Actions that
change a user's security (unlock, temporary code, lost device) need an identity check
recorded for that user within ``policy.identity_check_minutes``; they run under a row
lock on the user, so two operators acting on one caller at once are serialised — this is
what keeps the rule "never two temporary codes in a row" true across processes.  Reporting
a device lost or stolen takes its deposit in the same transaction (R-RETURN-3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from securelogin.domain.access import TEMPORARY_CARD_ONLY, TEMPORARY_FULL
from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import PolicyViolation, normalize_username
from securelogin.domain.importfile import DeviceSpec
from securelogin.domain.lifecycle import DEPOSIT_TAKEN_STATES
from securelogin.domain.money import format_usd
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.errors import (
    DeviceNotActive,
    IdentityNotVerified,
    InvalidInput,
    NotLocked,
    TemporaryCodeInARow,
    UnknownUser,
)
from securelogin.service.ceremony.counting import locked_until
from securelogin.service.context import Services
from securelogin.service.importing import seal_device
from securelogin.service.lifecycle.returns import charge_deposits
from securelogin.service.lifecycle_ports import OwnedDevice
from securelogin.service.login_ports import FailureCounter
from securelogin.service.messages import notify
from securelogin.service.notifications import SMS
from securelogin.service.ports import UnitOfWork, UserRow

TEMPORARY_CODE_LETTERS = 12
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NOTE_MAX = 200
#: identity checks shown with a user
CHECKS_SHOWN = 5


class VerificationMethod(StrEnum):
    """How the caller's identity was verified (R-LOST-1 "records how")."""

    SECURITY_QUESTIONS = "security_questions"
    CALLBACK = "callback"  # called back on the phone number on record
    ID_DOCUMENT = "id_document"


class LostState(StrEnum):
    LOST = DeviceState.LOST.value
    STOLEN = DeviceState.STOLEN.value
    DAMAGED = DeviceState.DAMAGED.value


@dataclass(frozen=True, kw_only=True)
class DeviceLine:
    device_id: str
    kind: str
    serial: str | None
    label: str | None
    state: str
    activated_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class IdentityCheck:
    operator: str
    method: str
    note: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UserCase:
    """What the helpdesk sees of a caller's user (no secrets)."""

    username: str
    phone: str | None
    locked_until: datetime | None
    password_failures: int
    factor_failures: int
    devices: tuple[DeviceLine, ...]
    checks: tuple[IdentityCheck, ...]
    verified_until: datetime | None
    temporary_code_allowed: bool


@dataclass(frozen=True, kw_only=True)
class DeviceReported:
    """A device reported lost, stolen or damaged (R-LOST-1, R-RETURN-3)."""

    device_id: str
    state: str
    sessions_ended: int
    #: the deposit taken at once (lost, stolen), in cents; 0 when there was no hold
    deposit_charged_cents: int


@dataclass(frozen=True, kw_only=True)
class TemporaryCode:
    """Shown once to the operator, who reads it out; stored only sealed."""

    username: str
    code: str
    device_id: str
    full_until: datetime
    card_only_until: datetime


def _name(username: str) -> str:
    try:
        return normalize_username(username)
    except PolicyViolation:
        raise UnknownUser from None


def _user(uow: UnitOfWork, username: str) -> UserRow:
    user = uow.users.by_username(_name(username))
    if user is None:
        raise UnknownUser
    return user


def _event(operator: Operator, action: str, user: UserRow, **data: str | int | None) -> AuditEvent:
    clean = {k: v for k, v in data.items() if v is not None}
    return AuditEvent(action=action, actor=operator.actor, subject=user.username, data=clean)


def _verified_until(services: Services, uow: UnitOfWork, user_id: int) -> datetime | None:
    checks = uow.helpdesk.identity_checks(user_id, limit=1)
    if not checks:
        return None
    return checks[0].created_at + timedelta(minutes=services.policy.identity_check_minutes)


def _temporary_code_blocked(services: Services, uow: UnitOfWork, user_id: int) -> bool:
    """R-LOST-1: blocked while the newest temporary code was not followed by a login with
    a non-temporary device."""
    codes = [d for d in uow.device_access.of_user(user_id) if d.kind == DeviceKind.TEMPORARY_CODE]
    if not codes:
        return False
    newest = max(codes, key=lambda d: d.id)
    issued = newest.activated_at or newest.expires_at
    assert issued is not None  # noqa: S101 - temporary codes are issued active
    temporary = frozenset(
        k.value for k, info in services.policy.catalogue.items() if info.temporary
    )
    temporary |= {DeviceKind.TEMPORARY_CODE.value}
    return not uow.helpdesk.logged_in_with_device_since(
        user_id, excluded_kinds=temporary, since=issued
    )


def find_user(services: Services, operator: Operator, *, username: str) -> UserCase:
    """Look a caller's user up: devices, lock state, recent identity checks (audited)."""
    require_role(operator, Role.HELPDESK)
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, username)
        devices = tuple(
            DeviceLine(
                device_id=d.public_id,
                kind=d.kind,
                serial=d.serial,
                label=d.label,
                state=d.state,
                activated_at=d.activated_at,
                expires_at=d.expires_at,
            )
            for d in uow.device_access.of_user(user.id)
        )
        checks = tuple(
            IdentityCheck(operator=c.operator, method=c.method, note=c.note, at=c.created_at)
            for c in uow.helpdesk.identity_checks(user.id, limit=CHECKS_SHOWN)
        )
        verified = _verified_until(services, uow, user.id)
        blocked = _temporary_code_blocked(services, uow, user.id)
        uow.audit.record(_event(operator, "helpdesk.user_viewed", user))
        uow.commit()
    return UserCase(
        username=user.username,
        phone=user.phone,  # in full: the helpdesk calls back on the number on record
        locked_until=locked_until(services, user, now),
        password_failures=user.password_failures,
        factor_failures=user.factor_failures,
        devices=devices,
        checks=checks,
        verified_until=verified if verified is not None and verified > now else None,
        temporary_code_allowed=not blocked,
    )


def verify_identity(
    services: Services,
    operator: Operator,
    *,
    username: str,
    method: str,
    note: str | None = None,
) -> IdentityCheck:
    """R-LOST-1: record how the caller's identity was verified, by whom and when."""
    require_role(operator, Role.HELPDESK)
    try:
        how = VerificationMethod(method)
    except ValueError:
        raise InvalidInput(f"unknown verification method {method!r}", field="method") from None
    text = (note or "").strip() or None
    if text is not None and (len(text) > NOTE_MAX or not text.isprintable()):
        raise InvalidInput(f"the note must be 1-{NOTE_MAX} printable characters", field="note")
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, username)
        uow.helpdesk.record_identity_check(
            user_id=user.id, operator_id=operator.id, method=how.value, note=text, at=now
        )
        uow.audit.record(_event(operator, "helpdesk.identity_verified", user, method=how.value))
        uow.commit()
    return IdentityCheck(operator=operator.username, method=how.value, note=text, at=now)


def _verified_user(services: Services, uow: UnitOfWork, username: str, now: datetime) -> UserRow:
    """The user, locked for this transaction, after checking a recent identity check."""
    user = _user(uow, username)
    uow.helpdesk.lock_user(user.id)
    until = _verified_until(services, uow, user.id)
    if until is None or now >= until:
        raise IdentityNotVerified
    fresh = uow.users.by_id(user.id)  # re-read under the lock
    assert fresh is not None  # noqa: S101 - users are never deleted
    return fresh


def unlock_login(services: Services, operator: Operator, *, username: str) -> None:
    """R-LOGIN-3: end a lockout at once (both failure counters back to zero)."""
    require_role(operator, Role.HELPDESK)
    now = services.clock.now()
    with services.uow() as uow:
        user = _verified_user(services, uow, username, now)
        if locked_until(services, user, now) is None:
            raise NotLocked
        uow.failures.clear(user.id, FailureCounter.PASSWORD)
        uow.failures.clear(user.id, FailureCounter.FACTOR)
        uow.audit.record(
            _event(
                operator,
                "helpdesk.login_unlocked",
                user,
                password_failures=user.password_failures,
                factor_failures=user.factor_failures,
            )
        )
        uow.commit()


def new_temporary_code(randbelow: Callable[[int], int]) -> str:
    """Twelve upper-case letters drawn with the injected randomness (R-TEMP)."""
    return "".join(ALPHABET[randbelow(len(ALPHABET))] for _ in range(TEMPORARY_CODE_LETTERS))


def temporary_code_notice(username: str, at: datetime) -> str:
    """The SMS telling a user that Client Services issued a temporary code for them; it
    never carries the code (the operator reads that out on the verified call)."""
    return (
        f"securelogin: Client Services issued a temporary code for your user {username} "
        f"on {at:%Y-%m-%d %H:%M} UTC. If this was not you, call Client Services at once."
    )


def issue_temporary_code(services: Services, operator: Operator, *, username: str) -> TemporaryCode:
    """R-LOST-1, R-LOGIN-9: a temporary code, full access for 2 days then card-only for 10.

    Refused (``temporary_code_in_a_row``) while the last temporary code was not followed
    by a login with a non-temporary device; any older temporary code is revoked.  The
    user is told by SMS to the phone on record, through the outbox in the same
    transaction (R-OPS-5) — without the code.
    """
    require_role(operator, Role.HELPDESK)
    now = services.clock.now()
    code = new_temporary_code(services.random.randbelow)
    with services.uow() as uow:
        user = _verified_user(services, uow, username, now)
        if _temporary_code_blocked(services, uow, user.id):
            raise TemporaryCodeInARow
        for old in uow.device_access.of_user(user.id):
            if old.kind == DeviceKind.TEMPORARY_CODE:
                uow.helpdesk.change_device_state(
                    old.id,
                    from_states=frozenset({DeviceState.ACTIVE.value}),
                    to_state=DeviceState.REVOKED.value,
                    now=now,
                )
        card_only_until = now + TEMPORARY_FULL + TEMPORARY_CARD_ONLY
        device = seal_device(
            services,
            DeviceSpec(kind=DeviceKind.TEMPORARY_CODE, code=code),
            owner_id=user.id,
            origin="helpdesk",
        )
        device = replace(device, expires_at=card_only_until)
        uow.devices.add(device, at=now)
        uow.audit.record(
            _event(
                operator,
                "helpdesk.temporary_code_issued",
                user,
                device_id=device.public_id,
                expires_at=card_only_until.isoformat(),
                notified=bool(user.phone),
            )
        )
        if user.phone:
            uow.outbox.enqueue(
                channel=SMS, to=user.phone, text=temporary_code_notice(user.username, now)
            )
        uow.commit()
    return TemporaryCode(
        username=user.username,
        code=code,
        device_id=device.public_id,
        full_until=now + TEMPORARY_FULL,
        card_only_until=card_only_until,
    )


def mark_device(
    services: Services,
    operator: Operator,
    *,
    username: str,
    device_id: str,
    state: str,
) -> DeviceReported:
    """R-LOST-1: an active device becomes lost, stolen or damaged; the sessions it opened
    end at once (R-LOGIN-11).

    R-RETURN-3: a device reported ``lost`` or ``stolen`` costs its deposit in the same
    transaction — every held deposit of the device becomes a charge with its ledger row,
    under the account lock (lock order: user, then account), and the user is told through
    the outbox (message centre and SMS).  A ``damaged`` device keeps its hold: logistics
    decides on receipt (released for ordinary damage, charged for intentional damage).
    A device without a hold (an imported one) costs nothing.
    """
    require_role(operator, Role.HELPDESK)
    try:
        new_state = LostState(state)
    except ValueError:
        raise InvalidInput(
            f"a device can be marked lost, stolen or damaged, not {state!r}", field="state"
        ) from None
    now = services.clock.now()
    with services.uow() as uow:
        user = _verified_user(services, uow, username, now)
        device = next(
            (d for d in uow.device_access.of_user(user.id) if d.public_id == device_id), None
        )
        if device is None or device.owner_id != user.id:
            raise DeviceNotActive
        if not uow.helpdesk.change_device_state(
            device.id,
            from_states=frozenset({DeviceState.ACTIVE.value}),
            to_state=new_state.value,
            now=now,
        ):
            raise DeviceNotActive
        ended = uow.helpdesk.revoke_device_sessions(device.id, now=now)
        uow.audit.record(
            _event(
                operator,
                f"helpdesk.device_{new_state.value}",
                user,
                device_id=device.public_id,
                kind=device.kind,
                serial=device.serial,
                sessions_ended=ended,
            )
        )
        charged = 0
        if DeviceState(new_state.value) in DEPOSIT_TAKEN_STATES:
            owned = uow.lifecycle.device(device.id)
            assert owned is not None  # noqa: S101 - changed just above
            charged = charge_deposits(
                uow, owned, now=now, reason=new_state.value, actor=operator.actor
            )
            if charged:
                notify_deposit_taken(uow, user, owned, new_state.value, charged)
        uow.commit()
    return DeviceReported(
        device_id=device.public_id,
        state=new_state.value,
        sessions_ended=ended,
        deposit_charged_cents=charged,
    )


def notify_deposit_taken(
    uow: UnitOfWork, user: UserRow, device: OwnedDevice, why: str, cents: int
) -> None:
    """R-RETURN-3, R-OPS-5: the user hears that the deposit was taken (message centre and
    SMS, through the outbox, delivered after the commit)."""
    label = device.serial or device.public_id
    amount = format_usd(cents)
    notify(
        uow,
        user_id=user.id,
        phone=user.phone,
        subject=f"Device deposit taken for {label}",
        body=(
            f"Your security device {label} was reported {why}. Its deposit hold of {amount} "
            "has been converted into a charge on your account. If this was not you, call "
            "Client Services at once."
        ),
        sms=(
            f"securelogin: your security device {label} was reported {why}; its deposit of "
            f"{amount} was charged. If this was not you, call Client Services at once."
        ),
    )
