"""Push with number matching (R-KEY-4, R-LOGIN-4/5, R-WD-4): create a signed push request,
hand it to the app's pull channel (and a provider wake-up through the outbox), and take
the app's signed answer exactly once.

A push is one row: pending → approved / denied / withdrawn, by one conditional UPDATE,
so that two racing approvals (two processes) give exactly one session (R-LOGIN-6).
"""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import AccessLevel
from securelogin.domain.ceremony import CeremonyClosed, CeremonyOutcome
from securelogin.domain.devices.base import Binding, DeviceKindPlugin, DeviceView, Prompt
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.push import (
    MUTE_MINUTES,
    Decision,
    answer_payload,
    canonical_json,
    choices,
    request_digest,
)
from securelogin.errors import (
    ConfigurationError,
    DeliveryFailed,
    InvalidInput,
    KeySignatureInvalid,
    NumberMismatch,
    PushClosed,
    SecureLoginError,
    UnknownPush,
)
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony import record
from securelogin.service.ceremony.counting import Verdict, serialise, settle
from securelogin.service.ceremony.outcomes import Approval, Denial
from securelogin.service.ceremony.ports import CeremonyRow
from securelogin.service.context import Services
from securelogin.service.login_ports import AnswerLock, DeviceRow
from securelogin.service.mobile_key_ports import AppRow, MobileKeyPorts, PushRow
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import SessionGrant, Tier

#: the outbox channel of provider wake-ups (R-OPS-5)
PUSH_CHANNEL = "push"


def ports(services: Services) -> MobileKeyPorts:
    if services.mobile is None:
        raise ConfigurationError("the mobile key is not wired (Services.mobile)")
    return services.mobile


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _token(services: Services, prefix: str) -> str:
    return prefix + base64.urlsafe_b64encode(services.random.token_bytes(16)).decode().rstrip("=")


def muted(uow: UnitOfWork, user_id: int, now: datetime) -> bool:
    until = uow.mobile_keys.muted_until(user_id)
    return until is not None and until > now


def send_push(
    services: Services,
    uow: UnitOfWork,
    *,
    device: DeviceRow,
    plugin: DeviceKindPlugin,
    ceremony: CeremonyRow,
    expires_at: datetime,
    now: datetime,
    binding: Binding | None,
) -> Prompt | None:
    """A signed push of the ceremony for the app holding ``device``; None when no push
    can go (no active app, or pushes to the user are muted): the caller then asks for
    the challenge."""
    app = uow.mobile_keys.app_of_device(device.id)
    if app is None or app.state != "active" or muted(uow, ceremony.user_id, now):
        return None
    user = uow.users.by_id(ceremony.user_id)
    if user is None:
        return None
    draw = services.random.randbelow
    view = DeviceView(device_id=device.public_id, kind=plugin.kind, params=device.params)
    prompt = plugin.challenge(view, draw=draw, binding=binding).prompt
    assert prompt.number is not None  # noqa: S101 - a push prompt always has its number
    push_id = _token(services, "ps_")
    body: dict[str, object] = {
        "push_id": push_id,
        "username": user.username,
        "purpose": ceremony.purpose,
        "who": user.username,
        "where": {"ip": ceremony.client_ip, "platform": ceremony.platform},
        "amount": binding.amount if binding else None,
        "destination": binding.destination if binding else None,
        "choices": choices(prompt.number, draw),
        "created_at": iso(now),
        "expires_at": iso(expires_at),
    }
    body["signature"] = ports(services).crypto.sign(canonical_json(body))
    uow.mobile_keys.add_push(
        push_id=push_id,
        subject=ceremony.id,
        purpose=ceremony.purpose,
        app_ref=app.id,
        device_id=device.id,
        user_id=user.id,
        number=prompt.number,
        body=json.dumps(body),
        now=now,
        expires_at=expires_at,
    )
    if app.push_provider:
        uow.outbox.enqueue(
            channel=PUSH_CHANNEL, to=app.app_id, text=json.dumps({"push_id": push_id})
        )
    return prompt


def pending(services: Services, app: AppRow) -> list[dict[str, object]]:
    """The pull channel: every pending push of the app, oldest first, as signed."""
    now = services.clock.now()
    with services.uow() as uow:
        rows = uow.mobile_keys.pending_pushes(app.id, now=now)
    return [json.loads(r.body) for r in rows]


@dataclass(frozen=True, kw_only=True)
class PushAnswer:
    status: str  # "approved" / "denied"
    #: the client's record the ceremony confirms (a login id, a withdrawal id, …)
    subject: str
    purpose: str


def answer_push(
    services: Services,
    app: AppRow,
    *,
    push_id: str,
    decision: str,
    number: str | None,
    not_me: bool,
    signature: str,
) -> PushAnswer:
    """The app's signed answer (docs/mobile-key-protocol.md "Answer")."""
    if decision not in (Decision.APPROVE, Decision.DENY):
        raise InvalidInput("decision must be 'approve' or 'deny'", field="decision")
    now = services.clock.now()
    with services.uow() as uow:
        push = uow.mobile_keys.push(push_id)
        if push is None or push.app_id != app.id:
            raise UnknownPush
        payload = answer_payload(
            push_id=push.push_id,
            request=request_digest(json.loads(push.body)),
            decision=decision,
            number=number,
            not_me=not_me,
        )
        if not ports(services).crypto.verify(app.public_key, signature, payload):
            raise KeySignatureInvalid("The answer's signature is not valid")
        ceremony = uow.ceremonies.get(push.subject)
        if ceremony is None:
            raise UnknownPush
        if decision == Decision.DENY:
            _deny(services, uow, push, ceremony, not_me=not_me, now=now)
            uow.commit()
            return PushAnswer(status="denied", subject=ceremony.subject, purpose=push.purpose)
        held = serialise(services, uow, push.user_id, now)  # R-LOGIN-3, raises Locked
        if number is None or number != push.number:
            _mismatch(services, uow, push, held, now)
            uow.commit()
            raise NumberMismatch
        _approve(services, uow, push, ceremony, held, now)
        uow.commit()
    return PushAnswer(status="approved", subject=ceremony.subject, purpose=push.purpose)


def _close(uow: UnitOfWork, push: PushRow, status: str, now: datetime) -> None:
    if not uow.mobile_keys.close_push(push.push_id, status=status, now=now):
        raise PushClosed


#: where a test may stop a server process (``Services.fault``): the approval is written
#: in the unit of work, its effect (session, booking, share) is not yet
AFTER_APPROVAL = "ceremony.after_approval"


def _approve(
    services: Services,
    uow: UnitOfWork,
    push: PushRow,
    ceremony: CeremonyRow,
    held: AnswerLock,
    now: datetime,
) -> None:
    """Close the push as approved, end the ceremony, and hand the approval to its
    purpose's handler in the same unit of work: the approval and its effect commit
    together or not at all."""
    _close(uow, push, "approved", now)
    try:
        record.finish(uow, ceremony, CeremonyOutcome.APPROVED, now)
    except CeremonyClosed:
        raise PushClosed from None
    settle(services, uow, held, Verdict.ACCEPTED, now)
    record_user_event(uow, "push.approved", held.username, purpose=push.purpose)
    handler = services.on_approval.get(ceremony.purpose)
    if handler is None:
        raise ConfigurationError(f"no handler for approved {push.purpose} pushes")
    services.fault(AFTER_APPROVAL)
    handler(
        services,
        uow,
        Approval(
            purpose=ceremony.purpose,
            subject=ceremony.subject,
            ceremony_id=ceremony.id,
            push_id=push.push_id,
            user_id=held.user_id,
            username=held.username,
            device_id=push.device_id,
            at=now,
        ),
    )


def keep_session(services: Services, uow: UnitOfWork, push_id: str, grant: SessionGrant) -> None:
    """Seal the session an approved login push opened, for the client polling the login
    (handed out once by :func:`collect_session`)."""
    blob = json.dumps(
        {
            "token": grant.token,
            "access_level": grant.access_level.value,
            "rank": grant.tier.rank,
            "kind": grant.tier.device_kind.value if grant.tier.device_kind else None,
            "expires_at": grant.expires_at.isoformat(),
            "session_id": grant.session_id,
        }
    ).encode()
    sealed = services.box.seal(blob, context=f"push-session:{push_id}")
    uow.mobile_keys.keep_session(push_id, sealed=sealed)


def collect_session(services: Services, uow: UnitOfWork, ceremony_id: str) -> SessionGrant | None:
    """The session an approved push of the ceremony opened, handed once to the client
    polling its login (the login id is its 128-bit capability, as for ``/answer``)."""
    taken = uow.mobile_keys.take_session(ceremony_id)
    if taken is None:
        return None
    push_id, sealed = taken
    data = json.loads(services.box.open(sealed, context=f"push-session:{push_id}"))
    kind = data["kind"]
    return SessionGrant(
        token=data["token"],
        access_level=AccessLevel(data["access_level"]),
        tier=Tier(rank=int(data["rank"]), device_kind=DeviceKind(kind) if kind else None),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        session_id=int(data["session_id"]),
    )


def _deny(
    services: Services,
    uow: UnitOfWork,
    push: PushRow,
    ceremony: CeremonyRow,
    *,
    not_me: bool,
    now: datetime,
) -> None:
    _close(uow, push, "denied", now)
    user = uow.users.by_id(push.user_id)
    name = user.username if user else "?"
    # the ceremony waiting in ``challenge`` ends as denied, whatever its purpose, and
    # the purpose's client ends what waited for it (a login needs nothing more)
    try:
        record.finish(uow, ceremony, CeremonyOutcome.DENIED, now)
    except CeremonyClosed:
        pass
    else:
        handler = services.on_denial.get(ceremony.purpose)
        if handler is not None:
            denial = Denial(
                purpose=ceremony.purpose,
                subject=ceremony.subject,
                ceremony_id=ceremony.id,
                push_id=push.push_id,
                user_id=push.user_id,
                at=now,
            )
            handler(services, uow, denial)
    record_user_event(uow, "push.denied", name, purpose=push.purpose)
    if not_me and user is not None:
        until = now + timedelta(minutes=MUTE_MINUTES)
        uow.mobile_keys.mute(user.id, until=until)
        record_user_event(uow, "alert.push_not_me", name, muted_until=iso(until))
        if user.phone:
            uow.outbox.enqueue(
                channel="sms",
                to=user.phone,
                text="securelogin: you denied a sign-in to your account as 'not me'. Pushes"
                " are paused for 20 minutes. If someone knows your password, change it now.",
            )


def _mismatch(
    services: Services, uow: UnitOfWork, push: PushRow, held: AnswerLock, now: datetime
) -> None:
    """The number picked is not the one on the screen: the push is closed as denied and
    a second-factor failure is counted (R-LOGIN-3); the login itself stays open."""
    _close(uow, push, "denied", now)
    settle(services, uow, held, Verdict.WRONG, now)
    record_user_event(uow, "push.number_mismatch", held.username, purpose=push.purpose)


def deliver_wakeups(services: Services, *, limit: int = 50) -> int:
    """Provider wake-ups from the outbox; one app that cannot be reached never blocks the
    others (its row is retried later, R-OPS-5).  Returns how many were delivered."""
    now = services.clock.now()
    providers = ports(services).providers
    delivered = 0
    with services.uow() as uow:
        due = uow.outbox.claim_due(now=now, limit=limit, lease_seconds=60, channels=[PUSH_CHANNEL])
        for message in due:
            app = uow.mobile_keys.app(message.to)
            provider = providers.get(app.push_provider or "") if app else None
            if app is None or provider is None or app.state != "active" or not app.push_target:
                uow.outbox.mark_failed(message.id, error="no provider for this app", retry_at=None)
                continue
            try:
                push_id = str(json.loads(message.text)["push_id"])
                provider.send(target=app.push_target, push_id=push_id)
            except DeliveryFailed as exc:
                retry = now + timedelta(seconds=30 * 2 ** min(message.attempts, 6))
                uow.outbox.mark_failed(
                    message.id, error=exc.message[:200], retry_at=retry if exc.retryable else None
                )
                continue
            uow.outbox.mark_sent(message.id, now=now, keep_text=True)
            delivered += 1
        uow.commit()
    return delivered


def deliver_quietly(services: Services) -> None:
    with contextlib.suppress(SecureLoginError):
        deliver_wakeups(services, limit=10)


def login_changes(services: Services, login_ids: list[str]) -> dict[str, int | None]:
    """Long-poll wake-ups, one query for all waiters: the logins that left ``challenge``
    (None) and those showing a later challenge than their first (its id)."""
    with services.uow() as uow:
        return uow.mobile_keys.login_changes(login_ids, now=services.clock.now())


def apps_with_pushes(services: Services, app_ids: list[str]) -> set[str]:
    """Pull-channel wake-ups: which apps have a pending push (one query for all)."""
    with services.uow() as uow:
        return uow.mobile_keys.apps_with_pushes(app_ids, now=services.clock.now())
