"""CSV import jobs: a user's upload of rows into one object, its column mapping, and the
progress of the background job that writes it.

The uploaded file is kept in the job's row (``file``, bytea, bounded by the import's
size limit), so any worker can read it and a redelivered task starts again from the
job's ``next_row``: the rows of every committed batch are counted there in the same
transaction as the records they wrote, so no row is written twice. Rows refused by the
records service are kept in ``import_rejections`` with the reason, for the
downloadable file of rejected rows.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
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
        _count("total_rows"),
        _count("next_row"),
        _count("created"),
        _count("updated"),
        _count("rejected"),
        sa.Column("error", sa.Text),
        sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("finished_at", _timestamp),
        sa.CheckConstraint("mode IN ('insert', 'upsert')", name="ck_import_jobs_mode"),
        sa.CheckConstraint(
            "state IN ('new', 'uploaded', 'queued', 'running', 'done', 'failed')",
            name="ck_import_jobs_state",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"], ["meta_objects.tenant_id", "meta_objects.id"]
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_import_jobs_creator", "import_jobs", ["tenant_id", "created_by"])
    op.create_table(
        "import_rejections",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("job_id", _uuid, primary_key=True),
        # The row's number in the file, 1 being the first row after the header.
        sa.Column("row_number", sa.Integer, primary_key=True),
        sa.Column("cells", JSONB, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"], ["import_jobs.tenant_id", "import_jobs.id"], ondelete="CASCADE"
        ),
    )
    for table in ("import_jobs", "import_rejections"):
        for statement in tenant_rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("import_rejections")
    op.drop_table("import_jobs")
