"""the soft key's server-assisted app PIN (issue 12 §6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("key_apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_verifier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pin_share", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("pin_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("pin_failures", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("key_apps", schema=None) as batch_op:
        batch_op.drop_column("pin_failures")
        batch_op.drop_column("pin_token")
        batch_op.drop_column("pin_share")
        batch_op.drop_column("pin_verifier")
