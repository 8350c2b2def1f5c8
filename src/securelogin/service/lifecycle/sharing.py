"""Sharing a device between usernames (SPEC §5.3, R-SHARE-1..5; compliance: R-OPS-2).

The requesting user, logged in, names the owner's username and gives the owner's
password; the owner's device is then challenged.  The owner's side is a ceremony of
purpose ``share`` answered by the owner: the same failure counters, expiry, three answers
and replay guards as any login (R-LOGIN-3/6), and a push the owner can approve on a
mobile key (``push_approved``, registered in bootstrap.py).  No session is opened for
the owner.  The rules themselves are pure (:mod:`domain.sharing`) and are
checked twice: before the challenge (a helpful answer at once) and after it (the devices
may have changed meanwhile).  Compliance lists and decides the requests that wait for it
(R-SHARE-4).  Checking the rules against the database and carrying out an approval
(retiring the requester's devices, R-SHARE-5) live in :mod:`service.lifecycle.sharing_approval`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from securelogin.domain.access import is_usable
from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import PolicyViolation, normalize_username
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.domain.sharing import (
    Participant,
    Review,
    ShareStatus,
    check_requester,
    default_device,
)
from securelogin.errors import (
    InvalidInput,
    Locked,
    LoginExpired,
    ShareRefused,
    ShareRequestDecided,
    Unauthenticated,
    UnknownDevice,
    UnknownShareRequest,
)
from securelogin.service.ceremony.counting import serialise, settle
from securelogin.service.ceremony.factors import (
    FactorView,
    candidate,
    check_answer,
    deliver_codes,
    deliver_wakeups,
    factor_view,
    issue_challenge,
    open_ceremony,
)
from securelogin.service.ceremony.outcomes import Approval, Denial, Purpose
from securelogin.service.ceremony.record import is_open
from securelogin.service.context import Services
from securelogin.service.lifecycle.settings import check_password
from securelogin.service.lifecycle.sharing_approval import (
    apply_share,
    audit_share,
    conclude,
    held,
    review,
)
from securelogin.service.login.login import MAX_ANSWERS
from securelogin.service.login_ports import AnswerLock, DeviceRow
from securelogin.service.ports import UnitOfWork, UserRow
from securelogin.service.sharing_ports import ShareRequestRow

#: the owner's login that carries the challenge
SHARE_PLATFORM = "share"
REASON_MAX = 500


@dataclass(frozen=True, kw_only=True)
class ShareStarted:
    request_id: str
    factor: FactorView


@dataclass(frozen=True, kw_only=True)
class ShareRequestView:
    request_id: str
    requester: str
    owner: str
    device_id: str
    device_kind: DeviceKind
    device_serial: str | None
    status: ShareStatus
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class ShareStep:
    """The requester's confirmation page: the request, and while it waits for the owner's
    device the prompt (the offline challenge) and whether a push is still pending (the
    page then shows its number and finishes by itself once it is approved)."""

    view: ShareRequestView
    factor: FactorView | None
    pushed: bool


def _view(row: ShareRequestRow) -> ShareRequestView:
    return ShareRequestView(
        request_id=row.public_id,
        requester=row.requester,
        owner=row.owner,
        device_id=row.device_public_id,
        device_kind=DeviceKind(row.device_kind),
        device_serial=row.device_serial,
        status=ShareStatus(row.status),
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
    )


def _owned_device(uow: UnitOfWork, owner: UserRow, public_id: str) -> DeviceRow:
    rows = uow.device_access.of_user(owner.id)
    found = next((r for r in rows if r.public_id == public_id and r.owner_id == owner.id), None)
    if found is None:
        raise UnknownDevice
    return found


def start_share(
    services: Services,
    *,
    requester_id: int,
    owner_username: str,
    owner_password: str,
    device_id: str | None = None,
) -> ShareStarted:
    """R-SHARE-1: check the owner's password (counted like a login), check the rules,
    then challenge the owner's device.  Unknown owners and wrong passwords get the same
    answer, ``owner_authentication_failed``, with the same work."""
    now = services.clock.now()
    with services.uow() as uow:
        requester = uow.users.by_id(requester_id)
        if requester is None:
            raise Unauthenticated
        try:
            name = normalize_username(owner_username)
        except PolicyViolation:
            name = None
        owner = uow.users.by_username(name) if name else None
    if owner is not None:
        check_requester(requester_id=requester.id, owner_id=owner.id)
    if owner is None:
        services.passwords.verify_dummy(password=owner_password)
        raise ShareRefused("owner_authentication_failed")
    if not _password_ok(services, owner, owner_password):
        _record(services, "share.owner_password_failed", requester, owner.username)
        raise ShareRefused("owner_authentication_failed")
    with services.uow() as uow:
        device = _device_to_share(services, uow, owner, device_id, now)
        verdict = review(services, uow, requester, owner, device, now)
        started = _open_challenge(services, uow, requester, owner, device, verdict, now)
        uow.commit()
    if started.factor.prompt.sent_to is not None:
        deliver_codes(services)
    deliver_wakeups(services)
    return started


def _password_ok(services: Services, owner: UserRow, password: str) -> bool:
    try:
        return check_password(services, owner, password)
    except Locked:  # a locked owner looks like a wrong password to the requester
        return False


def _device_to_share(
    services: Services, uow: UnitOfWork, owner: UserRow, device_id: str | None, now: datetime
) -> DeviceRow:
    if device_id:
        return _owned_device(uow, owner, device_id)
    rows = [r for r in uow.device_access.of_user(owner.id) if r.owner_id == owner.id]
    owner_side = Participant(
        user_id=owner.id,
        entity_id=owner.entity_id,
        identification_fp="",
        devices=tuple(held(r) for r in rows),
    )
    best = default_device(owner_side, catalogue=services.policy.catalogue, now=now)
    if best is None:
        usable = [r for r in rows if is_usable(candidate(r), now=now)]
        raise ShareRefused("device_not_shareable" if usable else "device_not_active")
    return next(r for r in rows if r.id == best.id)


def _open_challenge(
    services: Services,
    uow: UnitOfWork,
    requester: UserRow,
    owner: UserRow,
    device: DeviceRow,
    verdict: Review,
    now: datetime,
) -> ShareStarted:
    request_id = "sr_" + services.random.token_bytes(12).hex()
    expires_at = now + timedelta(seconds=services.policy.login_ttl_seconds)
    # A device that declares push delivery (the mobile key) gets a push the owner can
    # approve (R-KEY-4); the requester is also shown the offline challenge to type what
    # the owner's device shows — whichever succeeds first wins, as for a login.
    ceremony, factor = open_ceremony(
        services,
        uow,
        purpose=Purpose.SHARE,
        subject=request_id,
        user_id=owner.id,
        device=device,
        expires_at=expires_at,
        now=now,
        platform=SHARE_PLATFORM,
    )
    pushed = factor.prompt.number
    if pushed is not None:  # the offline challenge too, with the number the push shows
        factor = issue_challenge(
            services,
            uow,
            device=device,
            ceremony=ceremony,
            expires_at=expires_at,
            now=now,
            fallback=True,
        )
        factor = replace(factor, prompt=replace(factor.prompt, number=pushed))
    uow.sharing.add_request(
        public_id=request_id,
        requester_id=requester.id,
        owner_id=owner.id,
        device_id=device.id,
        ceremony_id=ceremony.id,
        status=ShareStatus.CHALLENGE,
        review=verdict,
        at=now,
    )
    uow.audit.record(
        AuditEvent(
            action="share.requested",
            actor=requester.username,
            subject=owner.username,
            data={"request_id": request_id, "device_id": device.public_id, "kind": device.kind},
        )
    )
    return ShareStarted(request_id=request_id, factor=factor)


def answer_share(
    services: Services, *, requester_id: int, request_id: str, response: str
) -> ShareRequestView:
    """R-SHARE-1/4/5: one answer from the owner's device; on success the rules are
    checked again, then the request is approved and applied, or waits for compliance."""
    now = services.clock.now()
    with services.uow() as uow:
        request = _own_request(uow, requester_id, request_id)
        try:
            answering = serialise(services, uow, request.owner_id, now)
        except Locked:
            raise ShareRefused("owner_authentication_failed") from None
        request = _own_request(uow, requester_id, request_id)  # again, under the lock
        owner = uow.users.by_id(request.owner_id)
        requester = uow.users.by_id(request.requester_id)
        device = uow.device_access.by_id(request.device_id)
        assert owner and requester and device  # noqa: S101 - foreign keys
        if not _owner_answered(services, uow, request, answering, requester, response, now):
            uow.commit()  # the counted failure and the audit event stay
            raise ShareRefused("owner_authentication_failed")
        try:
            verdict = review(services, uow, requester, owner, device, now)
        except ShareRefused as refused:
            uow.sharing.move(request.id, expected=ShareStatus.CHALLENGE, status="failed")
            audit_share(uow, "share.refused", requester, owner.username, request_id, refused.code)
            uow.commit()
            raise
        conclude(services, uow, request, requester, owner, device, verdict, now)
        uow.commit()
    return request_view(services, request_id)


def _owner_answered(
    services: Services,
    uow: UnitOfWork,
    request: ShareRequestRow,
    owner: AnswerLock,
    requester: UserRow,
    response: str,
    now: datetime,
) -> bool:
    """The owner's second factor (R-LOGIN-3/6), under the owner's answer lock: take one
    of the 3 answers, evaluate, count only a wrong one; False = not accepted (the
    request fails after the last answer)."""
    ceremony = uow.ceremonies.get(request.ceremony_id or "")
    if request.status != ShareStatus.CHALLENGE or ceremony is None:
        raise ShareRequestDecided
    if not is_open(ceremony, now):
        uow.sharing.move(request.id, expected=ShareStatus.CHALLENGE, status="failed")
        uow.commit()
        raise LoginExpired
    outcome = check_answer(
        services, uow, ceremony=ceremony, response=response, now=now, max_answers=MAX_ANSWERS
    )
    settle(services, uow, owner, outcome.verdict, now)
    if outcome.accepted is None:
        audit_share(uow, "share.owner_factor_failed", requester, owner.username, request.public_id)
        if outcome.exhausted:
            uow.sharing.move(request.id, expected=ShareStatus.CHALLENGE, status="failed")
        return False
    return True


def push_approved(services: Services, uow: UnitOfWork, approval: Approval) -> None:
    """The owner approved the share on the device's push (wired in bootstrap.py; the
    ceremony ended as authenticated in this unit of work): check the rules again, then
    approve and apply, or wait for compliance (R-SHARE-4/5) — in the same commit."""
    request = uow.sharing.request(approval.subject)
    if request is None or request.status != ShareStatus.CHALLENGE:
        raise ShareRequestDecided
    owner = uow.users.by_id(request.owner_id)
    requester = uow.users.by_id(request.requester_id)
    device = uow.device_access.by_id(request.device_id)
    assert owner and requester and device  # noqa: S101 - foreign keys
    try:
        verdict = review(services, uow, requester, owner, device, approval.at)
    except ShareRefused as refused:  # the approval stands; the request fails
        uow.sharing.move(request.id, expected=ShareStatus.CHALLENGE, status="failed")
        audit_share(
            uow, "share.refused", requester, owner.username, request.public_id, refused.code
        )
        return
    conclude(services, uow, request, requester, owner, device, verdict, approval.at)


def push_denied(services: Services, uow: UnitOfWork, denial: Denial) -> None:
    """The owner denied the share on the device's push (wired in bootstrap.py): the
    request fails in the same commit (R-SHARE-1)."""
    request = uow.sharing.request(denial.subject)
    if request is None or request.status != ShareStatus.CHALLENGE:
        return
    if uow.sharing.move(request.id, expected=ShareStatus.CHALLENGE, status="failed"):
        requester = uow.users.by_id(request.requester_id)
        if requester is not None:
            audit_share(uow, "share.owner_denied", requester, request.owner, request.public_id)


def _own_request(uow: UnitOfWork, requester_id: int, request_id: str) -> ShareRequestRow:
    request = uow.sharing.request(request_id)
    if request is None or request.requester_id != requester_id:
        raise UnknownShareRequest
    return request


def request_view(services: Services, request_id: str) -> ShareRequestView:
    with services.uow() as uow:
        row = uow.sharing.request(request_id)
    if row is None:
        raise UnknownShareRequest
    return _view(row)


def my_request(services: Services, *, user_id: int, request_id: str) -> ShareRequestView:
    """One of the user's own share requests (another's looks like an unknown one)."""
    with services.uow() as uow:
        return _view(_own_request(uow, user_id, request_id))


def share_step(services: Services, *, requester_id: int, request_id: str) -> ShareStep:
    """One of the requester's share requests and, while its ceremony is open, what its
    confirmation page shows (another's request looks like an unknown one)."""
    now = services.clock.now()
    with services.uow() as uow:
        row = _own_request(uow, requester_id, request_id)
        ceremony = uow.ceremonies.get(row.ceremony_id or "")
        if row.status != ShareStatus.CHALLENGE or ceremony is None or not is_open(ceremony, now):
            return ShareStep(view=_view(row), factor=None, pushed=False)
        factor = factor_view(uow, ceremony.id)
        pending = uow.mobile_keys.pending_push_of(ceremony.id, now=now)
    if factor is not None and pending is not None:
        factor = replace(factor, prompt=replace(factor.prompt, number=pending.number))
    return ShareStep(view=_view(row), factor=factor, pushed=pending is not None)


def decided_requests(services: Services, request_ids: list[str]) -> set[str]:
    """Long-poll wake-ups (the poller's fallback): which of these share requests no
    longer wait for the owner's device (a few waiters at most: one read each)."""
    with services.uow() as uow:
        rows = [uow.sharing.request(i) for i in request_ids]
    return {r.public_id for r in rows if r is not None and r.status != ShareStatus.CHALLENGE}


def skip_push(services: Services, *, requester_id: int, request_id: str) -> None:
    """The requester's "no notification" fallback (R-LOGIN-5): the pending push is
    withdrawn, so the page shows the offline challenge issued with it (no refresh)."""
    now = services.clock.now()
    with services.uow() as uow:
        row = _own_request(uow, requester_id, request_id)
        if row.status == ShareStatus.CHALLENGE and row.ceremony_id:
            uow.mobile_keys.withdraw_pushes(row.ceremony_id, now=now)
            uow.commit()


def my_requests(services: Services, *, user_id: int) -> list[ShareRequestView]:
    with services.uow() as uow:
        rows = uow.sharing.requests(requester_id=user_id, limit=20)
    return [_view(r) for r in rows]


def list_requests(
    services: Services, operator: Operator, *, status: ShareStatus | None = None
) -> list[ShareRequestView]:
    """R-OPS-2: compliance lists share requests (by default those waiting for them)."""
    require_role(operator, Role.COMPLIANCE)
    wanted = ShareStatus.PENDING_COMPLIANCE if status is None else status
    with services.uow() as uow:
        rows = uow.sharing.requests(status=wanted, limit=200)
    return [_view(r) for r in rows]


def decide(
    services: Services, operator: Operator, *, request_id: str, approve: bool, reason: str
) -> ShareRequestView:
    """R-SHARE-4: compliance approves or rejects a waiting request, with a reason, once.
    The decision is one conditional UPDATE: of two operators (or processes) deciding at
    the same time, exactly one wins; the other gets ``share_request_decided``."""
    require_role(operator, Role.COMPLIANCE)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(f"a reason of 1 to {REASON_MAX} characters is required", field="reason")
    now = services.clock.now()
    with services.uow() as uow:
        request = uow.sharing.request(request_id)
        if request is None:
            raise UnknownShareRequest
        if request.status != ShareStatus.PENDING_COMPLIANCE:
            raise ShareRequestDecided
        requester = uow.users.by_id(request.requester_id)
        owner = uow.users.by_id(request.owner_id)
        device = uow.device_access.by_id(request.device_id)
        assert requester and owner and device  # noqa: S101 - foreign keys
        if approve:  # the devices may have changed while the request waited
            waiting = uow.sharing.waiting_device_ids(requester.id) - {device.id}
            review(services, uow, requester, owner, device, now, waiting=waiting)
        status = ShareStatus.APPROVED if approve else ShareStatus.REJECTED
        if not uow.sharing.move(
            request.id,
            expected=ShareStatus.PENDING_COMPLIANCE,
            status=status,
            at=now,
            by=operator.actor,
            reason=reason,
        ):
            raise ShareRequestDecided
        if approve:
            apply_share(
                services, uow, requester, device, now, actor=operator.actor, request_id=request_id
            )
        else:
            uow.audit.record(
                AuditEvent(
                    action="share.rejected",
                    actor=operator.actor,
                    subject=requester.username,
                    data={"request_id": request_id, "reason": reason},
                )
            )
        uow.commit()
    return request_view(services, request_id)


def _record(services: Services, action: str, requester: UserRow, owner: str) -> None:
    with services.uow() as uow:
        uow.audit.record(
            AuditEvent(
                action=action,
                actor=requester.username,
                subject=requester.username,
                data={"owner": owner},
            )
        )
        uow.commit()
