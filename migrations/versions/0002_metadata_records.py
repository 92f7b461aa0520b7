"""Metadata (objects, revisions, field indexes) and the records store.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
NEW_UUID = sa.text("gen_random_uuid()")
TENANT_TABLES = (
    "meta_objects",
    "metadata_revisions",
    "field_indexes",
    "records",
    "record_refs",
    "record_history",
    "events",
    "auto_number_counters",
)

# Casting text to date or timestamptz depends on session settings (DateStyle,
# TimeZone), so PostgreSQL calls those casts STABLE and refuses them in index
# expressions. Trellis always stores ISO 8601 (timestamps in UTC with 'Z'), for which
# the result cannot vary, so these wrappers may honestly be declared IMMUTABLE.
TYPED_FUNCTIONS = {
    "trellis_date": "date",
    "trellis_timestamptz": "timestamptz",
    "trellis_time": "time",
}


def _uuid(name: str, *args, **kwargs) -> sa.Column:
    return sa.Column(name, UUID(as_uuid=True), *args, **kwargs)


def _timestamp(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def _tenant() -> sa.Column:
    return _uuid("tenant_id", sa.ForeignKey("tenants.id"), primary_key=True)


def upgrade() -> None:
    for function, type_ in TYPED_FUNCTIONS.items():
        op.execute(f"""
            CREATE FUNCTION {function}(value text) RETURNS {type_}
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            RETURN value::{type_}""")
    op.create_table(
        "meta_objects",
        _tenant(),
        _uuid("id", primary_key=True, server_default=NEW_UUID),
        sa.Column("api_name", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _timestamp("updated_at", nullable=False, server_default=NOW),
        _timestamp("deleted_at"),
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_meta_objects_api_name ON meta_objects "
        "(tenant_id, lower(api_name)) WHERE deleted_at IS NULL"
    )
    op.create_table(
        "metadata_revisions",
        _tenant(),
        sa.Column("revision", sa.Integer, primary_key=True),
        _uuid("author_id"),
        _timestamp("created_at", nullable=False, server_default=NOW),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("changes", JSONB, nullable=False),
    )
    op.create_table(
        "field_indexes",
        _tenant(),
        sa.Column("index_name", sa.Text, primary_key=True),
        _uuid("object_id", nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("is_unique", sa.Boolean, nullable=False),
        sa.Column("expression", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        _timestamp("updated_at", nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('building', 'ready', 'failed', 'dropping')", name="status"),
    )
    op.create_table(
        "records",
        _tenant(),
        _uuid("id", primary_key=True, server_default=NEW_UUID),
        _uuid("object_id", nullable=False),
        sa.Column("data", JSONB, nullable=False),
        _uuid("owner_id"),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _uuid("created_by"),
        _timestamp("updated_at", nullable=False, server_default=NOW),
        _uuid("updated_by"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _timestamp("deleted_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"], ["meta_objects.tenant_id", "meta_objects.id"]
        ),
    )
    op.execute(
        "CREATE INDEX ix_records_object_created ON records "
        "(tenant_id, object_id, created_at, id) WHERE deleted_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_records_deleted ON records "
        "(tenant_id, object_id, deleted_at) WHERE deleted_at IS NOT NULL"
    )
    op.create_table(
        "record_refs",
        _tenant(),
        _uuid("source_id", primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        _uuid("target_id", nullable=False),
        _uuid("source_object_id", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
        # A purge of a referenced record must first deal with its references.
        sa.ForeignKeyConstraint(
            ["tenant_id", "target_id"], ["records.tenant_id", "records.id"], ondelete="RESTRICT"
        ),
    )
    op.execute("CREATE INDEX ix_record_refs_target ON record_refs (tenant_id, target_id, field)")
    op.create_table(
        "record_history",
        _tenant(),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _uuid("record_id", nullable=False),
        _uuid("object_id", nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        _uuid("actor_id"),
        _timestamp("created_at", nullable=False, server_default=NOW),
        sa.ForeignKeyConstraint(
            ["tenant_id", "record_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
    )
    op.execute("CREATE INDEX ix_record_history_record ON record_history (tenant_id, record_id, id)")
    op.create_table(
        "events",
        _tenant(),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _uuid("object_id", nullable=False),
        _uuid("record_id", nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        _uuid("actor_id"),
        _timestamp("created_at", nullable=False, server_default=NOW),
        _timestamp("dispatched_at"),
    )
    op.execute(
        "CREATE INDEX ix_events_pending ON events (created_at, tenant_id, id) "
        "WHERE dispatched_at IS NULL"
    )
    op.create_table(
        "auto_number_counters",
        _tenant(),
        _uuid("object_id", primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("last_value", sa.BigInteger, nullable=False),
    )
    for table in TENANT_TABLES:
        for statement in tenant_rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    for function in TYPED_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}(text)")
