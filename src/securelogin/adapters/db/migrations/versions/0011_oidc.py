"""the OpenID Connect provider (issue 16 §1): clients, signing keys, waiting authorization
requests, codes and access tokens

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.Text(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_clients")),
    )
    op.create_table(
        "oidc_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("sealed_private", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_keys")),
    )
    op.create_table(
        "oidc_requests",
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_hash", name=op.f("pk_oidc_requests")),
    )
    op.create_table(
        "oidc_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("access_level", sa.String(24), nullable=False),
        sa.Column("acr_rank", sa.Integer(), nullable=False),
        sa.Column("amr", sa.String(100), nullable=False),
        sa.Column("auth_time", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_codes_client_id_oidc_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_codes_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_oidc_codes_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oidc_codes")),
    )
    op.create_table(
        "oidc_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("access_level", sa.String(24), nullable=False),
        sa.Column("acr_rank", sa.Integer(), nullable=False),
        sa.Column("amr", sa.String(100), nullable=False),
        sa.Column("auth_time", sa.DateTime(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_tokens_client_id_oidc_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_tokens_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_oidc_tokens_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_tokens")),
    )
    op.create_index(op.f("ix_oidc_tokens_session_id"), "oidc_tokens", ["session_id"])
    op.create_index(op.f("ix_oidc_tokens_code_hash"), "oidc_tokens", ["code_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_oidc_tokens_code_hash"), table_name="oidc_tokens")
    op.drop_index(op.f("ix_oidc_tokens_session_id"), table_name="oidc_tokens")
    op.drop_table("oidc_tokens")
    op.drop_table("oidc_codes")
    op.drop_table("oidc_requests")
    op.drop_table("oidc_keys")
    op.drop_table("oidc_clients")
