"""a challenge may belong to no device: the password of a rank-0 withdrawal (R-WD-4)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.alter_column(
            "device_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )


def downgrade() -> None:
    op.execute("DELETE FROM challenges WHERE device_id IS NULL")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.alter_column(
            "device_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
