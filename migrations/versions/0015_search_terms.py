"""Global search: the words of each searchable field of each record, as a tsvector.

One row per (tenant, record, field) rather than one tsvector per record, because
field-level security decides per reader which fields they may search: a query keeps the
rows of the fields the reader may read and groups them per record, so a word only in a
hidden field finds nothing. The records service keeps the rows in the write's own
transaction (trellis.records.search_terms); metadata changes drop or rebuild a field's
rows (trellis.records.search_reindex). A record deleted to the recycle bin keeps its
rows (search leaves deleted records out, a restore brings them back); a purge takes them
with it.

The GIN index leads with ``object_id`` where the server has ``btree_gin`` (PostgreSQL's
contrib ships it, and it is a trusted extension): a search reads only the posting lists
of the object it searches, not every tenant's matches for a common word. Without it the
index covers the terms alone and the object is a filter.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID

from trellis.db import reader_grant_statement, tenant_rls_statements

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("record_id", _uuid, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("object_id", _uuid, nullable=False),
        sa.Column("terms", TSVECTOR, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "record_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
    )
    bind = op.get_bind()
    with_btree_gin = bind.execute(
        sa.text("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'btree_gin')")
    ).scalar()
    if with_btree_gin:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.execute("CREATE INDEX ix_search_terms ON search_terms USING gin (object_id, terms)")
    else:
        op.execute("CREATE INDEX ix_search_terms ON search_terms USING gin (terms)")
    # Dropping or rebuilding one field's rows (a field deleted or retyped).
    op.execute("CREATE INDEX ix_search_terms_field ON search_terms (tenant_id, object_id, field)")
    for statement in tenant_rls_statements("search_terms"):
        op.execute(statement)
    # Search reads as the RLS-bypassing reader role (migration 0004), with its own tenant
    # predicate, as the list path does.
    op.execute(reader_grant_statement("search_terms"))


def downgrade() -> None:
    op.drop_table("search_terms")
