"""Scheduled and manual automation triggers, and waiting runs.

``automation_schedules`` keeps each scheduled automation's next tick in PostgreSQL, so
a restarted beat neither loses nor repeats one. Runs without a triggering event
(scheduled, manual) carry an execution key instead: ``(automation, record, tick)`` or
``(automation, request, record)``, unique, so a tick or a retried request never
doubles a run. A run paused by a ``wait`` action is ``waiting`` until ``resume_at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from trellis.db import tenant_rls_statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES = "'queued', 'running', 'succeeded', 'failed', 'dead', 'skipped'"


def upgrade() -> None:
    op.create_table(
        "automation_schedules",
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("object_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("automation", sa.Text, primary_key=True),
        sa.Column("schedule", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True)),
        sa.Column("last_run_count", sa.Integer),
    )
    op.execute(
        "CREATE INDEX ix_automation_schedules_due ON automation_schedules (tenant_id, next_run_at)"
    )
    for statement in tenant_rls_statements("automation_schedules"):
        op.execute(statement)

    op.alter_column("automation_runs", "event_id", nullable=True)
    op.add_column("automation_runs", sa.Column("execution_key", sa.Text))
    op.add_column("automation_runs", sa.Column("resume_at", sa.DateTime(timezone=True)))
    # When the run was last handed to the workers (created, resumed, replayed): the outbox
    # sweep re-sends queued runs by this, not by their age.
    op.add_column(
        "automation_runs",
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )
    op.execute("UPDATE automation_runs SET queued_at = created_at")
    op.execute(
        "CREATE INDEX ix_automation_runs_queued ON automation_runs (tenant_id, queued_at) "
        "WHERE status = 'queued'"
    )
    op.create_unique_constraint(
        "uq_automation_runs_execution_key", "automation_runs", ["tenant_id", "execution_key"]
    )
    op.execute("ALTER TABLE automation_runs DROP CONSTRAINT ck_automation_runs_status")
    op.execute(
        "ALTER TABLE automation_runs ADD CONSTRAINT ck_automation_runs_status "
        f"CHECK (status IN ({STATUSES}, 'waiting'))"
    )
    op.execute(
        "CREATE INDEX ix_automation_runs_waiting ON automation_runs (tenant_id, resume_at) "
        "WHERE status = 'waiting'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_automation_runs_waiting")
    op.execute("DROP INDEX ix_automation_runs_queued")
    op.execute("DELETE FROM automation_runs WHERE event_id IS NULL")
    op.execute(
        "UPDATE automation_runs SET status = 'dead', error = 'Waiting when downgraded.' "
        "WHERE status = 'waiting'"
    )
    op.execute("ALTER TABLE automation_runs DROP CONSTRAINT ck_automation_runs_status")
    op.execute(
        "ALTER TABLE automation_runs ADD CONSTRAINT ck_automation_runs_status "
        f"CHECK (status IN ({STATUSES}))"
    )
    op.drop_constraint("uq_automation_runs_execution_key", "automation_runs", type_="unique")
    op.drop_column("automation_runs", "queued_at")
    op.drop_column("automation_runs", "resume_at")
    op.drop_column("automation_runs", "execution_key")
    op.alter_column("automation_runs", "event_id", nullable=False)
    op.drop_table("automation_schedules")
