"""Who may see and change what: access metadata, groups, record shares, the principal
closure and share recomputation jobs.

Roles and permission sets are metadata (``meta_access``, versioned through
``metadata_revisions`` like object definitions); groups and their members are data an
admin edits without a revision. ``record_shares`` holds the precomputed grants of
sharing rules and manual shares; ``access_closure`` holds, per user, the owners and
principals whose records the user reaches (self, groups, roles, and everyone below in the
role hierarchy), so the access predicate of a list is two index probes, not a walk.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)
_now = sa.text("now()")
_timestamp = sa.DateTime(timezone=True)
READER = "trellis_reader"
TABLES = (
    "meta_access",
    "user_groups",
    "group_members",
    "record_shares",
    "access_closure",
    "share_recomputes",
)


def upgrade() -> None:
    op.create_table(
        "meta_access",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("api_name", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("created_at", _timestamp, server_default=_now),
        sa.Column("updated_at", _timestamp, server_default=_now),
        sa.Column("deleted_at", _timestamp),
        sa.CheckConstraint("kind IN ('role', 'permission_set')", name="ck_meta_access_kind"),
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_meta_access_name ON meta_access "
        "(tenant_id, kind, lower(api_name)) WHERE deleted_at IS NULL"
    )
    op.add_column("users", sa.Column("role", sa.Text))
    op.add_column(
        "users",
        sa.Column("permission_sets", ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    op.add_column("users", sa.Column("manager_id", _uuid))
    # Users from before permission sets keep what they could do: read, create and edit.
    op.execute(
        "UPDATE users SET permission_sets = ARRAY['standard_user'] WHERE NOT ('admin' = ANY(roles))"
    )
    op.create_table(
        "user_groups",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("api_name", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _timestamp, server_default=_now),
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_user_groups_name ON user_groups (tenant_id, lower(api_name))"
    )
    op.create_table(
        "group_members",
        sa.Column("tenant_id", _uuid, primary_key=True),
        sa.Column("group_id", _uuid, primary_key=True),
        # user: a user id; role / role_and_subordinates: a role's api name; group: a group id.
        sa.Column("member_kind", sa.Text, primary_key=True),
        sa.Column("member", sa.Text, primary_key=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "group_id"],
            ["user_groups.tenant_id", "user_groups.id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "member_kind IN ('user', 'role', 'role_and_subordinates', 'group')",
            name="ck_group_members_kind",
        ),
    )
    op.create_table(
        "record_shares",
        sa.Column("tenant_id", _uuid, primary_key=True),
        sa.Column("record_id", _uuid, primary_key=True),
        # user:<id>, group:<id>, role:<name>, role_and_subordinates:<name>
        sa.Column("principal", sa.Text, primary_key=True),
        # rule:<name> for sharing rules, manual for a manual share
        sa.Column("cause", sa.Text, primary_key=True),
        sa.Column("object_id", _uuid, nullable=False),
        sa.Column("access", sa.SmallInteger, nullable=False),  # 1 read, 2 read/write
        sa.Column("created_by", _uuid),
        sa.Column("created_at", _timestamp, server_default=_now),
        sa.CheckConstraint("access IN (1, 2)", name="ck_record_shares_access"),
    )
    op.execute(
        "CREATE INDEX ix_record_shares_object ON record_shares (tenant_id, object_id, cause)"
    )
    op.create_table(
        "access_closure",
        sa.Column("tenant_id", _uuid, primary_key=True),
        sa.Column("user_id", _uuid, primary_key=True),
        # The user's own memberships (for "owned by" rules), and what the user reaches:
        # their own and every subordinate's (the role hierarchy).
        sa.Column("memberships", ARRAY(sa.Text), nullable=False),
        sa.Column("principals", ARRAY(sa.Text), nullable=False),
        sa.Column("owners", ARRAY(_uuid), nullable=False),
        sa.Column("rebuilt_at", _timestamp, server_default=_now),
    )
    op.execute(
        "CREATE INDEX ix_access_closure_memberships ON access_closure USING gin (memberships)"
    )
    op.create_table(
        "share_recomputes",
        sa.Column("tenant_id", _uuid, primary_key=True),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("object_id", _uuid, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        # The object's sharing settings the job computes from (see access.sharing).
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="queued"),
        sa.Column("total", sa.BigInteger),
        sa.Column("done", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("shares", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("after_id", _uuid),  # the last record done: a resumed job goes on from it
        sa.Column("error", sa.Text),
        sa.Column("created_at", _timestamp, server_default=_now),
        sa.Column("started_at", _timestamp),
        sa.Column("finished_at", _timestamp),
        sa.Column("touched_at", _timestamp),  # each batch's heartbeat
    )
    for table in TABLES:
        for statement in tenant_rls_statements(table):
            op.execute(statement)
    # The list path reads as the RLS-bypassing reader role (migration 0004), with its own
    # tenant predicate, the access predicate's included: it reads these two tables too.
    op.execute(f"""
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
            GRANT SELECT ON record_shares, access_closure, records TO {READER};
          END IF;
        END $$""")


def downgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
            REVOKE ALL ON record_shares, access_closure FROM {READER};
          END IF;
        END $$""")
    for table in reversed(TABLES):
        op.drop_table(table)
    for column in ("manager_id", "permission_sets", "role"):
        op.drop_column("users", column)
