"""Ports of security settings (SPEC §5.1, §5.3): opt-out waivers and share requests.

Every step that must happen once (a decision on a share request, opting out, opting back
in) is one conditional ``UPDATE … WHERE status = …`` in the adapter that answers whether
this transaction won, so two operators or two processes can never both decide.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from securelogin.domain.identity import Right


@dataclass(frozen=True, kw_only=True)
class ShareRequestRow:
    id: int
    public_id: str
    requester_id: int
    requester: str
    owner_id: int
    owner: str
    device_id: int
    device_public_id: str
    device_kind: str
    device_serial: str | None
    ceremony_id: str | None
    status: str
    review: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class OptOutRow:
    id: int
    user_id: int
    waiver_version: str
    waiver_language: str
    waiver_digest: str
    signed_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class NewOptOut:
    user_id: int
    waiver_version: str
    waiver_language: str
    waiver_text: str
    waiver_digest: str


class SharingRepository(Protocol):
    def identification_fp(self, entity_id: int) -> str: ...

    def account_rights(self, user_id: int) -> list[tuple[str, str, frozenset[Right]]]:
        """``(account, username, rights)`` of every grant on the accounts of this user."""
        ...

    def set_opted_out(self, user_id: int, *, opted_out: bool) -> bool:
        """Flip ``users.opted_out`` only if it is not already so; False = it was."""
        ...

    def add_opt_out(self, row: NewOptOut, *, at: datetime) -> int: ...

    def end_opt_out(self, user_id: int, *, at: datetime, how: str) -> None: ...

    def current_opt_out(self, user_id: int) -> OptOutRow | None: ...

    def add_request(
        self,
        *,
        public_id: str,
        requester_id: int,
        owner_id: int,
        device_id: int,
        ceremony_id: str | None,
        status: str,
        review: str,
        at: datetime,
    ) -> int: ...

    def request(self, public_id: str) -> ShareRequestRow | None: ...

    def requests(
        self, *, status: str | None = None, requester_id: int | None = None, limit: int = 100
    ) -> list[ShareRequestRow]: ...

    def move(
        self,
        request_id: int,
        *,
        expected: str,
        status: str,
        at: datetime | None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move a request out of ``expected`` exactly once; False if it already left."""
        ...

    def waiting_device_ids(self, requester_id: int) -> set[int]:
        """Devices this requester asked for that wait for compliance."""
        ...

    def protect(self, device_id: int, user_id: int, *, at: datetime) -> None:
        """The device protects one more user (``device_users``); idempotent."""
        ...

    def retire(self, device_id: int, *, state: str, at: datetime) -> bool:
        """Move one of the requester's devices out of service (R-SHARE-5)."""
        ...

    def end_sessions(self, device_ids: Collection[int], *, at: datetime) -> int:
        """R-LOGIN-11: revoking a device ends the sessions it created."""
        ...
