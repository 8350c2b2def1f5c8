"""the mobile key (issue 4): app installations, push requests, activations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # where a login came from: the push shows it (R-KEY-4)
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_ip", sa.String(length=45), nullable=True))
    op.create_table(
        "key_apps",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recovery_pin_hash", sa.String(length=255), nullable=False),
        sa.Column("push_provider", sa.String(length=16), nullable=True),
        sa.Column("push_target", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_apps")),
        sa.UniqueConstraint("app_id", name=op.f("uq_key_apps_app_id")),
    )
    op.create_table(
        "key_app_users",
        sa.Column("app_id", _id_type(), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("device_id", _id_type(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["key_apps.id"], name=op.f("fk_key_app_users_app_id_key_apps")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_key_app_users_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_key_app_users_user_id_users")
        ),
        sa.PrimaryKeyConstraint("app_id", "user_id", name=op.f("pk_key_app_users")),
        sa.UniqueConstraint("device_id", name=op.f("uq_key_app_users_device_id")),
    )
    with op.batch_alter_table("key_app_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_app_users_user_id"), ["user_id"], unique=False)
    op.create_table(
        "key_recovery_pins",
        sa.Column("user_id", _id_type(), autoincrement=False, nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_key_recovery_pins_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_key_recovery_pins")),
    )
    op.create_table(
        "key_activations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_key_activations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_activations")),
    )
    with op.batch_alter_table("key_activations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_activations_user_id"), ["user_id"], unique=False)
    op.create_table(
        "push_requests",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("push_id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("app_id", _id_type(), nullable=False),
        sa.Column("device_id", _id_type(), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("number", sa.String(length=2), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("session", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["key_apps.id"], name=op.f("fk_push_requests_app_id_key_apps")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_push_requests_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_push_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_requests")),
        sa.UniqueConstraint("push_id", name=op.f("uq_push_requests_push_id")),
    )
    with op.batch_alter_table("push_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_requests_app_id"), ["app_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_requests_subject"), ["subject"], unique=False)
    op.create_table(
        "push_mutes",
        sa.Column("user_id", _id_type(), autoincrement=False, nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_push_mutes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_push_mutes")),
    )


def downgrade() -> None:
    for table in (
        "push_mutes",
        "push_requests",
        "key_activations",
        "key_recovery_pins",
        "key_app_users",
        "key_apps",
    ):
        op.drop_table(table)
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.drop_column("client_ip")
