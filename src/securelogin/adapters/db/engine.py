"""Engines for the two supported databases, with the locking each needs.

SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of
failing with "database is locked"; the threads of one process queue on a lock first,
:class:`SqliteWriters`), WAL lets readers run beside the writer, foreign
keys are on.  PostgreSQL: psycopg 3, connections checked before use.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from securelogin.errors import StorageUnavailable


def normalize_url(url: str) -> str:
    """``postgresql://`` picks psycopg 3; ``sqlite:///`` stays as it is (SPEC §10.1)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for other databases and memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_private(path: Path) -> None:
    """Create a missing SQLite file with mode 0600 before SQLite opens it.

    SQLite creates its files 0644 (less the umask) and gives ``-wal``/``-shm`` the mode of
    the database: without this, every local user could read waiting SMS codes and sessions
    from them (issue 12, finding 2).  An existing file keeps the mode its owner chose."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: how long a thread waits for this process's SQLite writer before "database is locked"
#: (the ``busy_timeout`` other processes' writers get)
SQLITE_WAIT_SECONDS = 30.0


class SqliteWriters:
    """SQLite's one writer, queued in this process: every transaction begins with
    ``BEGIN IMMEDIATE`` (issue 14), and the threads of this process wait for it on a lock
    that wakes the next one as the writer commits or rolls back.

    Without it the threads queue in SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms
    between tries however soon the lock frees: with 8 concurrent second-factor answers
    (each holds the lock ~1 ms) the p99 was a second.  Other processes on the same file
    still wait in ``busy_timeout``.  Installed as the dialect's ``do_begin``,
    ``do_commit``, ``do_rollback`` and ``do_close`` (not as ``begin`` event listeners: one
    connection event on an engine makes SQLAlchemy dispatch its execute events around
    every statement, a tenth of a login answer's CPU)."""

    def __init__(self, engine: Engine, *, wait_seconds: float = SQLITE_WAIT_SECONDS) -> None:
        self.lock = threading.Lock()
        self.wait_seconds = wait_seconds
        self.holder: object | None = None  # the DBAPI connection in its write transaction
        dialect = engine.dialect
        self._commit, self._rollback, self._close = (
            dialect.do_commit,
            dialect.do_rollback,
            dialect.do_close,
        )
        dialect.do_begin = self.begin  # type: ignore[method-assign,assignment]
        dialect.do_commit = self.commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = self.rollback  # type: ignore[method-assign,assignment]
        dialect.do_close = self.close  # type: ignore[method-assign,assignment]

    def begin(self, connection: Any) -> None:
        if not self.lock.acquire(timeout=self.wait_seconds):
            raise sqlite3.OperationalError("database is locked (this process's writer)")
        try:
            connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        self.holder = _dbapi(connection)

    def commit(self, connection: Any) -> None:
        try:
            self._commit(connection)
        finally:
            self._release(connection)

    def rollback(self, connection: Any) -> None:
        try:
            self._rollback(connection)
        finally:
            self._release(connection)

    def close(self, connection: Any) -> None:
        try:
            self._close(connection)
        finally:
            self._release(connection)

    def _release(self, connection: Any) -> None:
        """The writer's transaction ended (a pool's reset of another connection: no)."""
        if self.holder is not None and self.holder is _dbapi(connection):
            self.holder = None
            self.lock.release()


def _dbapi(connection: Any) -> object:
    """The sqlite3 connection behind the pool's proxy (the dialect gets either)."""
    found: object = getattr(connection, "dbapi_connection", None) or connection
    return found


#: connections beyond the thread limit (``make_engine(threads=…)``): a thread that needs
#: a second connection, the wake-up adapters' own connections are not from this pool
POOL_SPARE = 2


def make_engine(url: str, *, threads: int = 40) -> Engine:
    """Open an engine and check that the database answers; StorageUnavailable if not.

    On PostgreSQL the pool keeps up to ``threads`` + POOL_SPARE connections and opens no
    overflow: every thread that runs database work can hold one at once, and none is
    opened and closed per use under load (issue 14: 10 + 10 overflow connections churned
    with 10,000 long-polls; a PostgreSQL connection costs a fork and authentication)."""
    safe = _redacted(url)
    try:
        parsed = make_url(normalize_url(url))
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is not None and not path.parent.exists():
                raise StorageUnavailable(
                    f"cannot open database {safe}: folder {path.parent} does not exist"
                )
            if path is not None:
                create_private(path)
            engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_on_connect)  # a pool event
            SqliteWriters(engine)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=threads + POOL_SPARE,
                max_overflow=0,
                connect_args={"connect_timeout": 5},
            )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (ArgumentError, SQLAlchemyError, ValueError, ModuleNotFoundError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageUnavailable(f"cannot open database {safe}: {reason}") from None
    return engine


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return repr(url)
