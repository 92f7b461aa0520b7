"""The audit trail: who signed in, created or revoked tokens, changed users or metadata.

Append-only for the application: its role may insert and read events but never change
or remove one, so a compromised or buggy application cannot rewrite its own history
(db.app_role_statements keeps that true when grants are refreshed after migrating).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID

from trellis.db import append_only_statements, tenant_rls_statements

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        # No foreign key to users: an event outlives whatever it names, and a failed
        # sign-in names no user at all.
        sa.Column("actor_id", _uuid),
        sa.Column("actor_email", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target_type", sa.Text),
        sa.Column("target_id", sa.Text),
        sa.Column("address", INET),
        sa.Column("user_agent", sa.Text),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
    )
    op.execute("CREATE INDEX ix_audit_events_action ON audit_events (tenant_id, action, id)")
    op.execute("CREATE INDEX ix_audit_events_actor ON audit_events (tenant_id, actor_id, id)")
    op.execute("CREATE INDEX ix_audit_events_at ON audit_events (tenant_id, at)")
    for statement in tenant_rls_statements("audit_events"):
        op.execute(statement)
    role = op.get_context().config.attributes["app_role"]  # type: ignore[union-attr]
    for statement in append_only_statements(role):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_events")
