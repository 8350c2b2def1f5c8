"""ceremonies in their own table (issue 11): logins hold logins only

Every second-factor ceremony — a login's, a withdrawal confirmation's, a share request's —
becomes a row of ``ceremonies``; ``challenges``, ``withdrawals`` and ``share_requests``
reference it by ``ceremony_id``; the pretend ``logins`` rows of withdrawals (status
``withdrawal``) and share requests (platform ``share``) are gone.

Data carried over: each ceremony keeps the id of the ``logins`` row it was, so open
challenges (their sealed codes are bound to that id), pending pushes (``subject``) and the
sessions approved pushes keep for their logins all stay valid: a login waiting for its
second factor, a withdrawal waiting for its confirmation and a share request waiting for
the owner's answer can all be finished after the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: each carried-over ceremony keeps its ``logins`` row's id, user, device, platform, ip,
#: sends and times
_CARRY_LOGINS = (
    "INSERT INTO ceremonies (id, purpose, subject, state, finished_at, user_id, device_id,"
    " platform, client_ip, sends, created_at, expires_at)"
    " SELECT l.id, 'login', l.id, l.status, l.finished_at, l.user_id, l.device_id,"
    " l.platform, l.client_ip, l.sends, l.created_at, l.expires_at FROM logins l"
    " WHERE l.device_id IS NOT NULL AND l.status <> 'withdrawal' AND l.platform <> 'share'"
)
#: a withdrawal's confirmation: open while the withdrawal waits for it
_CARRY_WITHDRAWALS = (
    "INSERT INTO ceremonies (id, purpose, subject, state, finished_at, user_id, device_id,"
    " platform, client_ip, sends, created_at, expires_at)"
    " SELECT l.id, 'withdrawal', w.id, CASE w.status"
    " WHEN 'confirmation_required' THEN 'challenge' WHEN 'accepted' THEN 'authenticated'"
    " ELSE 'denied' END, w.decided_at, l.user_id, l.device_id,"
    " l.platform, l.client_ip, l.sends, l.created_at, l.expires_at"
    " FROM logins l JOIN withdrawals w ON w.login_id = l.id"
)
#: the owner's answer to a share request
_CARRY_SHARES = (
    "INSERT INTO ceremonies (id, purpose, subject, state, finished_at, user_id, device_id,"
    " platform, client_ip, sends, created_at, expires_at)"
    " SELECT l.id, 'share', s.public_id, l.status, l.finished_at, l.user_id, l.device_id,"
    " l.platform, l.client_ip, l.sends, l.created_at, l.expires_at"
    " FROM logins l JOIN share_requests s ON s.login_id = l.id"
)


def upgrade() -> None:
    op.create_table(
        "ceremonies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_ceremonies_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ceremonies_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ceremonies")),
    )
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ceremonies_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_ceremonies_user_id"), ["user_id"], unique=False)

    # the password-only logins had no second factor: they get no ceremony
    op.execute(_CARRY_LOGINS)
    op.execute(_CARRY_WITHDRAWALS)
    op.execute(_CARRY_SHARES)

    for table in ("challenges", "withdrawals", "share_requests"):
        _repoint(table)

    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ceremony_id", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE logins SET ceremony_id = id"
        " WHERE id IN (SELECT id FROM ceremonies WHERE purpose = 'login')"
    )
    op.execute("DELETE FROM logins WHERE status = 'withdrawal' OR platform = 'share'")
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.drop_constraint("fk_logins_device_id_devices", type_="foreignkey")
        batch_op.drop_column("client_ip")
        batch_op.drop_column("sends")
        batch_op.drop_column("device_id")
        batch_op.drop_column("status")
        batch_op.create_index(batch_op.f("ix_logins_ceremony_id"), ["ceremony_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_logins_ceremony_id_ceremonies"), "ceremonies", ["ceremony_id"], ["id"]
        )


def _repoint(table: str) -> None:
    """``table.login_id`` → ``table.ceremony_id`` (same values: a ceremony kept its id)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("ceremony_id", sa.String(length=40), nullable=True))
    op.execute(f"UPDATE {table} SET ceremony_id = login_id")  # noqa: S608 - fixed names
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(f"fk_{table}_login_id_logins", type_="foreignkey")
        if table == "challenges":
            batch_op.drop_index("ix_challenges_login_id")
            batch_op.create_index(
                batch_op.f("ix_challenges_ceremony_id"), ["ceremony_id"], unique=False
            )
        batch_op.drop_column("login_id")
        batch_op.create_foreign_key(
            batch_op.f(f"fk_{table}_ceremony_id_ceremonies"), "ceremonies", ["ceremony_id"], ["id"]
        )


def downgrade() -> None:
    """Back to pretend ``logins`` rows.  A login's ceremony opened after the upgrade had
    an id of its own: its challenges and pushes point at the login again (an SMS code
    sealed to that ceremony cannot be opened by the older code: ask for a new one)."""
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("device_id", Id, nullable=True))
        batch_op.add_column(sa.Column("sends", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("client_ip", sa.String(length=45), nullable=True))
    for column in ("status", "device_id", "sends", "client_ip"):
        source = "state" if column == "status" else column
        op.execute(
            f"UPDATE logins SET {column} = (SELECT c.{source} FROM ceremonies c"  # noqa: S608
            " WHERE c.id = logins.ceremony_id) WHERE ceremony_id IS NOT NULL"
        )
    op.execute("UPDATE logins SET status = 'authenticated' WHERE ceremony_id IS NULL")
    # the pretend rows come back for withdrawals and share requests
    op.execute(
        "INSERT INTO logins (id, user_id, platform, status, device_id, sends, client_ip,"
        " created_at, expires_at, finished_at)"
        " SELECT c.id, c.user_id, CASE c.purpose WHEN 'share' THEN 'share' ELSE c.platform END,"
        " CASE c.purpose WHEN 'withdrawal' THEN 'withdrawal' ELSE c.state END, c.device_id,"
        " c.sends, c.client_ip, c.created_at, c.expires_at, c.finished_at"
        " FROM ceremonies c WHERE c.purpose <> 'login'"
    )
    # a login's pushes were for the login
    op.execute(
        "UPDATE push_requests SET subject = (SELECT l.id FROM logins l"
        " WHERE l.ceremony_id = push_requests.subject)"
        " WHERE subject IN (SELECT ceremony_id FROM logins WHERE ceremony_id IS NOT NULL)"
    )
    for table in ("challenges", "withdrawals", "share_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("login_id", sa.String(length=40), nullable=True))
        op.execute(
            f"UPDATE {table} SET login_id = coalesce((SELECT l.id FROM logins l"  # noqa: S608
            f" WHERE l.ceremony_id = {table}.ceremony_id), ceremony_id)"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_ceremony_id_ceremonies", type_="foreignkey")
            if table == "challenges":
                batch_op.drop_index(batch_op.f("ix_challenges_ceremony_id"))
                batch_op.create_index("ix_challenges_login_id", ["login_id"], unique=False)
            batch_op.drop_column("ceremony_id")
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_login_id_logins"), "logins", ["login_id"], ["id"]
            )
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.drop_constraint("fk_logins_ceremony_id_ceremonies", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_logins_ceremony_id"))
        batch_op.drop_column("ceremony_id")
        batch_op.alter_column("status", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_logins_device_id_devices"), "devices", ["device_id"], ["id"]
        )
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ceremonies_user_id"))
        batch_op.drop_index(batch_op.f("ix_ceremonies_subject"))
    op.drop_table("ceremonies")
