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
from securelogin.domain.identity import AccountStatus, EntityKind, Right


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


class Outbox(Protocol):
    def enqueue(self, *, channel: str, to: str, text: str) -> None: ...


class UnitOfWork(Protocol):
    @property
    def entities(self) -> EntityRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def devices(self) -> DeviceRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def outbox(self) -> Outbox: ...

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
