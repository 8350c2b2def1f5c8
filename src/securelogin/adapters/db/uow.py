"""The SQL unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar, overload

from sqlalchemy import Connection, Engine, RootTransaction, text
from sqlalchemy.exc import OperationalError

from securelogin.adapters.db.deposits import SqlDeposits, SqlReturns
from securelogin.adapters.db.documents import SqlAccountClosure, SqlDocuments, SqlMessageCentre
from securelogin.adapters.db.funds import SqlFunds, SqlServiceKeys
from securelogin.adapters.db.inventory import SqlInventory
from securelogin.adapters.db.lifecycle import SqlLifecycle, SqlSessionControl
from securelogin.adapters.db.logins import (
    SqlCeremonies,
    SqlChallenges,
    SqlDeviceAccess,
    SqlFailureCounters,
    SqlLogins,
    SqlSessions,
)
from securelogin.adapters.db.migrate import upgrade
from securelogin.adapters.db.mobile_key import SqlMobileKeys
from securelogin.adapters.db.name_failures import SqlNameFailures
from securelogin.adapters.db.oidc import SqlOidc
from securelogin.adapters.db.operators import SqlHelpdesk, SqlOperators
from securelogin.adapters.db.outbox import SqlOutbox
from securelogin.adapters.db.replacements import SqlReplacementRequests
from securelogin.adapters.db.repositories import (
    SqlAccounts,
    SqlAuditLog,
    SqlDevices,
    SqlEntities,
    SqlUsers,
)
from securelogin.adapters.db.sharing import SqlSharing
from securelogin.adapters.db.webauthn import SqlWebAuthn
from securelogin.adapters.faults import (
    ACCOUNT_LOCK,
    ANSWER_LOCK,
    REPLAY_GUARD,
    UNGUARDED_PAUSE_SECONDS,
    FileFaults,
)
from securelogin.errors import StorageBusy, StorageUnavailable
from securelogin.service.ports import Clock, SecretBox

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the unit of work, made on first use in each ``with`` block: most
    use cases touch three or four of the thirty (issue 14: making all of them on every
    ``__enter__`` was a tenth of a login answer's own CPU)."""

    def __init__(self, make: Callable[[SqlUnitOfWork], R]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, work: None, owner: type) -> Self: ...
    @overload
    def __get__(self, work: SqlUnitOfWork, owner: type) -> R: ...
    def __get__(self, work: SqlUnitOfWork | None, owner: type) -> Self | R:
        if work is None:
            return self
        value = self.make(work)
        work.__dict__[self.name] = value  # later reads find it without the descriptor
        return value


def _on(faults: FileFaults | None, guard: str) -> bool:
    """Whether a guard is on (a test's strict-xfail variant switches one off)."""
    return faults is None or not faults.off(guard)


class SqlUnitOfWork:
    """``with uow: …; uow.commit()``; audit events are chained inside the same commit."""

    engine: Engine
    faults: FileFaults | None
    clock: Clock
    box: SecretBox

    entities = _Repository(lambda w: SqlEntities(w.connection))
    failures = _Repository(
        lambda w: SqlFailureCounters(
            w.connection,
            locking=_on(w.faults, ANSWER_LOCK),
            unguarded_pause=0.0 if _on(w.faults, ANSWER_LOCK) else UNGUARDED_PAUSE_SECONDS,
        )
    )
    name_failures = _Repository(lambda w: SqlNameFailures(w.connection))
    device_access = _Repository(
        lambda w: SqlDeviceAccess(w.connection, replay_guard=_on(w.faults, REPLAY_GUARD))
    )
    ceremonies = _Repository(lambda w: SqlCeremonies(w.connection))
    logins = _Repository(lambda w: SqlLogins(w.connection))
    challenges = _Repository(lambda w: SqlChallenges(w.connection))
    sessions = _Repository(lambda w: SqlSessions(w.connection))
    accounts = _Repository(lambda w: SqlAccounts(w.connection))
    users = _Repository(lambda w: SqlUsers(w.connection))
    devices = _Repository(lambda w: SqlDevices(w.connection))
    inventory = _Repository(lambda w: SqlInventory(w.connection))
    audit = _Repository(lambda w: SqlAuditLog(w.connection, w.clock))
    outbox = _Repository(lambda w: SqlOutbox(w.connection, w.clock, w.box))
    sharing = _Repository(lambda w: SqlSharing(w.connection))
    mobile_keys = _Repository(lambda w: SqlMobileKeys(w.connection))
    funds = _Repository(
        lambda w: SqlFunds(
            w.connection,
            locking=_on(w.faults, ACCOUNT_LOCK),
            unguarded_pause=0.0 if _on(w.faults, ACCOUNT_LOCK) else UNGUARDED_PAUSE_SECONDS,
        )
    )
    service_keys = _Repository(lambda w: SqlServiceKeys(w.connection))
    operators = _Repository(lambda w: SqlOperators(w.connection))
    helpdesk = _Repository(lambda w: SqlHelpdesk(w.connection))
    lifecycle = _Repository(lambda w: SqlLifecycle(w.connection))
    replacements = _Repository(lambda w: SqlReplacementRequests(w.connection))
    deposits = _Repository(lambda w: SqlDeposits(w.connection))
    returns = _Repository(lambda w: SqlReturns(w.connection))
    session_control = _Repository(lambda w: SqlSessionControl(w.connection))
    message_centre = _Repository(lambda w: SqlMessageCentre(w.connection))
    closure = _Repository(lambda w: SqlAccountClosure(w.connection))
    documents = _Repository(lambda w: SqlDocuments(w.connection))
    webauthn = _Repository(lambda w: SqlWebAuthn(w.connection))
    oidc = _Repository(lambda w: SqlOidc(w.connection))

    def __init__(
        self, engine: Engine, clock: Clock, box: SecretBox, faults: FileFaults | None = None
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.clock = clock
        self.box = box
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._entered = False

    def __enter__(self) -> Self:
        try:
            self._conn = self.engine.connect()
            self._tx = self._conn.begin()
        except OperationalError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from None
        if self._entered:  # a second block on this object: new repositories
            for name in _REPOSITORIES:
                self.__dict__.pop(name, None)
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._tx = None
        if isinstance(exc, OperationalError):
            raise storage_error(exc) from None

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("unit of work used outside its with-block")
        if "audit" in self.__dict__:  # nothing was recorded without the audit log
            self.audit.flush()
        self._tx.commit()


_REPOSITORIES = tuple(
    name for name, member in vars(SqlUnitOfWork).items() if isinstance(member, _Repository)
)

#: SQLSTATEs of a transaction the database gave up on: deadlock, serialisation failure,
#: lock not available (lock_timeout); SQLite says "database is locked" / "busy"
_BUSY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def storage_error(exc: OperationalError) -> StorageUnavailable:
    """An OperationalError inside a unit of work as a stable error (never a 500): busy
    (rolled back, may be retried) or the database away."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    text_of = str(exc.orig).lower()
    if sqlstate in _BUSY_SQLSTATES or "database is locked" in text_of or "busy" in text_of:
        return StorageBusy(f"the database is busy, nothing was written: {exc.orig}")
    return StorageUnavailable(f"database unavailable: {exc.orig}")


class SqlDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from None

    def upgrade(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()
