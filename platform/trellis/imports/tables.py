"""The tables of CSV import jobs (migration 0016)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import metadata

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("created_by", _uuid, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("key_field", sa.Text),
    sa.Column("state", sa.Text, nullable=False, server_default="new"),
    sa.Column("file_name", sa.Text),
    sa.Column("file", sa.LargeBinary),
    sa.Column("headers", JSONB),
    sa.Column("mapping", JSONB),
    sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_row", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
    sa.Column("updated_at", _timestamp, nullable=False, server_default=sa.text("now()")),
    sa.Column("finished_at", _timestamp),
)

import_rejections = sa.Table(
    "import_rejections",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("job_id", _uuid, primary_key=True),
    sa.Column("row_number", sa.Integer, primary_key=True),
    sa.Column("cells", JSONB, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
