"""Records, references between them, field history, the events outbox, auto-number counters,
automation runs and schedules."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import metadata

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

records = sa.Table(
    "records", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("owner_id", _uuid),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("created_by", _uuid),
    sa.Column("updated_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("updated_by", _uuid),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("deleted_at", _timestamp),
)

record_refs = sa.Table(
    "record_refs", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("source_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("target_id", _uuid, nullable=False),
    sa.Column("source_object_id", _uuid, nullable=False),
)

record_history = sa.Table(
    "record_history", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("record_id", _uuid, nullable=False),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("changes", JSONB, nullable=False),
    sa.Column("actor_id", _uuid),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
)

events = sa.Table(
    "events", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("record_id", _uuid, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("actor_id", _uuid),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("dispatched_at", _timestamp),
)

auto_number_counters = sa.Table(
    "auto_number_counters", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("last_value", sa.BigInteger, nullable=False),
)

automation_runs = sa.Table(
    "automation_runs", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.BigInteger),          # none for scheduled and manual runs
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
    sa.Column("execution_key", sa.Text),           # unique: scheduled tick or manual request
    sa.Column("resume_at", _timestamp),            # when a waiting run continues
    sa.Column("queued_at", _timestamp, server_default=sa.text("now()")),
)

automation_schedules = sa.Table(
    "automation_schedules", metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("automation", sa.Text, primary_key=True),
    sa.Column("schedule", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("next_run_at", _timestamp, nullable=False),
    sa.Column("last_run_at", _timestamp),
    sa.Column("last_run_count", sa.Integer),
)
