"""List views: the saved columns, filters and sort of an object's list screen, and each
user's own choice of columns for a view.

A view with no owner is shared (an administrator's, or a user's with the
manage_metadata right: everyone who may read the object sees it); a view with an owner
is that user's private view. Private views are user data rather than tenant metadata,
so views live in a table of their own, not in the object definitions, and go with
their owner. A view's name is unique among the object's shared views and among one
user's private views.

``list_view_preferences`` keeps, per user, object and view name, the columns (order
and widths) the user chose on the screen for a view they did not save.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
    )


def upgrade() -> None:
    op.create_table(
        "list_views",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("object_id", _uuid, nullable=False),
        sa.Column("owner_id", _uuid),
        sa.Column("api_name", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("created_by", _uuid),
        sa.Column("updated_by", _uuid),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"], ["meta_objects.tenant_id", "meta_objects.id"]
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "owner_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_list_views_shared ON list_views "
        "(tenant_id, object_id, lower(api_name)) WHERE owner_id IS NULL"
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_list_views_private ON list_views "
        "(tenant_id, object_id, owner_id, lower(api_name)) WHERE owner_id IS NOT NULL"
    )
    op.create_table(
        "list_view_preferences",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("user_id", _uuid, primary_key=True),
        sa.Column("object_id", _uuid, primary_key=True),
        # The view's api_name in lower case (generated views have no row of their own).
        sa.Column("view", sa.Text, primary_key=True),
        sa.Column("columns", JSONB, nullable=False),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"], ["meta_objects.tenant_id", "meta_objects.id"]
        ),
    )
    for table in ("list_views", "list_view_preferences"):
        for statement in tenant_rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("list_view_preferences")
    op.drop_table("list_views")
