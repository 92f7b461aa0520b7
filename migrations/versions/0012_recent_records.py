"""Recent records: the records each user last opened on a record page, for the app
shell's Recent menu and the home page.

One row per user and record (a second view moves its ``viewed_at``); rows go with
their user and with a purged record. A record deleted to the recycle bin keeps its row
and comes back with a restore; the readers leave out what is deleted or no longer
readable.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from trellis.db import tenant_rls_statements

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "recent_records",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("user_id", _uuid, primary_key=True),
        sa.Column("record_id", _uuid, primary_key=True),
        sa.Column("object_id", _uuid, nullable=False),
        sa.Column(
            "viewed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "record_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
    )
    # A user's newest views first: the shell's and the home page's one query.
    op.execute(
        "CREATE INDEX ix_recent_records_user ON recent_records (tenant_id, user_id, viewed_at DESC)"
    )
    for statement in tenant_rls_statements("recent_records"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("recent_records")
