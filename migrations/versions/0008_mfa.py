"""Two-factor sign-in: a user's TOTP secret, the last time step used (no code is accepted
twice), hashed one-time recovery codes; a browser session's MFA state; a tenant's
requirement that every user signs in with a second factor.

The columns sit on existing tenant tables (users, user_sessions), which row-level
security already covers; ``tenants`` is a platform table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("require_mfa", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # A secret with no mfa_enabled_at is an enrolment waiting for its first code.
    op.add_column("users", sa.Column("mfa_secret", sa.Text))
    op.add_column("users", sa.Column("mfa_enabled_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("mfa_last_step", sa.BigInteger))
    op.add_column(
        "users",
        sa.Column("mfa_recovery_codes", ARRAY(sa.LargeBinary), nullable=False, server_default="{}"),
    )
    # A pending row is the password step of a sign-in that still needs its code: it
    # authenticates nothing and expires within minutes.
    op.add_column(
        "user_sessions",
        sa.Column("mfa_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("user_sessions", sa.Column("mfa_verified_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("user_sessions", "mfa_verified_at")
    op.drop_column("user_sessions", "mfa_pending")
    for column in ("mfa_recovery_codes", "mfa_last_step", "mfa_enabled_at", "mfa_secret"):
        op.drop_column("users", column)
    op.drop_column("tenants", "require_mfa")
