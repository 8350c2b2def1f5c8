"""Test databases from a template: the migrations run once per test process, then every
test gets its own fully migrated database in a few milliseconds.

- **SQLite**: the migrations build ``template.db`` once per process; a test's database
  is a byte copy of that file (:func:`migrated_sqlite`).
- **PostgreSQL**: the migrations build a template database once per process
  (``sl_tmpl_<worker>_<hex>``); a test takes a database from this process's pool, made
  with ``CREATE DATABASE … TEMPLATE`` when the pool is empty.  When the test ends, every
  connection to it is ended (as ``DROP DATABASE … WITH (FORCE)`` would), its rows are
  deleted, its sequences set back and the rows the migrations inserted put back; a
  database whose schema the test changed is dropped instead of reused.  The next test
  therefore sees exactly what a fresh ``alembic upgrade head`` leaves.
- :meth:`PostgresPool.empty` gives an empty database, for tests of the migrations
  themselves (upgrading old data).

Each pytest-xdist worker is its own process with its own template and pool, so workers
never share a database.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from securelogin.adapters.db.engine import make_engine
from securelogin.adapters.db.migrate import upgrade

#: xdist's worker name ("gw0", …), or "main" when pytest runs in one process
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

_SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(line, '|' ORDER BY line), ''))
FROM (
    SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
           || ':' || coalesce(column_default, '') AS line
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'version:' || version_num FROM alembic_version
) AS schema_lines
"""


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


class SqliteTemplate:
    """One migrated SQLite file per process, copied for each test."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def copy_to(self, target: Path) -> str:
        """A migrated database at ``target`` (a new file); returns its URL."""
        if self._path is None:
            folder = Path(tempfile.mkdtemp(prefix=f"sl-template-{WORKER}-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.db"
            _migrate(f"sqlite:///{path}")
            # the engine is gone: WAL checkpointed into the main file, no -wal left
            assert not path.with_name("template.db-wal").exists()
            self._path = path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._path, target)
        return f"sqlite:///{target}"


@dataclass
class _Baseline:
    """What a freshly migrated database holds besides its schema."""

    fingerprint: str
    reset: sql.Composed
    seed_rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)


class PostgresPool:
    """Migrated PostgreSQL databases for one test process (see the module docstring)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.base, _, _ = admin_url.rpartition("/")
        self.template: str | None = None
        self.baseline: _Baseline | None = None
        self.free: list[str] = []
        self.owned: set[str] = set()

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def _admin(self, statement: sql.Composable, *params: object) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement, params or None)

    def _create(self, *, template: str | None) -> str:
        name = f"sl_test_{WORKER}_{secrets.token_hex(5)}"
        if template is None:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            self._admin(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        self.owned.add(name)
        return name

    def drop(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.owned.discard(name)

    def empty(self) -> str:
        """A new database without any table (for tests of the migrations)."""
        return self._create(template=None)

    def acquire(self) -> str:
        """A migrated database that no one else uses; give it back with :meth:`release`."""
        if self.free:
            return self.free.pop()
        if self.template is None:
            self.template = self._build_template()
        return self._create(template=self.template)

    def release(self, name: str) -> None:
        """End every connection to ``name`` and reset it, or drop it if that fails."""
        try:
            self._reset(name)
        except psycopg.Error:
            self.drop(name)
            return
        self.free.append(name)

    def close(self) -> None:
        for name in sorted(self.owned):
            self.drop(name)
        if self.template is not None:
            self.drop(self.template)
            self.template = None

    # -- the template and its baseline ------------------------------------------------

    def _build_template(self) -> str:
        name = f"sl_tmpl_{WORKER}_{secrets.token_hex(5)}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            _migrate(self.url(name))
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                self.baseline = _read_baseline(conn)
        except BaseException:
            self._admin(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            raise
        return name

    def _reset(self, name: str) -> None:
        baseline = self.baseline
        assert baseline is not None
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            conn.execute("SET lock_timeout = '20s'")
            fingerprint = conn.execute(_SCHEMA_FINGERPRINT).fetchone()
            if fingerprint is None or fingerprint[0] != baseline.fingerprint:
                raise psycopg.DataError("the test changed the schema")
            with conn.transaction():
                conn.execute(baseline.reset)
                for table, (columns, rows) in baseline.seed_rows.items():
                    insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(table),
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                    )
                    with conn.cursor() as cur:
                        cur.executemany(insert, rows)


def _read_baseline(conn: psycopg.Connection[Any]) -> _Baseline:
    """The schema's fingerprint, the rows the migrations inserted, and the statements
    that bring a used database back to that state."""
    tables = [
        str(row[0])
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        )
    ]
    statements: list[sql.Composable] = [sql.SQL("SET LOCAL session_replication_role = replica")]
    statements += [sql.SQL("DELETE FROM {}").format(sql.Identifier(t)) for t in tables]
    for seq, start, last in conn.execute(
        "SELECT sequencename, start_value, last_value FROM pg_sequences WHERE schemaname = 'public'"
    ):
        called = last is not None
        statements.append(
            sql.SQL("SELECT setval({}, {}, {})").format(
                sql.Literal(str(seq)),
                sql.Literal(int(last if called else start)),
                sql.Literal(called),
            )
        )
    seed: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for table in tables:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            rows = cur.fetchall()
            if rows:
                assert cur.description is not None
                seed[table] = ([c.name for c in cur.description], rows)
    fingerprint = conn.execute(_SCHEMA_FINGERPRINT).fetchone()
    assert fingerprint is not None
    return _Baseline(
        fingerprint=str(fingerprint[0]),
        reset=sql.SQL("; ").join(statements),
        seed_rows=seed,
    )


#: this process's SQLite template (built on first use)
SQLITE = SqliteTemplate()


def migrated_sqlite(target: Path) -> str:
    """A migrated SQLite database at ``target``, copied from this process's template."""
    return SQLITE.copy_to(target)
