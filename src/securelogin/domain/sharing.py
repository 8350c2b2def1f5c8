"""Sharing one security device between usernames (SPEC §5.3, R-SHARE-1..5): who may share
which device, and whether compliance must look first.  Pure: the devices, fingerprints,
catalogue and clock reading are parameters; refusals raise :class:`ShareRefused`.

The checks run in a fixed order, so that a request breaking several rules always gets the
same answer: requester is owner → identity → temporary devices → shareable kind → active
→ already shared → most secure (R-SHARE-3).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from securelogin.domain.access import Candidate, is_usable
from securelogin.domain.devices.catalogue import CARD_KINDS, DeviceKind, DeviceState, KindInfo
from securelogin.errors import ShareRefused

#: R-SHARE-2 (b): holding one of these makes a user unable to take part in sharing
TEMPORARY_KINDS: frozenset[DeviceKind] = frozenset(
    {DeviceKind.TEMPORARY_CODE, DeviceKind.ONLINE_CODE_CARD}
)
#: states in which a device is still "assigned" to its user (not yet or still in use)
ASSIGNED_STATES: frozenset[DeviceState] = frozenset(
    {
        DeviceState.ORDERED,
        DeviceState.SHIPPED,
        DeviceState.PENDING_ACTIVATION,
        DeviceState.ACTIVE,
    }
)


class ShareStatus(StrEnum):
    """A share request's life: the owner's device is challenged, then it is decided."""

    CHALLENGE = "challenge"
    FAILED = "failed"
    PENDING_COMPLIANCE = "pending_compliance"
    APPROVED = "approved"
    REJECTED = "rejected"


class Review(StrEnum):
    """R-SHARE-4: what happens to an eligible request."""

    AUTOMATIC = "automatic"
    COMPLIANCE = "compliance"


@dataclass(frozen=True, kw_only=True)
class HeldDevice:
    """A device as the sharing rules see it."""

    id: int
    kind: DeviceKind
    state: DeviceState
    activated_at: datetime | None
    expires_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return is_usable(
            Candidate(
                id=self.id,
                kind=self.kind,
                state=self.state,
                activated_at=self.activated_at,
                expires_at=self.expires_at,
            ),
            now=now,
        )

    def assigned(self, now: datetime) -> bool:
        """Still the user's: in use or on its way (expired temporary devices are not)."""
        if self.state is DeviceState.ACTIVE:
            return self.usable(now)
        return self.state in ASSIGNED_STATES and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, kw_only=True)
class Participant:
    """One of the two users of a share request, with every device that protects them."""

    user_id: int
    entity_id: int
    identification_fp: str
    devices: Sequence[HeldDevice]


def refuse(code: str) -> ShareRefused:
    return ShareRefused(code)


def check_requester(*, requester_id: int, owner_id: int) -> None:
    """R-SHARE-1: the requesting user, not the device owner, asks."""
    if requester_id == owner_id:
        raise refuse("requester_is_owner")


def review_for(requester: Participant, owner: Participant) -> Review:
    """R-SHARE-2 (a) and R-SHARE-4: same entity → automatic; different entities with the
    same identification fingerprint → compliance; anything else is refused."""
    if requester.entity_id == owner.entity_id:
        return Review.AUTOMATIC
    if requester.identification_fp == owner.identification_fp:
        return Review.COMPLIANCE
    raise refuse("identity_mismatch")


def check_share(
    *,
    requester: Participant,
    owner: Participant,
    device: HeldDevice,
    catalogue: Mapping[DeviceKind, KindInfo],
    shared_with_requester: Collection[int],
    now: datetime,
) -> Review:
    """Every rule of R-SHARE-2 in the order of the module docstring; the review to apply.

    ``shared_with_requester`` holds the ids of devices already protecting the requester
    or already requested by them and waiting for compliance.
    """
    check_requester(requester_id=requester.user_id, owner_id=owner.user_id)
    review = review_for(requester, owner)
    for person in (requester, owner):
        if any(d.kind in TEMPORARY_KINDS and d.assigned(now) for d in person.devices):
            raise refuse("temporary_device_assigned")
    if not catalogue[device.kind].shareable:
        raise refuse("device_not_shareable")
    if not device.usable(now):
        raise refuse("device_not_active")
    if device.id in shared_with_requester:
        raise refuse("already_shared")
    rank = catalogue[device.kind].rank
    strongest = max(
        (catalogue[d.kind].rank for p in (requester, owner) for d in p.devices if d.usable(now)),
        default=rank,
    )
    if rank < strongest:  # ties are allowed (R-SHARE-2 c)
        raise refuse("less_secure_device")
    return review


def default_device(
    owner: Participant, *, catalogue: Mapping[DeviceKind, KindInfo], now: datetime
) -> HeldDevice | None:
    """The owner's strongest usable shareable device (what to share when none is named)."""
    usable = [d for d in owner.devices if d.usable(now) and catalogue[d.kind].shareable]
    return max(usable, key=lambda d: (catalogue[d.kind].rank, -d.id), default=None)


def retire_state(kind: DeviceKind, *, catalogue: Mapping[DeviceKind, KindInfo]) -> DeviceState:
    """R-SHARE-5: the requester's physical devices go back (``return_pending``); the rest
    are revoked — printed code cards too, which are shredded, never returned (R-RETURN-4)."""
    if catalogue[kind].physical and kind not in CARD_KINDS:
        return DeviceState.RETURN_PENDING
    return DeviceState.REVOKED
