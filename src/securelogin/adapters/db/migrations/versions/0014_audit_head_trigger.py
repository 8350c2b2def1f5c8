"""the audit chain's head advances with each event it links (issue 14): a trigger on
``audit_events`` instead of a third statement per transaction

``SqlAuditLog.flush`` locks and reads the head (``SELECT … FOR UPDATE``), computes the
links in Python and inserts the events; the trigger moves the head to an inserted event
that extends it (``id = last_id + 1`` and ``prev_hash = last_hash``) — an event that
does not leaves the head where it was, and ``securelogin admin audit verify`` reports
the break.  SQLite: a later ``batch_alter_table`` on ``audit_events`` recreates the table
and drops this trigger; such a migration must create it again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ADVANCE = (
    "UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.hash"
    " WHERE id = 1 AND last_id = NEW.id - 1 AND last_hash = NEW.prev_hash"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_head_advance AFTER INSERT ON audit_events"
            f" FOR EACH ROW BEGIN {_ADVANCE}; END"
        )
        return
    op.execute(
        "CREATE FUNCTION audit_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {_ADVANCE}; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_head_advance AFTER INSERT ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION audit_head_advance()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_head_advance")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_advance ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_head_advance()")
