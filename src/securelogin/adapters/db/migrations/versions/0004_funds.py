"""withdrawals and limits (issue 5): withdrawals, per-business-day totals, idempotency keys,
service API keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", _id_type(), nullable=False),
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("device_id", _id_type(), nullable=True),
        sa.Column("login_id", sa.String(length=40), nullable=True),
        sa.Column("business_day", sa.Date(), nullable=True),
        sa.Column("ledger_entry_id", _id_type(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_withdrawals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_withdrawals_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_withdrawals_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["login_id"], ["logins.id"], name=op.f("fk_withdrawals_login_id_logins")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_withdrawals_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_withdrawals_user_key"),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_withdrawals_account_id"), ["account_id"], unique=False)

    op.create_table(
        "withdrawal_day_totals",
        sa.Column("account_id", _id_type(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_withdrawal_day_totals_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "business_day", name=op.f("pk_withdrawal_day_totals")
        ),
    )
    op.create_table(
        "service_keys",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_service_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_service_keys_name")),
    )


def downgrade() -> None:
    op.drop_table("service_keys")
    op.drop_table("withdrawal_day_totals")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawals_account_id"))
    op.drop_table("withdrawals")
