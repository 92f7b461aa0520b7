"""Platform tables: tenants, users, API tokens, browser sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from trellis.db import tenant_rls_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")
NEW_UUID = sa.text("gen_random_uuid()")
TENANT_TABLES = ("users", "api_tokens", "user_sessions")


def _tenant_key() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    ]


def _timestamp(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _timestamp("created_at", nullable=False, server_default=NOW),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),
    )
    op.create_table(
        "users",
        *_tenant_key(),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text),
        sa.Column("roles", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _timestamp("last_login_at"),
    )
    op.execute("CREATE UNIQUE INDEX uq_users_tenant_email ON users (tenant_id, lower(email))")
    op.create_table(
        "api_tokens",
        *_tenant_key(),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _timestamp("expires_at"),
        _timestamp("last_used_at"),
        _timestamp("revoked_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    op.create_table(
        "user_sessions",
        *_tenant_key(),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False, unique=True),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _timestamp("expires_at", nullable=False),
        sa.Column("client_address", sa.Text),
        sa.Column("user_agent", sa.Text),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    for table in TENANT_TABLES:
        for statement in tenant_rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    op.drop_table("tenants")
