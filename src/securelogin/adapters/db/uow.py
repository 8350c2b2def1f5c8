"""The SQL unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

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
from securelogin.adapters.faults import ACCOUNT_LOCK, ANSWER_LOCK, REPLAY_GUARD, FileFaults
from securelogin.errors import StorageBusy, StorageUnavailable
from securelogin.service.ports import Clock, SecretBox


class SqlUnitOfWork:
    """``with uow: …; uow.commit()``; audit events are chained inside the same commit."""

    entities: SqlEntities
    failures: SqlFailureCounters
    name_failures: SqlNameFailures
    device_access: SqlDeviceAccess
    ceremonies: SqlCeremonies
    logins: SqlLogins
    challenges: SqlChallenges
    sessions: SqlSessions
    accounts: SqlAccounts
    users: SqlUsers
    devices: SqlDevices
    inventory: SqlInventory
    audit: SqlAuditLog
    outbox: SqlOutbox
    sharing: SqlSharing
    mobile_keys: SqlMobileKeys
    funds: SqlFunds
    service_keys: SqlServiceKeys
    operators: SqlOperators
    helpdesk: SqlHelpdesk
    lifecycle: SqlLifecycle
    replacements: SqlReplacementRequests
    deposits: SqlDeposits
    returns: SqlReturns
    session_control: SqlSessionControl
    message_centre: SqlMessageCentre
    closure: SqlAccountClosure
    documents: SqlDocuments

    def __init__(
        self, engine: Engine, clock: Clock, box: SecretBox, faults: FileFaults | None = None
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.clock = clock
        self.box = box
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> Self:
        try:
            self._conn = self.engine.connect()
            self._tx = self._conn.begin()
        except OperationalError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from None
        conn = self._conn
        self.entities = SqlEntities(conn)
        faults = self.faults
        self.failures = SqlFailureCounters(
            conn, locking=faults is None or not faults.off(ANSWER_LOCK)
        )
        self.name_failures = SqlNameFailures(conn)
        self.device_access = SqlDeviceAccess(
            conn, replay_guard=faults is None or not faults.off(REPLAY_GUARD)
        )
        self.ceremonies = SqlCeremonies(conn)
        self.logins = SqlLogins(conn)
        self.challenges = SqlChallenges(conn)
        self.sessions = SqlSessions(conn)
        self.accounts = SqlAccounts(conn)
        self.users = SqlUsers(conn)
        self.devices = SqlDevices(conn)
        self.inventory = SqlInventory(conn)
        self.audit = SqlAuditLog(conn, self.clock)
        self.outbox = SqlOutbox(conn, self.clock, self.box)
        self.sharing = SqlSharing(conn)
        self.mobile_keys = SqlMobileKeys(conn)
        self.funds = SqlFunds(conn, locking=faults is None or not faults.off(ACCOUNT_LOCK))
        self.service_keys = SqlServiceKeys(conn)
        self.operators = SqlOperators(conn)
        self.helpdesk = SqlHelpdesk(conn)
        self.lifecycle = SqlLifecycle(conn)
        self.replacements = SqlReplacementRequests(conn)
        self.deposits = SqlDeposits(conn)
        self.returns = SqlReturns(conn)
        self.session_control = SqlSessionControl(conn)
        self.message_centre = SqlMessageCentre(conn)
        self.closure = SqlAccountClosure(conn)
        self.documents = SqlDocuments(conn)
        self.webauthn = SqlWebAuthn(conn)
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
        self.audit.flush()
        self._tx.commit()


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
