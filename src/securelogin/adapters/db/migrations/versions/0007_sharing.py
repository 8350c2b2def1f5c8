"""security settings (issue 6): opt-out waivers, share requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("waiver_version", sa.String(length=32), nullable=False),
        sa.Column("waiver_language", sa.String(length=8), nullable=False),
        sa.Column("waiver_text", sa.Text(), nullable=False),
        sa.Column("waiver_digest", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_how", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_opt_outs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
    )
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opt_outs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "share_requests",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", _id_type(), nullable=False),
        sa.Column("owner_id", _id_type(), nullable=False),
        sa.Column("device_id", _id_type(), nullable=False),
        sa.Column("login_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_share_requests_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["login_id"], ["logins.id"], name=op.f("fk_share_requests_login_id_logins")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_share_requests_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_share_requests_requester_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_share_requests_public_id")),
    )
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_requests_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index("ix_share_requests_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_share_requests_status")
        batch_op.drop_index(batch_op.f("ix_share_requests_requester_id"))
    op.drop_table("share_requests")
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opt_outs_user_id"))
    op.drop_table("opt_outs")
