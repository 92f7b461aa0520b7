"""Webhook subscriptions of API consumers, and their delivery log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("name", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        # Object ids, not names: renaming an object keeps its subscriptions. Empty: all.
        sa.Column("objects", JSONB, nullable=False, server_default="[]"),
        sa.Column("event_types", JSONB, nullable=False),
        sa.Column("filter", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("created_by", _uuid),
        sa.Column("updated_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_by", _uuid),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("subscription_id", _uuid, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", _uuid, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_excerpt", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("last_attempt_at", _timestamp),
        sa.Column("next_attempt_at", _timestamp),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'succeeded', 'failed', 'dead', 'skipped')",
            name="status",
        ),
        # Deleting a subscription deletes its log with it.
        sa.ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"],
            ondelete="CASCADE",
        ),
        # An event is delivered to a subscription at most once, however often it is dispatched.
        sa.UniqueConstraint(
            "tenant_id", "subscription_id", "event_id", name="uq_webhook_deliveries_key"
        ),
    )
    op.execute(
        "CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries "
        "(tenant_id, subscription_id, id)"
    )
    op.execute(
        "CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (created_at) "
        "WHERE status IN ('queued', 'sending', 'failed')"
    )
    for table in ("webhook_subscriptions", "webhook_deliveries"):
        for statement in tenant_rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
