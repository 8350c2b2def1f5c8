"""Second factors, written once for every device kind (STYLE.md rule 4): choose the device
(R-LOGIN-4), issue a unique challenge, open only the secrets a check needs, evaluate the
answer through the kind's plug-in, and refuse replays (R-LOGIN-6)."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import (
    AccessLevel,
    Candidate,
    choose_factor,
    is_usable,
    temporary_access,
)
from securelogin.domain.audit import AuditEvent
from securelogin.domain.ceremony import CeremonyClosed, CeremonyOutcome
from securelogin.domain.devices.base import (
    Binding,
    CounterWentBack,
    DeviceKindPlugin,
    DeviceView,
    Keys,
    Prompt,
    PromptType,
    PushDelivered,
    WrongAnswer,
)
from securelogin.domain.devices.catalogue import CARD_KINDS, DeviceKind, DeviceState
from securelogin.domain.devices.challenges import card_pair
from securelogin.domain.devices.registry import plugin_for
from securelogin.domain.money import format_usd
from securelogin.errors import DeviceRequired, LoginFailed, SecureLoginError, UnknownDevice
from securelogin.service.ceremony import push, record
from securelogin.service.ceremony.counting import Verdict
from securelogin.service.ceremony.knowledge import Checked, KnownFactor, SlowCheck
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.ceremony.ports import CeremonyRow, NewCeremony
from securelogin.service.context import Services
from securelogin.service.login_ports import ChallengeRow, DeviceRow, LoginWithChallenge
from securelogin.service.notifications import deliver_due
from securelogin.service.ports import UnitOfWork
from securelogin.service.sessions import Tier

SMS_VALIDITY = timedelta(minutes=5)
#: attempts to draw a challenge value no open challenge of the device carries
UNIQUE_DRAWS = 32


@dataclass(frozen=True, kw_only=True)
class FactorView:
    """What the login answer tells the client to show (SPEC §10.2 ``factor``);
    ``device_id`` and ``kind`` are None for a factor the user knows (the password)."""

    device_id: str | None
    kind: DeviceKind | None
    prompt: Prompt


@dataclass(frozen=True, kw_only=True)
class Accepted:
    access_level: AccessLevel
    access_until: datetime | None
    tier: Tier


@dataclass(frozen=True, kw_only=True)
class AnswerOutcome:
    verdict: Verdict
    accepted: Accepted | None = None
    reason: str | None = None
    exhausted: bool = False
    #: with ``Verdict.PENDING``: the slow check to run with no lock held
    slow: SlowCheck | None = None


def candidate(row: DeviceRow) -> Candidate:
    return Candidate(
        id=row.id,
        kind=DeviceKind(row.kind),
        state=DeviceState(row.state),
        activated_at=row.activated_at,
        expires_at=row.expires_at,
    )


def view(row: DeviceRow) -> DeviceView:
    return DeviceView(
        device_id=row.public_id,
        kind=DeviceKind(row.kind),
        params=row.params,
        counter=row.last_counter,
    )


def choose_device(
    services: Services, uow: UnitOfWork, *, user_id: int, requested: str | None, now: datetime
) -> DeviceRow | None:
    """R-LOGIN-4: the strongest active device unless the client picked another one."""
    rows = uow.device_access.of_user(user_id)
    wanted = None
    if requested is not None:
        wanted = next((r.id for r in rows if r.public_id == requested), -1)
    try:
        chosen = choose_factor(
            [candidate(r) for r in rows],
            catalogue=services.policy.catalogue,
            now=now,
            requested=wanted,
        )
    except LookupError:
        raise UnknownDevice from None
    return None if chosen is None else next(r for r in rows if r.id == chosen.id)


def factor_without_device(services: Services, purpose: Purpose) -> KnownFactor:
    """R-WD-4: how a user with no device confirms ``purpose`` (the password for a
    withdrawal); ``DeviceRequired`` when the purpose needs a device."""
    factor = services.without_device.get(purpose)
    if factor is None:
        raise DeviceRequired
    return factor


def open_ceremony(
    services: Services,
    uow: UnitOfWork,
    *,
    purpose: Purpose,
    subject: str,
    user_id: int,
    device: DeviceRow | None,
    expires_at: datetime,
    now: datetime,
    platform: str,
    client_ip: str | None = None,
    binding: Binding | None = None,
    fallback: bool = False,
) -> tuple[CeremonyRow, FactorView]:
    """Open a ceremony of ``purpose`` for the client's record ``subject`` (a login, a
    withdrawal, a share request) and issue its first challenge or push.  ``user_id``
    answers it (its counters count, its pushes go); the client stores the ceremony's id.
    With no ``device``, the purpose's factor without one asks (R-WD-4)."""
    ceremony = record.open_ceremony(
        uow,
        NewCeremony(
            id=_token(services, "cm_"),
            purpose=purpose,
            subject=subject,
            user_id=user_id,
            device_id=device.id if device is not None else None,
            platform=platform,
            client_ip=client_ip,
            created_at=now,
            expires_at=expires_at,
        ),
    )
    factor = issue_challenge(
        services,
        uow,
        device=device,
        ceremony=ceremony,
        expires_at=expires_at,
        now=now,
        binding=binding,
        fallback=fallback,
    )
    return ceremony, factor


def _token(services: Services, prefix: str) -> str:
    raw = base64.urlsafe_b64encode(services.random.token_bytes(16)).decode()
    return prefix + raw.rstrip("=")


def issue_challenge(
    services: Services,
    uow: UnitOfWork,
    *,
    device: DeviceRow | None,
    ceremony: CeremonyRow,
    expires_at: datetime,
    now: datetime,
    binding: Binding | None = None,
    fallback: bool = False,
) -> FactorView:
    """A fresh challenge whose value no open challenge of this device carries (SPEC §2:
    a 6-digit space is small, so a value is never reissued while it could be answered).

    A kind that declares push delivery (``PushDelivered``: the mobile key) gets a push
    (R-KEY-4) unless ``fallback`` is asked for or no push can go (muted, no app): then
    its offline challenge (R-KEY-5, R-LOGIN-5).  The ceremony's purpose travels with the
    push and picks the handler of its approval (``Services.on_approval``).  With no
    device, the purpose's factor without one asks (the password, R-WD-4;
    :func:`factor_without_device`)."""
    ceremony_id = ceremony.id
    if device is None:
        known = factor_without_device(services, ceremony.purpose)
        uow.challenges.add(
            ceremony_id=ceremony_id,
            device_id=None,
            prompt=known.prompt.as_json(),
            value=None,
            secret=None,
            now=now,
            expires_at=expires_at,
        )
        return FactorView(device_id=None, kind=None, prompt=known.prompt)
    plugin: DeviceKindPlugin = plugin_for(DeviceKind(device.kind))
    if isinstance(plugin, PushDelivered):
        prompt = None
        if not fallback:
            prompt = push.send_push(
                services,
                uow,
                device=device,
                plugin=plugin,
                ceremony=ceremony,
                expires_at=expires_at,
                now=now,
                binding=binding,
            )
        if prompt is not None:
            uow.challenges.add(
                ceremony_id=ceremony_id,
                device_id=device.id,
                prompt=prompt.as_json(),
                value=None,
                secret=None,
                now=now,
                expires_at=expires_at,
            )
            return FactorView(device_id=device.public_id, kind=plugin.kind, prompt=prompt)
        plugin = plugin.offline
    taken = uow.challenges.open_values(device.id, now=now)
    for _ in range(UNIQUE_DRAWS):
        issued = plugin.challenge(view(device), draw=services.random.randbelow, binding=binding)
        if issued.value is None or (
            issued.value not in taken
            and not (
                issued.prompt.type is PromptType.CARD
                and uow.device_access.card_pair_used(device.id, card_pair(issued.value))
            )
        ):
            break
    else:
        raise LoginFailed  # the device has no fresh challenge left (e.g. a used-up card)
    secret = None
    if issued.secret is not None:
        secret = services.box.seal(
            issued.secret.encode(), context=_challenge_context(ceremony_id, device)
        )
        expires_at = min(expires_at, now + SMS_VALIDITY)
        _send_code(uow, device, issued.secret, binding)
    uow.challenges.add(
        ceremony_id=ceremony_id,
        device_id=device.id,
        prompt=issued.prompt.as_json(),
        value=issued.value,
        secret=secret,
        now=now,
        expires_at=expires_at,
    )
    return FactorView(
        device_id=device.public_id, kind=DeviceKind(device.kind), prompt=issued.prompt
    )


def deliver_wakeups(services: Services) -> None:
    """Provider wake-ups of fresh pushes (the pull channel has them anyway)."""
    if services.mobile is not None:
        push.deliver_quietly(services)


def deliver_codes(services: Services) -> None:
    """Hand freshly committed SMS to the gateway at once; failures stay in the outbox
    for the background retry (R-OPS-5) and never reach the person logging in."""
    with contextlib.suppress(SecureLoginError):
        deliver_due(services, limit=10)


def _send_code(uow: UnitOfWork, device: DeviceRow, code: str, binding: Binding | None) -> None:
    phone = str(device.params.get("phone", ""))
    what = (
        f"to confirm the withdrawal of {format_usd(binding.amount)} to {binding.destination}"
        if binding
        else "to log in"
    )
    uow.outbox.enqueue(
        channel="sms",
        to=phone,
        text=f"{code} is your securelogin code {what}. It expires in 5 minutes."
        " Never share it with anyone.",
    )


def _challenge_context(ceremony_id: str, device: DeviceRow) -> str:
    """What an SMS code is sealed to (a ceremony carried over by migration 0010 kept the
    id of the login row it was, so its sealed code still opens)."""
    return f"challenge:{ceremony_id}:{device.public_id}"


def factor_view(uow: UnitOfWork, ceremony_id: str) -> FactorView | None:
    return challenge_view(uow, uow.challenges.current(ceremony_id))


def challenge_view(uow: UnitOfWork, challenge: ChallengeRow | None) -> FactorView | None:
    """What the client is shown for this challenge (None without one)."""
    if challenge is None:
        return None
    device = None
    if challenge.device_id is not None:
        device = uow.device_access.by_id(challenge.device_id)
    return view_of_challenge(challenge, device)


def view_of_challenge(challenge: ChallengeRow, device: DeviceRow | None) -> FactorView | None:
    """What the client is shown for ``challenge`` read with its device (None when the
    challenge names a device that is gone)."""
    if challenge.device_id is not None and device is None:
        return None
    prompt = challenge.prompt
    indices = prompt.get("indices")
    return FactorView(
        device_id=device.public_id if device else None,
        kind=DeviceKind(device.kind) if device else None,
        prompt=Prompt(
            type=PromptType(str(prompt["type"])),
            challenge=_text(prompt.get("challenge")),
            sent_to=_text(prompt.get("sent_to")),
            number=_text(prompt.get("number")),
            amount=_text(prompt.get("amount")),
            destination=_text(prompt.get("destination")),
            rp_id=_text(prompt.get("rp_id")),
            indices=(int(indices[0]), int(indices[1])) if isinstance(indices, list) else None,
        ),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def check_answer(
    services: Services,
    uow: UnitOfWork,
    *,
    ceremony: CeremonyRow,
    response: str,
    now: datetime,
    max_answers: int,
    checked: Checked | None = None,
    current: LoginWithChallenge | None = None,
) -> AnswerOutcome:
    """Take one of the challenge's answers atomically, evaluate, then guard replays; the
    ceremony ends here (accepted, or denied after its last answer) in the caller's unit
    of work, so the client applies its effect in the same commit.  The caller holds the
    user's answer lock (``ceremony.counting.serialise``) and counts the verdict
    (``settle``): only ``WRONG`` is a failure.

    A factor whose check is slow (the password, ``ceremony.knowledge``) is not evaluated
    here: its answer is taken and ``PENDING`` comes back with the check to run once the
    lock is released; ``checked`` is that check's result, applied in the next turn
    (``ceremony.answers.evaluated`` runs both turns).  ``current``: the ceremony's
    current challenge and its device, when the caller read them with the ceremony under
    the lock (``LoginRepository.get_with_challenge``)."""
    outcome = _evaluate(services, uow, ceremony, response, now, max_answers, checked, current)
    if outcome.verdict is Verdict.ACCEPTED:
        try:
            record.finish(uow, ceremony, CeremonyOutcome.ANSWERED, now)
        except CeremonyClosed:  # a twin answer finished it first
            return AnswerOutcome(verdict=Verdict.CLOSED, reason="ceremony_closed")
    elif outcome.exhausted:
        with contextlib.suppress(CeremonyClosed):
            record.finish(uow, ceremony, CeremonyOutcome.EXHAUSTED, now)
    return outcome


def _evaluate(
    services: Services,
    uow: UnitOfWork,
    ceremony: CeremonyRow,
    response: str,
    now: datetime,
    max_answers: int,
    checked: Checked | None,
    current: LoginWithChallenge | None,
) -> AnswerOutcome:
    if not record.is_open(ceremony, now):
        return AnswerOutcome(verdict=Verdict.CLOSED, reason="ceremony_closed", exhausted=True)
    challenge = current.challenge if current else uow.challenges.current(ceremony.id)
    if challenge is None:
        return AnswerOutcome(verdict=Verdict.CLOSED, reason="no_challenge", exhausted=True)
    if checked is not None and checked.challenge_id == challenge.id:
        attempts: int | None = checked.attempts  # taken in the first turn
    else:
        checked = None
        attempts = uow.challenges.take_attempt(challenge.id, now=now, limit=max_answers)
    if attempts is None:
        return AnswerOutcome(verdict=Verdict.CLOSED, reason="challenge_closed", exhausted=True)
    if challenge.device_id is None:
        return _known_answer(
            services, uow, ceremony, challenge, attempts, checked, now, max_answers
        )
    device = current.device if current else uow.device_access.by_id(challenge.device_id)
    if device is None or not is_usable(candidate(device), now=now):
        return AnswerOutcome(verdict=Verdict.CLOSED, reason="device_inactive", exhausted=True)
    kind = DeviceKind(device.kind)
    try:
        verified = plugin_for(kind).verify(
            view(device),
            open_keys(services, uow, device, challenge, ceremony.id),
            expected_value=challenge.value,
            response=response,
            at=now,
        )
    except CounterWentBack as went_back:
        _clone_warning(uow, device, went_back)
        return AnswerOutcome(
            verdict=Verdict.WRONG, reason="clone_warning", exhausted=attempts >= max_answers
        )
    except WrongAnswer:
        return AnswerOutcome(
            verdict=Verdict.WRONG, reason="wrong_answer", exhausted=attempts >= max_answers
        )
    if not _first_use(uow, device, challenge, verified.counter, now):
        return AnswerOutcome(
            verdict=Verdict.ALREADY_USED, reason="replay", exhausted=attempts >= max_answers
        )
    return AnswerOutcome(verdict=Verdict.ACCEPTED, accepted=_accepted(services, device, now))


def _known_answer(
    services: Services,
    uow: UnitOfWork,
    ceremony: CeremonyRow,
    challenge: ChallengeRow,
    attempts: int,
    checked: Checked | None,
    now: datetime,
    max_answers: int,
) -> AnswerOutcome:
    """A factor the user knows (R-WD-4): first turn — hand out the slow check; second
    turn — apply its result under the lock, the challenge used once (R-LOGIN-6)."""
    known = services.without_device.get(ceremony.purpose)
    expected = known.expected(uow, ceremony.user_id) if known is not None else None
    if known is None or expected is None:
        return AnswerOutcome(verdict=Verdict.CLOSED, reason="no_factor", exhausted=True)
    if checked is None:
        slow = SlowCheck(
            challenge_id=challenge.id, attempts=attempts, factor=known, expected=expected
        )
        return AnswerOutcome(verdict=Verdict.PENDING, reason="slow_check", slow=slow)
    if not checked.right:
        return AnswerOutcome(
            verdict=Verdict.WRONG, reason="wrong_answer", exhausted=attempts >= max_answers
        )
    if not uow.challenges.consume(challenge.id, now=now):
        return AnswerOutcome(verdict=Verdict.ALREADY_USED, reason="replay", exhausted=True)
    return AnswerOutcome(
        verdict=Verdict.ACCEPTED,
        accepted=Accepted(
            access_level=AccessLevel.FULL, access_until=None, tier=Tier(rank=0, device_kind=None)
        ),
    )


def _clone_warning(uow: UnitOfWork, device: DeviceRow, went_back: CounterWentBack) -> None:
    """A sign count that did not move forward: refused, and written to the audit log for
    the security team (the credential may have been copied)."""
    uow.audit.record(
        AuditEvent(
            action="device.clone_warning",
            actor=device.public_id,
            subject=device.public_id,
            data={
                "kind": device.kind,
                "stored_count": went_back.stored,
                "received_count": went_back.received,
            },
        )
    )


def _first_use(
    uow: UnitOfWork, device: DeviceRow, challenge: ChallengeRow, counter: int | None, now: datetime
) -> bool:
    """R-LOGIN-6: each guard is one conditional write, so two racing processes cannot
    both pass it: the time step must be newer, the card pair unused, the challenge open."""
    if counter is not None and not uow.device_access.advance_counter(device.id, counter):
        return False
    if (
        challenge.value is not None
        and DeviceKind(device.kind) in CARD_KINDS
        and not uow.device_access.use_card_pair(device.id, card_pair(challenge.value))
    ):
        return False
    return uow.challenges.consume(challenge.id, now=now)


def accepted_for(services: Services, device: DeviceRow, now: datetime) -> Accepted:
    """What a session opened by this device gets (also for an approved push)."""
    return _accepted(services, device, now)


def _accepted(services: Services, device: DeviceRow, now: datetime) -> Accepted:
    kind = DeviceKind(device.kind)
    tier = Tier(rank=services.policy.catalogue[kind].rank, device_kind=kind)
    if kind is DeviceKind.TEMPORARY_CODE and device.activated_at is not None:
        level, until = temporary_access(device.activated_at, now=now)  # R-LOGIN-9
        return Accepted(access_level=level, access_until=until, tier=tier)
    return Accepted(access_level=AccessLevel.FULL, access_until=device.expires_at, tier=tier)


def open_keys(
    services: Services,
    uow: UnitOfWork,
    device: DeviceRow,
    challenge: ChallengeRow,
    ceremony_id: str,
) -> Keys:
    """Open only what this check needs; nothing else is decrypted."""
    box, public_id = services.box, device.public_id
    seed = box.open(device.secret, context=f"device:{public_id}") if device.secret else None
    pin = None
    if device.pin_secret is not None:
        pin = box.open(device.pin_secret, context=f"device-pin:{public_id}").decode()
    if DeviceKind(device.kind) in CARD_KINDS and challenge.value is not None:
        pair = card_pair(challenge.value)
        return Keys(
            card_hashes=uow.device_access.card_hashes(device.id, pair),
            card_hash=lambda p, v: box.fingerprint(v.encode(), purpose=f"card:{public_id}:{p}"),
        )
    if challenge.secret is not None:
        code = box.open(challenge.secret, context=_challenge_context(ceremony_id, device))
        return Keys(code=code.decode())
    if DeviceKind(device.kind) is DeviceKind.TEMPORARY_CODE and seed is not None:
        return Keys(code=seed.decode())
    assertion = services.webauthn.check_assertion if services.webauthn else None
    return Keys(seed=seed, pin=pin, assertion=assertion)
