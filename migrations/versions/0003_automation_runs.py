"""Automation run log: one row per event × automation, with status, attempts and errors.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automation_runs",
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("automation", sa.Text, nullable=False),
        sa.Column("object_id", UUID(as_uuid=True), nullable=False),
        sa.Column("record_id", UUID(as_uuid=True), nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("actions_done", JSONB, nullable=False, server_default="[]"),
        sa.Column("error", sa.Text),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_ms", sa.Integer),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'skipped')",
            name="status",
        ),
        # The execution key: an event runs each automation at most once.
        sa.UniqueConstraint("tenant_id", "event_id", "automation", name="uq_automation_runs_key"),
    )
    op.execute(
        "CREATE INDEX ix_automation_runs_pending ON automation_runs (created_at) "
        "WHERE status IN ('queued', 'failed')"
    )
    op.execute(
        "CREATE INDEX ix_automation_runs_record ON automation_runs (tenant_id, record_id, id)"
    )
    for statement in tenant_rls_statements("automation_runs"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("automation_runs")
