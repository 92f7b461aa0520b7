"""Metadata tables: object definitions, revisions and field index status."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import metadata

meta_objects = sa.Table(
    "meta_objects",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    ),
    sa.Column("api_name", sa.Text, nullable=False),
    sa.Column("definition", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
)

metadata_revisions = sa.Table(
    "metadata_revisions",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("author_id", UUID(as_uuid=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("changes", JSONB, nullable=False),
)

field_indexes = sa.Table(
    "field_indexes",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("index_name", sa.Text, primary_key=True),
    sa.Column("object_id", UUID(as_uuid=True), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("is_unique", sa.Boolean, nullable=False),
    sa.Column("expression", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
)

# Roles and permission sets: tenant-wide metadata documents, versioned through
# metadata_revisions beside object definitions (a change there names its ``kind``).
meta_access = sa.Table(
    "meta_access",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("api_name", sa.Text, nullable=False),
    sa.Column("definition", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
)
