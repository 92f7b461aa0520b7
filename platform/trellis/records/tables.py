"""Records, references between them, field history, the events outbox, auto-number
counters, each user's recently viewed records, list views, and search terms."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID

from trellis.db import metadata

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

records = sa.Table(
    "records",
    metadata,
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
    # The principals of the record's shares (read, read/write), kept by triggers on
    # record_shares (migration 0011), so the access gate checks the row it reads.
    sa.Column("shared_read", ARRAY(sa.Text)),
    sa.Column("shared_edit", ARRAY(sa.Text)),
)

# The words of each searchable field of each record (migration 0015,
# trellis.records.search_terms).
search_terms = sa.Table(
    "search_terms",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("record_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("terms", TSVECTOR, nullable=False),
)

# Each lexeme of each search_terms row, kept by triggers (migration 0017): the B-tree a
# search reads its key word from in order, stopping at its bound.
search_words = sa.Table(
    "search_words",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("word", sa.Text(collation="C"), primary_key=True),
    sa.Column("record_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
)

record_refs = sa.Table(
    "record_refs",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("source_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("target_id", _uuid, nullable=False),
    sa.Column("source_object_id", _uuid, nullable=False),
)

record_history = sa.Table(
    "record_history",
    metadata,
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
    "events",
    metadata,
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
    "auto_number_counters",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("last_value", sa.BigInteger, nullable=False),
)

recent_records = sa.Table(
    "recent_records",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("user_id", _uuid, primary_key=True),
    sa.Column("record_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("viewed_at", _timestamp, nullable=False, server_default=sa.text("now()")),
)


# -- list views (migration 0013) ------------------------------------------------------
# A view with no owner is shared; one with an owner is that user's private view.
list_views = sa.Table(
    "list_views",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("owner_id", _uuid),
    sa.Column("api_name", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("definition", JSONB, nullable=False),
    sa.Column("created_by", _uuid),
    sa.Column("updated_by", _uuid),
    sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
    sa.Column("updated_at", _timestamp, nullable=False, server_default=sa.text("now()")),
)

# A user's columns (order and widths) for a view, by the view's lower-case api_name.
list_view_preferences = sa.Table(
    "list_view_preferences",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("user_id", _uuid, primary_key=True),
    sa.Column("object_id", _uuid, primary_key=True),
    sa.Column("view", sa.Text, primary_key=True),
    sa.Column("columns", JSONB, nullable=False),
    sa.Column("updated_at", _timestamp, nullable=False, server_default=sa.text("now()")),
)
