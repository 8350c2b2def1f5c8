"""Reviewing a share request and carrying out its approval (SPEC §5.3, R-SHARE-2..5).

The use cases of :mod:`service.lifecycle.sharing` (the requester's challenge, compliance's decision)
call these: :func:`review` checks the pure rules of :mod:`domain.sharing` against the
devices as they are in the database now; :func:`conclude` turns an answered challenge into
an approval or a wait for compliance (R-SHARE-4); :func:`apply_share` retires the
requester's own devices and lets the shared one protect both users (R-SHARE-5).  All of
them work inside the caller's unit of work and never commit.
"""

from __future__ import annotations

from datetime import datetime

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.lifecycle import RETURNABLE_STATES, ReturnReason
from securelogin.domain.returns import Region
from securelogin.domain.sharing import (
    HeldDevice,
    Participant,
    Review,
    ShareStatus,
    check_share,
    retire_state,
)
from securelogin.errors import ShareRequestDecided
from securelogin.service.context import Services
from securelogin.service.lifecycle.returns import begin_return
from securelogin.service.lifecycle.settings import end_opt_out
from securelogin.service.lifecycle_ports import OwnedDevice
from securelogin.service.login_ports import DeviceRow
from securelogin.service.ports import UnitOfWork, UserRow
from securelogin.service.sharing_ports import ShareRequestRow

#: who decides a share that needs no compliance review
SYSTEM = "system"


def held(row: DeviceRow) -> HeldDevice:
    return HeldDevice(
        id=row.id,
        kind=DeviceKind(row.kind),
        state=DeviceState(row.state),
        activated_at=row.activated_at,
        expires_at=row.expires_at,
    )


def _participant(uow: UnitOfWork, user: UserRow) -> Participant:
    return Participant(
        user_id=user.id,
        entity_id=user.entity_id,
        identification_fp=uow.sharing.identification_fp(user.entity_id),
        devices=tuple(held(r) for r in uow.device_access.of_user(user.id)),
    )


def review(
    services: Services,
    uow: UnitOfWork,
    requester: UserRow,
    owner: UserRow,
    device: DeviceRow,
    now: datetime,
    *,
    waiting: set[int] | None = None,
) -> Review:
    """R-SHARE-2/3: the rules on the devices as they are now; raises ``ShareRefused``.
    ``waiting`` replaces the devices of the requester's other waiting requests."""
    shared = {r.id for r in uow.device_access.of_user(requester.id)}
    return check_share(
        requester=_participant(uow, requester),
        owner=_participant(uow, owner),
        device=held(device),
        catalogue=services.policy.catalogue,
        shared_with_requester=shared
        | (uow.sharing.waiting_device_ids(requester.id) if waiting is None else waiting),
        now=now,
    )


def conclude(
    services: Services,
    uow: UnitOfWork,
    request: ShareRequestRow,
    requester: UserRow,
    owner: UserRow,
    device: DeviceRow,
    verdict: Review,
    now: datetime,
) -> None:
    """R-SHARE-4: same entity → approved and applied at once; else wait for compliance."""
    if verdict is Review.COMPLIANCE:
        status, at, by = ShareStatus.PENDING_COMPLIANCE, None, None
    else:
        status, at, by = ShareStatus.APPROVED, now, SYSTEM
    if not uow.sharing.move(
        request.id, expected=ShareStatus.CHALLENGE, status=status, at=at, by=by
    ):
        raise ShareRequestDecided
    if verdict is Review.COMPLIANCE:
        audit_share(uow, "share.pending_compliance", requester, owner.username, request.public_id)
    else:
        apply_share(
            services, uow, requester, device, now, actor=SYSTEM, request_id=request.public_id
        )


def apply_share(
    services: Services,
    uow: UnitOfWork,
    requester: UserRow,
    device: DeviceRow,
    now: datetime,
    *,
    actor: str,
    request_id: str,
) -> None:
    """R-SHARE-5: the requester's own devices are retired (physical ones go back, the
    rest are revoked; their sessions end) and the shared device protects both users.
    An opted-out requester is back in the Secure Login System (R-OPT-3)."""
    retired: list[str] = []
    ended: list[int] = []
    for row in uow.device_access.of_user(requester.id):
        if row.owner_id != requester.id or row.id == device.id:
            continue
        state = retire_state(DeviceKind(row.kind), catalogue=services.policy.catalogue)
        owned = uow.lifecycle.device_by_public_id(row.public_id)
        if owned is not None and _returnable(services, owned):
            # physical devices go back through the returns of R-RETURN-1 (reason
            # "consolidated"): logistics records receipt and releases the deposit
            began = begin_return(
                services, uow, owned, ReturnReason.CONSOLIDATED, Region.US_CANADA,
                now=now, actor=actor,
            )  # fmt: skip
            state = DeviceState.REVOKED if began.shredded else DeviceState.RETURN_PENDING
        elif not uow.sharing.retire(row.id, state=state, at=now):
            continue
        retired.append(f"{row.public_id}:{state.value}")
        ended.append(row.id)
    uow.sharing.end_sessions(ended, at=now)
    uow.sharing.protect(device.id, requester.id, at=now)
    if uow.sharing.set_opted_out(requester.id, opted_out=False):
        end_opt_out(uow, requester, now=now, how="share")
    uow.audit.record(
        AuditEvent(
            action="share.approved",
            actor=actor,
            subject=requester.username,
            data={
                "request_id": request_id,
                "device_id": device.public_id,
                "retired": ",".join(retired),
            },
        )
    )


def _returnable(services: Services, device: OwnedDevice) -> bool:
    info = services.policy.catalogue.get(DeviceKind(device.kind))
    return bool(info and info.physical) and device.state in RETURNABLE_STATES


def audit_share(
    uow: UnitOfWork,
    action: str,
    requester: UserRow,
    owner: str,
    request_id: str,
    code: str | None = None,
) -> None:
    """An event of the requester's side of a share request, in the caller's commit."""
    data: dict[str, str | None] = {"request_id": request_id, "owner": owner}
    if code:
        data["code"] = code
    uow.audit.record(
        AuditEvent(action=action, actor=requester.username, subject=requester.username, data=data)
    )
