"""A stamp on each tenant that moves whenever one of its list views or users' column
choices changes, so that a process may keep what a list screen reads on every page and
know, from the session lookup it runs anyway, when that has gone stale.

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("list_views_stamp", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("tenants", "list_views_stamp")
