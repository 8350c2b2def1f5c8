"""Failure counters of usernames nobody has (R-LOGIN-3; issue 12, finding 3).

Counted like a user's password counter (``SqlFailureCounters.reserve``): one atomic
upsert before the (dummy) hash runs, refused while the name is locked, restarted when
the last failure is older than the window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from securelogin.adapters.db.tables_name_failures import name_failures
from securelogin.service.login_ports import Lockout

c = name_failures.c


class SqlNameFailures:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def reserve(self, fingerprint: str, *, now: datetime, lockout: Lockout) -> int | None:
        """One more failure of the name; None (nothing counted) while it is locked."""
        stale = c.failed_at <= lockout.window_start
        locked = and_(c.failures >= lockout.threshold, c.failed_at > lockout.window_start)
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(name_failures)
            .values(fingerprint=fingerprint, failures=1, failed_at=now)
            .on_conflict_do_update(
                index_elements=[c.fingerprint],
                set_={"failures": case((stale, 1), else_=c.failures + 1), "failed_at": now},
                where=~locked,
            )
            .returning(c.failures)
        )
        value = self.conn.execute(statement).scalar()
        return None if value is None else int(value)

    def last(self, fingerprint: str) -> tuple[int, datetime] | None:
        """The name's failures and when the last one happened."""
        row = self.conn.execute(
            select(c.failures, c.failed_at).where(c.fingerprint == fingerprint)
        ).first()
        return None if row is None else (int(row.failures), row.failed_at)

    def forget_before(self, cutoff: datetime) -> int:
        """Delete the names whose last failure is older than ``cutoff`` (they count from
        1 again anyway); returns how many."""
        return int(self.conn.execute(delete(name_failures).where(c.failed_at <= cutoff)).rowcount)
