"""Automations run as the platform or as their owner: each run records which.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("automation_runs", sa.Column("run_as", sa.Text))


def downgrade() -> None:
    op.drop_column("automation_runs", "run_as")
