"""A read role for the list queries that must use per-field partial indexes.

Under row-level security PostgreSQL evaluates a query's own conditions only after
the policy unless every function in them is LEAKPROOF, and ``jsonb ->>`` and casts
are not: filters on JSONB fields could then never use the per-field indexes (a
filtered page over 1M records took 170 ms instead of under 1 ms). The list query
therefore runs as ``trellis_reader``, which bypasses RLS, and is the one place
that always carries an explicit ``tenant_id = …`` predicate (records/query.py).
Creating a BYPASSRLS role needs a superuser; without one the role is not created
and list queries stay under RLS (correct, only slower).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

READER = "trellis_reader"


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
          IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
              CREATE ROLE {READER} NOLOGIN BYPASSRLS;
            END IF;
            GRANT {READER} TO CURRENT_USER;
            GRANT USAGE ON SCHEMA public TO {READER};
            GRANT SELECT ON records TO {READER};
          END IF;
        END $$""")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON records FROM {READER}")
