"""Ports of the device lifecycle (SPEC §5.4–5.6, R-OPS-4/5): replacement requests,
deposit holds, returns, the message centre, documents, closures and the background jobs.

Every method that guards a rule "exactly once" (shipping, auto-activation, reminders,
receipts, settling a hold) is one conditional ``UPDATE … WHERE state = …`` in the
adapter and answers whether it won, so two processes can never both do the same step.
Lock order: ``uow.funds.lock_account`` (the ``accounts`` row lock of the withdrawals, see
``funds_ports``) before any read or change of the account's money or holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from securelogin.service.login_ports import ChallengeRow


@dataclass(frozen=True, kw_only=True)
class RequestRow:
    id: int
    public_id: str
    user_id: int
    username: str
    account_id: int
    account_number: str
    kind: str
    state: str
    address: str
    pin_secret: bytes
    hold_id: int | None
    device_id: int | None
    serial: str | None
    estimated_ship_date: date | None
    created_at: datetime
    confirmed_at: datetime | None
    shipped_at: datetime | None
    reminded_at: datetime | None
    activated_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class HoldRow:
    id: int
    account_id: int
    amount_cents: int
    device_id: int | None
    state: str


@dataclass(frozen=True, kw_only=True)
class ReturnRow:
    id: int
    device_id: int
    device_public_id: str
    kind: str
    serial: str | None
    user_id: int
    username: str
    reason: str
    region: str
    state: str
    created_at: datetime
    received_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class MessageRow:
    id: int
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class DocumentRow:
    id: int
    public_id: str
    account_id: int
    account_number: str
    kind: str
    title: str
    period: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class LedgerLine:
    at: datetime
    kind: str
    amount_cents: int
    reference: str | None


@dataclass(frozen=True, kw_only=True)
class OwnedDevice:
    """A device as closure and the jobs see it (no secrets)."""

    id: int
    public_id: str
    kind: str
    state: str
    serial: str | None
    owner_id: int | None
    activated_at: datetime | None
    expires_at: datetime | None


class ReplacementRequests(Protocol):
    """Replacement requests (R-LOST-3/4): ``uow.replacements``."""

    def add_request(
        self,
        *,
        public_id: str,
        user_id: int,
        account_id: int,
        kind: str,
        address: str,
        pin_secret: bytes,
        now: datetime,
    ) -> int: ...

    def request(self, public_id: str) -> RequestRow | None: ...

    def request_by_device(self, device_id: int) -> RequestRow | None: ...

    def requests_of(self, user_id: int) -> list[RequestRow]: ...

    def requests_in(self, states: Collection[str]) -> list[RequestRow]: ...

    def move_request(
        self, request_id: int, *, frm: Collection[str], to: str, **values: object
    ) -> bool:
        """``UPDATE … SET state = to, values WHERE id = … AND state IN frm``; True if it won."""
        ...

    def shipped_before(self, cutoff: datetime, *, unreminded: bool) -> list[RequestRow]:
        """Shipped requests with ``shipped_at <= cutoff`` (only unreminded ones if asked)."""
        ...

    def mark_reminded(self, request_id: int, *, now: datetime) -> bool:
        """Set ``reminded_at`` if still empty (the reminder is sent exactly once)."""
        ...


class DepositRepository(Protocol):
    """Deposit holds and the deposit ledger (R-LOST-3, R-RETURN-2/3): ``uow.deposits``;
    money is read and changed only under the account lock."""

    def add_hold(
        self, *, account_id: int, amount_cents: int, reason: str, now: datetime
    ) -> int: ...

    def hold(self, hold_id: int) -> HoldRow | None: ...

    def holds_of_device(self, device_id: int) -> list[HoldRow]: ...

    def set_hold_device(self, hold_id: int, device_id: int) -> None: ...

    def settle_hold(self, hold_id: int, *, to: str, now: datetime) -> bool:
        """``held`` → ``released``/``charged`` exactly once."""
        ...

    def charge(self, *, account_id: int, amount_cents: int, reference: str, now: datetime) -> None:
        """A ledger row (kind ``device_deposit``) and the balance, in this transaction."""
        ...

    def ledger(self, account_id: int) -> list[LedgerLine]: ...


class LifecycleRepository(Protocol):
    """A device's states as replacement, closure and the jobs move them, and the
    challenges outside any login: ``uow.lifecycle``."""

    def device(self, device_id: int) -> OwnedDevice | None: ...

    def device_by_public_id(self, public_id: str) -> OwnedDevice | None: ...

    def devices_of(self, user_id: int) -> list[OwnedDevice]:
        """Devices the user owns or shares, any state."""
        ...

    def move_device(
        self, device_id: int, *, frm: Collection[str], to: str, **values: object
    ) -> bool: ...

    def expired_temporary(self, *, code_issued_before: datetime, now: datetime) -> list[int]:
        """Active temporary codes issued before the cutoff and active online cards past
        their ``expires_at`` (R-OPS-4)."""
        ...

    def activation_challenge(self, device_id: int, *, now: datetime) -> ChallengeRow | None:
        """The newest open challenge of a device outside any login (activation)."""
        ...

    def delete_expired_challenges(self, *, before: datetime) -> int: ...


class SessionControl(Protocol):
    """Ending and stepping up a user's sessions when a device or an account changes:
    ``uow.session_control``."""

    def revoke_sessions(self, user_id: int, *, now: datetime) -> int: ...

    def open_sessions(self, user_id: int) -> int:
        """How many sessions :meth:`revoke_sessions` would end now (the closure preview)."""
        ...

    def step_up_session(
        self, session_id: int, *, device_id: int, tier_rank: int, tier_kind: str
    ) -> None:
        """R-LOST-2: the session moves onto the newly activated online card."""
        ...


class ReturnRepository(Protocol):
    """Device returns (R-RETURN-1/2): ``uow.returns``."""

    def add_return(
        self, *, device_id: int, user_id: int, reason: str, region: str, now: datetime
    ) -> int: ...

    def returns_in(self, states: Collection[str]) -> list[ReturnRow]: ...

    def returns_of(self, user_id: int) -> list[ReturnRow]: ...

    def return_(self, return_id: int) -> ReturnRow | None: ...

    def receive_return(self, return_id: int, *, now: datetime) -> bool: ...


class MessageCentre(Protocol):
    """The portal's message centre (R-OPS-5): ``uow.message_centre``."""

    def add_message(self, *, user_id: int, subject: str, body: str, now: datetime) -> int: ...

    def messages(self, user_id: int, *, limit: int) -> list[MessageRow]: ...

    def unread(self, user_id: int) -> int: ...

    def mark_read(self, user_id: int, *, now: datetime) -> None: ...


class AccountClosure(Protocol):
    """Closing accounts and who they belong to (R-CLOSE-1): ``uow.closure``."""

    def close_account(self, account_id: int, *, now: datetime) -> bool: ...

    def holder_name(self, account_id: int) -> str: ...

    def users_of_account(self, account_id: int) -> list[int]: ...

    def all_accounts_closed(self, user_id: int) -> bool: ...


class DocumentRepository(Protocol):
    """Account documents (R-LOGIN-8): ``uow.documents``."""

    def add_document(
        self,
        *,
        public_id: str,
        account_id: int,
        kind: str,
        title: str,
        period: str,
        pdf: bytes,
        now: datetime,
    ) -> int: ...

    def documents_of(self, user_id: int) -> list[DocumentRow]: ...

    def document_pdf(self, public_id: str, *, user_id: int) -> tuple[DocumentRow, bytes] | None:
        """The document if the user holds a grant on its account."""
        ...


@dataclass(frozen=True, kw_only=True)
class Statement:
    """An activity statement as printed (R-LOGIN-8): the ledger of one account."""

    title: str
    account_number: str
    holder: str
    period: str
    generated: date
    lines: tuple[LedgerLine, ...]
    closing_balance_cents: int


class StatementPrinter(Protocol):
    """Renders account documents as PDF (adapters/printing/statement_pdf.py)."""

    def pdf(self, statement: Statement) -> bytes: ...
