"""Activating devices outside a login (R-LOST-2, R-LOST-4) and what activation retires.

* R-LOST-2: a user logged in with a temporary code (``full`` or ``card_only``) gets an
  online security code card, shown once, and activates it by answering two of its
  positions.  The card is then the user's strongest active device; the temporary code
  is retired (state ``replaced``) so it no longer decides the tier, and the browser's
  session moves onto the card (tier of the code card, ``full`` access) — the two
  answered positions are a fresh second factor.
* R-LOST-4: a shipped replacement device is activated at once by answering its
  challenge (a DSC+ with the soft PIN chosen in the request), or by the background job
  21 days after shipping (:mod:`securelogin.service.lifecycle.jobs`).  Both go through
  :func:`finish_activation`, one conditional update ``shipped → active``, so a device
  is activated exactly once; the lost device stays lost and every temporary device of
  the user is retired.

Activation challenges are ordinary challenges with no login: single use, 3 answers,
10 minutes, and every answer counts on the user's second-factor failure counter
(R-LOGIN-3) before it is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import AccessLevel
from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.base import Prompt, PromptType, WrongAnswer
from securelogin.domain.devices.catalogue import CARD_KINDS, DeviceKind, DeviceState
from securelogin.domain.devices.challenges import card_pair
from securelogin.domain.devices.registry import plugin_for
from securelogin.domain.lifecycle import RequestState
from securelogin.errors import AccessDenied, InvalidInput, Locked, NotFound, WrongState
from securelogin.service.ceremony.counting import locked_until, lockout
from securelogin.service.ceremony.factors import open_keys, view
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards
from securelogin.service.lifecycle_ports import RequestRow
from securelogin.service.login_ports import DeviceRow, FailureCounter
from securelogin.service.messages import notify
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import CurrentSession

ACTIVATION_TTL = timedelta(minutes=10)
MAX_ANSWERS = 3
UNIQUE_DRAWS = 32
TEMPORARY_KINDS = frozenset({DeviceKind.TEMPORARY_CODE, DeviceKind.ONLINE_CODE_CARD})
CARD_SESSIONS = frozenset({AccessLevel.FULL, AccessLevel.CARD_ONLY})


class WrongActivationAnswer(InvalidInput):
    """The answer does not match the device; the attempt was counted."""

    code = "wrong_answer"

    def __init__(self) -> None:
        super().__init__(
            "That is not the right answer; check the device and try again", field="response"
        )


@dataclass(frozen=True, kw_only=True)
class NewOnlineCard:
    """The card as shown once (R-LOST-2: print or save it now) and its first prompt."""

    device_id: str
    values: dict[int, str]
    html: str
    prompt: Prompt
    expires_at: datetime | None


# --- R-LOST-2: the online security code card ----------------------------------------------


def request_online_card(services: Services, session: CurrentSession) -> NewOnlineCard:
    """Issue a pending online card for a user logged in with a temporary code.

    An earlier card still waiting for activation is revoked (its values were shown once
    and may be lost); an active online card is never replaced this way."""
    if (
        session.access_level not in CARD_SESSIONS
        or session.tier.device_kind is not DeviceKind.TEMPORARY_CODE
    ):
        raise AccessDenied("An online security code card is issued to a temporary code login")
    with services.uow() as uow:
        user = uow.users.by_id(session.user_id)
        assert user is not None  # noqa: S101 - a session always has its user
        for device in uow.lifecycle.devices_of(user.id):
            if device.kind == DeviceKind.ONLINE_CODE_CARD and device.state == DeviceState.ACTIVE:
                raise WrongState("You already have an active online security code card")
            if (
                device.kind == DeviceKind.ONLINE_CODE_CARD
                and device.state == DeviceState.PENDING_ACTIVATION
            ):
                uow.lifecycle.move_device(
                    device.id, frm={DeviceState.PENDING_ACTIVATION}, to=DeviceState.REVOKED
                )
        uow.commit()
    issued = cards.issue_code_card(
        services, username=user.username, actor=user.username, online=True
    )
    html = services.printer.html(issued.printable)
    prompt = activation_prompt(services, session, issued.device_id)
    with services.uow() as uow:
        row = uow.lifecycle.device_by_public_id(issued.device_id)
    return NewOnlineCard(
        device_id=issued.device_id,
        values=issued.values,
        html=html,
        prompt=prompt,
        expires_at=row.expires_at if row else None,
    )


def pending_online_card(services: Services, session: CurrentSession) -> str | None:
    """The public id of the user's online card waiting for activation, if any."""
    with services.uow() as uow:
        for device in uow.lifecycle.devices_of(session.user_id):
            if (
                device.kind == DeviceKind.ONLINE_CODE_CARD
                and device.state == DeviceState.PENDING_ACTIVATION
                and device.owner_id == session.user_id
            ):
                return device.public_id
    return None


def activation_prompt(services: Services, session: CurrentSession, device_id: str) -> Prompt:
    """A fresh activation challenge for one of the user's devices that waits for it."""
    now = services.clock.now()
    with services.uow() as uow:
        device = _waiting_device(uow, session.user_id, device_id)
        prompt = _issue(services, uow, device, now)
        uow.commit()
    return prompt


def activate_online_card(
    services: Services, session: CurrentSession, device_id: str, response: str
) -> None:
    """R-LOST-2: the two values are right → the card is active for its 21 days, the
    temporary code is retired and this session continues on the card."""
    now = services.clock.now()
    with services.uow() as uow:
        device = _waiting_device(uow, session.user_id, device_id)
        if device.kind != DeviceKind.ONLINE_CODE_CARD:
            raise NotFound("no such online security code card")
        _check(services, uow, device, session.user_id, response, now)
        if not uow.lifecycle.move_device(
            device.id,
            frm={DeviceState.PENDING_ACTIVATION},
            to=DeviceState.ACTIVE,
            activated_at=now,
        ):
            raise WrongState("This card is already active")
        retired = _retire_temporaries(
            uow, session.user_id, keep=device.id, kinds={DeviceKind.TEMPORARY_CODE}
        )
        kind = DeviceKind.ONLINE_CODE_CARD
        uow.session_control.step_up_session(
            session.session_id,
            device_id=device.id,
            tier_rank=services.policy.catalogue[kind].rank,
            tier_kind=kind.value,
        )
        user = uow.users.by_id(session.user_id)
        assert user is not None  # noqa: S101
        uow.audit.record(
            AuditEvent(
                action="device.activated",
                actor=user.username,
                subject=user.username,
                data={"device_id": device.public_id, "kind": kind.value, "retired": retired},
            )
        )
        uow.commit()


# --- R-LOST-4: the replacement device --------------------------------------------------


def activate_replacement(
    services: Services, session: CurrentSession, request_id: str, response: str
) -> None:
    """The user answers the shipped device's challenge: it is active at once."""
    now = services.clock.now()
    with services.uow() as uow:
        request = uow.replacements.request(request_id)
        if request is None or request.user_id != session.user_id or request.device_id is None:
            raise NotFound("no such replacement request")
        if request.state != RequestState.SHIPPED:
            raise WrongState("This device is not waiting for activation")
        device = _device_row(uow, request.device_id)
        _check(services, uow, device, session.user_id, response, now)
        if not finish_activation(services, uow, request, now=now, actor=request.username):
            raise WrongState("This device is already active")
        kind = DeviceKind(request.kind)
        uow.session_control.step_up_session(  # the session continues on the new device
            session.session_id,
            device_id=device.id,
            tier_rank=services.policy.catalogue[kind].rank,
            tier_kind=kind.value,
        )
        uow.commit()


def replacement_prompt(services: Services, session: CurrentSession, request_id: str) -> Prompt:
    with services.uow() as uow:
        request = uow.replacements.request(request_id)
        if request is None or request.user_id != session.user_id or request.device_id is None:
            raise NotFound("no such replacement request")
        device = _device_row(uow, request.device_id)
    return activation_prompt(services, session, device.public_id)


def finish_activation(
    services: Services, uow: UnitOfWork, request: RequestRow, *, now: datetime, actor: str
) -> bool:
    """``shipped → active`` exactly once (False if another process or the user won);
    retires the user's temporary devices; the replaced lost device stays lost."""
    assert request.device_id is not None  # noqa: S101 - shipped requests have a device
    if not uow.lifecycle.move_device(
        request.device_id, frm={DeviceState.SHIPPED}, to=DeviceState.ACTIVE, activated_at=now
    ):
        return False
    uow.replacements.move_request(
        request.id, frm={RequestState.SHIPPED}, to=RequestState.ACTIVATED, activated_at=now
    )
    retired = _retire_temporaries(
        uow, request.user_id, keep=request.device_id, kinds=TEMPORARY_KINDS
    )
    uow.audit.record(
        AuditEvent(
            action="device.activated",
            actor=actor,
            subject=request.username,
            data={
                "request": request.public_id,
                "serial": request.serial,
                "kind": request.kind,
                "automatic": actor.startswith("system"),
                "retired": retired,
            },
        )
    )
    user = uow.users.by_id(request.user_id)
    notify(
        uow,
        user_id=request.user_id,
        phone=user.phone if user else None,
        subject=f"Your security device {request.serial} is active",
        body=(
            f"Your replacement security device {request.serial} is now active; use it to log in. "
            "Your temporary code and online security code card no longer work."
        ),
    )
    return True


def _retire_temporaries(
    uow: UnitOfWork, user_id: int, *, keep: int, kinds: frozenset[DeviceKind] | set[DeviceKind]
) -> int:
    retired = 0
    for device in uow.lifecycle.devices_of(user_id):
        if device.id != keep and device.kind in kinds and device.owner_id == user_id:
            retired += uow.lifecycle.move_device(
                device.id,
                frm={DeviceState.ACTIVE, DeviceState.PENDING_ACTIVATION},
                to=DeviceState.REPLACED,
            )
    return retired


def _device_row(uow: UnitOfWork, device_id: int) -> DeviceRow:
    row = uow.device_access.by_id(device_id)
    if row is None:
        raise NotFound("no such device")
    return row


def _waiting_device(uow: UnitOfWork, user_id: int, public_id: str) -> DeviceRow:
    owned = uow.lifecycle.device_by_public_id(public_id)
    if owned is None or owned.owner_id != user_id:
        raise NotFound("no such device")
    if owned.state not in (DeviceState.PENDING_ACTIVATION, DeviceState.SHIPPED):
        raise WrongState("This device is not waiting for activation")
    return _device_row(uow, owned.id)


def _issue(services: Services, uow: UnitOfWork, device: DeviceRow, now: datetime) -> Prompt:
    plugin = plugin_for(DeviceKind(device.kind))
    taken = uow.challenges.open_values(device.id, now=now)
    is_card = DeviceKind(device.kind) in CARD_KINDS
    for _ in range(UNIQUE_DRAWS):
        issued = plugin.challenge(view(device), draw=services.random.randbelow, binding=None)
        if issued.value is None or (
            issued.value not in taken
            and not (
                is_card and uow.device_access.card_pair_used(device.id, card_pair(issued.value))
            )
        ):
            break
    else:
        raise WrongState("The device has no fresh challenge left")
    if issued.prompt.type not in (PromptType.CARD, PromptType.CHALLENGE, PromptType.CODE):
        raise WrongState("This device cannot be activated here")
    uow.challenges.add(
        ceremony_id=None,
        device_id=device.id,
        prompt=issued.prompt.as_json(),
        value=issued.value,
        secret=None,
        now=now,
        expires_at=now + ACTIVATION_TTL,
    )
    return issued.prompt


def _check(
    services: Services,
    uow: UnitOfWork,
    device: DeviceRow,
    user_id: int,
    response: str,
    now: datetime,
) -> None:
    """Count the failure first (R-LOGIN-3), take one of 3 answers, verify, guard replays.
    A wrong answer commits the counted attempt before it raises."""
    user = uow.users.by_id(user_id)
    assert user is not None  # noqa: S101
    challenge = uow.lifecycle.activation_challenge(device.id, now=now)
    if challenge is None:
        raise WrongState("Ask for a new challenge and try again")
    if (
        uow.failures.reserve(
            user_id, FailureCounter.FACTOR, now=now, lockout=lockout(services, now)
        )
        is None
    ):
        raise Locked(retry_at=locked_until(services, user, now))
    if uow.challenges.take_attempt(challenge.id, now=now, limit=MAX_ANSWERS) is None:
        uow.commit()
        raise WrongState("Ask for a new challenge and try again")
    try:
        verified = plugin_for(DeviceKind(device.kind)).verify(
            view(device),
            open_keys(services, uow, device, challenge, ""),
            expected_value=challenge.value,
            response=response[:64],
            at=now,
        )
    except WrongAnswer:
        uow.audit.record(
            AuditEvent(
                action="device.activation_failed",
                actor=user.username,
                subject=user.username,
                data={"device_id": device.public_id},
            )
        )
        uow.commit()
        raise WrongActivationAnswer from None
    replay = (
        (
            verified.counter is not None
            and not uow.device_access.advance_counter(device.id, verified.counter)
        )
        or (
            challenge.value is not None
            and DeviceKind(device.kind) in CARD_KINDS
            and not uow.device_access.use_card_pair(device.id, card_pair(challenge.value))
        )
        or not uow.challenges.consume(challenge.id, now=now)
    )
    if replay:
        raise WrongState("This answer was used already")
    uow.failures.clear(user_id, FailureCounter.FACTOR)
