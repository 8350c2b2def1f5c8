"""The ports the services need (STYLE.md: Protocols, implemented by adapters, faked in tests).

A unit of work opens one transaction per use case; repositories never commit
(STYLE.md rule 3).  Audit events and outbox messages are written inside the same
transaction as the change they describe (R-OPS-5, R-OPS-6).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from securelogin.domain.audit import AuditEvent, ChainedEvent
from securelogin.domain.cards import PrintableCard
from securelogin.domain.identity import AccountStatus, EntityKind, Right
from securelogin.service.ceremony.ports import CeremonyRepository
from securelogin.service.funds_ports import FundsRepository, ServiceKeyRepository
from securelogin.service.lifecycle_ports import (
    AccountClosure,
    DepositRepository,
    DocumentRepository,
    LifecycleRepository,
    MessageCentre,
    ReplacementRequests,
    ReturnRepository,
    SessionControl,
)
from securelogin.service.login_ports import (
    ChallengeRepository,
    DeviceAccess,
    FailureCounters,
    LoginRepository,
    NameFailures,
    SessionRepository,
)
from securelogin.service.mobile_key_ports import MobileKeyRepository
from securelogin.service.operator_ports import HelpdeskRepository, OperatorRepository
from securelogin.service.sharing_ports import SharingRepository
from securelogin.service.webauthn_ports import WebAuthnRepository


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class Random(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def randbelow(self, n: int) -> int: ...


class SecretBox(Protocol):
    """AES-GCM under the master key; ``context`` binds a ciphertext to its row."""

    def seal(self, plaintext: bytes, *, context: str) -> bytes: ...

    def open(self, blob: bytes, *, context: str) -> bytes: ...

    def fingerprint(self, data: bytes, *, purpose: str) -> str:
        """A keyed HMAC (server pepper) so equal secrets compare without decryption."""
        ...


class CardPrinter(Protocol):
    """Renders a security code card for print (SPEC §3); the only output holding its values."""

    def pdf(self, card: PrintableCard) -> bytes: ...

    def html(self, card: PrintableCard) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored_hash: str, password: str) -> bool: ...

    def verify_dummy(self, password: str) -> None:
        """Do the work of one verification for an unknown user (R-LOGIN-1)."""
        ...


@dataclass(frozen=True, kw_only=True)
class UserRow:
    id: int
    username: str
    entity_id: int
    password_hash: str
    phone: str | None
    opted_out: bool
    password_failures: int = 0
    password_failed_at: datetime | None = None
    factor_failures: int = 0
    factor_failed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class GrantView:
    account: str
    status: AccountStatus
    rights: frozenset[Right]


@dataclass(frozen=True, kw_only=True)
class AccountRow:
    id: int
    number: str
    entity_id: int
    status: AccountStatus
    balance_cents: int


@dataclass(frozen=True, kw_only=True)
class NewDevice:
    """A device row as the storage keeps it: secrets already sealed or hashed."""

    public_id: str
    kind: str
    owner_id: int | None
    state: str
    serial: str | None = None
    label: str | None = None
    secret: bytes | None = None
    pin_secret: bytes | None = None
    params: Mapping[str, str | int | bool] | None = None
    origin: str = "import"
    card_hashes: Mapping[int, str] | None = None
    #: temporary devices (online code card: R-LOST-2)
    expires_at: datetime | None = None


class EntityRepository(Protocol):
    def add(
        self,
        *,
        external_id: str,
        kind: EntityKind,
        name: str,
        identification: bytes,
        fingerprint: str,
        at: datetime,
    ) -> int: ...

    def existing_ids(self, external_ids: Sequence[str]) -> set[str]: ...

    def id_of(self, external_id: str) -> int | None: ...


class AccountRepository(Protocol):
    def add(self, *, number: str, entity_id: int, balance_cents: int, at: datetime) -> int: ...

    def existing_numbers(self, numbers: Sequence[str]) -> set[str]: ...

    def by_number(self, number: str) -> AccountRow | None: ...


class UserRepository(Protocol):
    def add(
        self,
        *,
        username: str,
        entity_id: int,
        password_hash: str,
        phone: str | None,
        opted_out: bool,
        at: datetime,
    ) -> int: ...

    def grant(self, *, user_id: int, account_id: int, rights: frozenset[Right]) -> None: ...

    def existing_usernames(self, usernames: Sequence[str]) -> set[str]: ...

    def by_username(self, username: str) -> UserRow | None: ...

    def by_id(self, user_id: int) -> UserRow | None: ...

    def grants_of(self, user_id: int) -> list[GrantView]: ...


class DeviceRepository(Protocol):
    def add(self, device: NewDevice, *, at: datetime) -> int: ...

    def existing_serials(self, serials: Sequence[str]) -> set[str]: ...


class AuditLog(Protocol):
    def record(self, event: AuditEvent) -> None:
        """Queue an event; it is chained and written when the unit of work commits."""
        ...

    def chain(self) -> Iterator[ChainedEvent]:
        """Every stored event in id order (for verification)."""
        ...

    def head(self) -> tuple[int, str]:
        """The id and hash the chain must end with."""
        ...


@dataclass(frozen=True, kw_only=True)
class OutboxMessage:
    """One notification in the outbox (R-OPS-5); ``sent_at`` is None until delivered."""

    id: int
    channel: str
    to: str
    text: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None = None


class Outbox(Protocol):
    """Messages written in the use case's transaction and delivered after its commit.

    ``claim_due`` is safe when several processes run it at once: it locks the due rows
    (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite transactions are serialised) and
    leases them for ``lease_seconds`` within the caller's transaction (R-OPS-4).
    """

    def enqueue(self, *, channel: str, to: str, text: str) -> None: ...

    def claim_due(
        self,
        *,
        now: datetime,
        limit: int,
        lease_seconds: int,
        channels: Sequence[str] | None = None,
    ) -> list[OutboxMessage]: ...

    def mark_sent(self, message_id: int, *, now: datetime, keep_text: bool) -> None:
        """Delivered; unless ``keep_text`` the body becomes "[delivered]" (no codes at rest)."""
        ...

    def mark_failed(
        self,
        message_id: int,
        *,
        error: str,
        retry_at: datetime | None,
        keep_text: bool = True,
    ) -> None:
        """One more failed attempt; due again at ``retry_at``, or never when it is None."""
        ...

    def recent(
        self, *, to: str | None, limit: int, channels: Sequence[str] | None = None
    ) -> list[OutboxMessage]:
        """The last ``limit`` messages (to one address, when given), oldest first."""
        ...

    def seal_clear_bodies(self) -> int:
        """Seal message bodies stored in clear by an older version; returns how many."""
        ...


class SmsGateway(Protocol):
    """Sends one SMS; raises ``DeliveryFailed(message, retryable=…)`` when it cannot.

    ``keeps_text`` is True only for the development outbox, whose stored row *is* the
    delivery a person reads; production gateways have the stored text redacted.
    """

    @property
    def keeps_text(self) -> bool: ...

    def send(self, *, to: str, text: str) -> None: ...


class MailGateway(Protocol):
    """Sends one e-mail; raises ``DeliveryFailed`` like :class:`SmsGateway`."""

    @property
    def keeps_text(self) -> bool: ...

    def send(self, *, to: str, subject: str, text: str) -> None: ...


class UnitOfWork(Protocol):
    @property
    def failures(self) -> FailureCounters: ...

    @property
    def name_failures(self) -> NameFailures: ...

    @property
    def device_access(self) -> DeviceAccess: ...

    @property
    def ceremonies(self) -> CeremonyRepository: ...

    @property
    def logins(self) -> LoginRepository: ...

    @property
    def challenges(self) -> ChallengeRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def entities(self) -> EntityRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def devices(self) -> DeviceRepository: ...

    @property
    def inventory(self) -> InventoryRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def sharing(self) -> SharingRepository: ...

    @property
    def mobile_keys(self) -> MobileKeyRepository: ...

    @property
    def funds(self) -> FundsRepository: ...

    @property
    def service_keys(self) -> ServiceKeyRepository: ...

    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def helpdesk(self) -> HelpdeskRepository: ...

    # the lifecycle's repositories (issue 11: one per feature, no 41-method port)
    @property
    def lifecycle(self) -> LifecycleRepository: ...

    @property
    def replacements(self) -> ReplacementRequests: ...

    @property
    def deposits(self) -> DepositRepository: ...

    @property
    def returns(self) -> ReturnRepository: ...

    @property
    def session_control(self) -> SessionControl: ...

    @property
    def message_centre(self) -> MessageCentre: ...

    @property
    def closure(self) -> AccountClosure: ...

    @property
    def documents(self) -> DocumentRepository: ...

    @property
    def webauthn(self) -> WebAuthnRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Database(Protocol):
    """Operations on the storage as a whole (health, migrations)."""

    def ping(self) -> None: ...

    def upgrade(self) -> None: ...

    def close(self) -> None:
        """Release every pooled connection (end of process, end of a test)."""
        ...


@dataclass(frozen=True, kw_only=True)
class SeedRecord:
    """One hardware seed as a manufacturer's seed file delivers it (RFC 6030 §4, R-OPS-3)."""

    serial: str
    secret: bytes
    algorithm: str  # e.g. urn:ietf:params:xml:ns:keyprov:pskc:totp
    digits: int | None = None
    counter: int | None = None
    time_interval: int | None = None  # seconds (TOTP)
    manufacturer: str | None = None


class SeedFileReader(Protocol):
    """Parses a seed file (PSKC); refuses a bad file or password with ``InvalidInput``."""

    def read(
        self, data: bytes, *, password: str | None, preshared_key: bytes | None
    ) -> list[SeedRecord]: ...

    def needs_password(self, data: bytes) -> bool:
        """True when the file's secrets are protected by a password (RFC 6030 §6.2)."""
        ...


@dataclass(frozen=True, kw_only=True)
class StockRow:
    """A hardware device as the inventory sees it (no secrets)."""

    id: int
    public_id: str
    kind: str
    serial: str
    state: str
    owner_id: int | None


class InventoryRepository(Protocol):
    """Hardware devices by serial: imported in stock, then assigned (R-OPS-3)."""

    def add_stock(self, device: NewDevice, *, at: datetime) -> int:
        """Insert an unassigned device; ``Conflict`` when the serial exists already."""
        ...

    def by_serial(self, serial: str) -> StockRow | None: ...

    def assign(
        self,
        *,
        serial: str,
        user_id: int,
        state: str,
        at: datetime,
        pin_secret: bytes | None = None,
    ) -> None:
        """Give an in-stock device to a user atomically; ``Conflict`` if it is not in stock."""
        ...

    def count_in_stock(self, kind: str) -> int: ...

    def count_by_state(
        self, kinds: Sequence[str], states: Sequence[str]
    ) -> dict[tuple[str, str], int]:
        """How many devices of each (kind, state) pair there are; absent pairs have none."""
        ...
