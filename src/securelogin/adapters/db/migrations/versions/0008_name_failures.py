"""password failures of usernames nobody has (issue 12)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "name_failures",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_name_failures")),
    )
    with op.batch_alter_table("name_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_name_failures_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("name_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_name_failures_failed_at"))
    op.drop_table("name_failures")
