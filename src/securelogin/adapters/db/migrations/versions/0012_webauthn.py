"""WebAuthn: passkey and app-biometric ceremonies, the app's biometric credential
(issue 16 §2, issue 15)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webauthn_ceremonies",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("challenge", sa.LargeBinary(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_ceremonies")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webauthn_ceremonies_public_id")),
    )
    op.create_table(
        "key_app_biometrics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("app_ref", _ID, nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("share", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_ref"], ["key_apps.id"], name=op.f("fk_key_app_biometrics_app_ref_key_apps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_app_biometrics")),
        sa.UniqueConstraint("app_ref", name=op.f("uq_key_app_biometrics_app_ref")),
    )


def downgrade() -> None:
    op.drop_table("key_app_biometrics")
    op.drop_table("webauthn_ceremonies")
