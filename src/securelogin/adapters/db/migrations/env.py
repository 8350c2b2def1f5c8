"""Alembic environment: runs on the connection that ``adapters.db.migrate`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from securelogin.adapters.db.tables import metadata

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    # Two processes starting at once (e.g. `serve` on two hosts) migrate one after the other.
    connection.execute(text("SELECT pg_advisory_xact_lock(7422024001)"))
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
