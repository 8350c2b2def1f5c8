"""device lifecycle (issue 6): replacement requests, returns, message centre, documents

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "replacement_requests",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("account_id", _id_type(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("pin_secret", sa.LargeBinary(), nullable=False),
        sa.Column("hold_id", _id_type(), nullable=True),
        sa.Column("device_id", _id_type(), nullable=True),
        sa.Column("estimated_ship_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_replacement_requests_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_replacement_requests_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["account_holds.id"],
            name=op.f("fk_replacement_requests_hold_id_account_holds"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_replacement_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replacement_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_replacement_requests_public_id")),
    )
    with op.batch_alter_table("replacement_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replacement_requests_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_replacement_requests_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "device_returns",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("device_id", _id_type(), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_returns_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_device_returns_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_returns")),
    )
    with op.batch_alter_table("device_returns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_returns_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_device_returns_user_id"), ["user_id"], unique=False)

    op.create_table(
        "portal_messages",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_messages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_messages")),
    )
    with op.batch_alter_table("portal_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_messages_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_documents",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", _id_type(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_documents_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_documents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_account_documents_public_id")),
    )
    with op.batch_alter_table("account_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_documents_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_documents_account_id"))
    op.drop_table("account_documents")
    with op.batch_alter_table("portal_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_messages_user_id"))
    op.drop_table("portal_messages")
    with op.batch_alter_table("device_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_returns_user_id"))
        batch_op.drop_index(batch_op.f("ix_device_returns_device_id"))
    op.drop_table("device_returns")
    with op.batch_alter_table("replacement_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replacement_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_replacement_requests_state"))
    op.drop_table("replacement_requests")
