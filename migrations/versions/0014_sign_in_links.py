"""One-time sign-in links: an invitation to a new user, or a password reset an
administrator hands to a user. Opening the link lets its user set a password once.

Only the SHA-256 digest of the link's secret is stored (the secret has 256 bits of
entropy, as API tokens do), so the table cannot be replayed as links. A link is used
once (``used_at``), expires (``expires_at``) and is void once a newer one is made for
the same user or the user is deactivated (``used_at`` set without a use: ``voided``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from trellis.db import tenant_rls_statements

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sign_in_links",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", _uuid, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("created_by", _uuid),
        sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("expires_at", _timestamp, nullable=False),
        sa.Column("used_at", _timestamp),
        sa.Column("voided", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="ck_sign_in_links_purpose"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sign_in_links_user", "sign_in_links", ["tenant_id", "user_id"])
    for statement in tenant_rls_statements("sign_in_links"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("sign_in_links")
