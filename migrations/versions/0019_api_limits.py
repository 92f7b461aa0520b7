"""API request limits and browser origins: a tenant's requests-per-minute budget and the
origins its browser apps call the API from (CORS); an API token's own budget.

``tenants`` is a platform table; ``api_tokens`` is already covered by row-level security.
A NULL budget means "the next level's": a token without one uses its tenant's, a tenant
without one the deployment's ``TRELLIS_API_RATE_LIMIT``.

Revision ID: 0019
Revises: 0022
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0019"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("api_rate_limit", sa.Integer))
    op.add_column(
        "tenants",
        sa.Column("cors_origins", ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    op.add_column("api_tokens", sa.Column("rate_limit", sa.Integer))
    op.create_check_constraint("ck_tenants_api_rate_limit", "tenants", "api_rate_limit > 0")
    op.create_check_constraint("ck_api_tokens_rate_limit", "api_tokens", "rate_limit > 0")


def downgrade() -> None:
    op.drop_column("api_tokens", "rate_limit")
    op.drop_column("tenants", "cors_origins")
    op.drop_column("tenants", "api_rate_limit")
