"""The automation engine's tables: runs (with their log) and the schedules of timed automations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import metadata

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)


automation_runs = sa.Table(
    "automation_runs",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.BigInteger),  # none for scheduled and manual runs
    sa.Column("automation", sa.Text, nullable=False),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("record_id", _uuid, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("actions_done", JSONB, nullable=False, server_default="[]"),
    sa.Column("error", sa.Text),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("started_at", _timestamp),
    sa.Column("finished_at", _timestamp),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("execution_key", sa.Text),  # unique: scheduled tick or manual request
    sa.Column("resume_at", _timestamp),  # when a waiting run continues
    sa.Column("queued_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("run_as", sa.Text),  # system, or user:<email> for an owner's automation
)

automation_schedules = sa.Table(
    "automation_schedules",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("automation", sa.Text, primary_key=True),
    sa.Column("schedule", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("next_run_at", _timestamp, nullable=False),
    sa.Column("last_run_at", _timestamp),
    sa.Column("last_run_count", sa.Integer),
)
