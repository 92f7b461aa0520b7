"""Platform tables (tenants, users, API tokens, browser sessions) as SQLAlchemy Core.

Migrations in ``migrations/versions`` create them; these definitions are what
services query. Tenant-scoped tables key on ``(tenant_id, id)`` so that rows of one
tenant co-locate when the database is distributed by tenant, and composite
foreign keys make a cross-tenant reference impossible.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from trellis.db import metadata

NOW = sa.text("now()")
NEW_UUID = sa.text("gen_random_uuid()")

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("require_mfa", sa.Boolean, nullable=False, server_default=sa.false()),
    # API requests per minute of each token and signed-in user (None: the deployment's
    # default) and the browser origins allowed to call the API (trellis.api.cors).
    sa.Column("api_rate_limit", sa.Integer),
    sa.Column("cors_origins", ARRAY(sa.Text), nullable=False, server_default="{}"),
    # Moves with every change to the tenant's list views (trellis.identity.tenants).
    sa.Column("list_views_stamp", sa.BigInteger, nullable=False, server_default="0"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("roles", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    # The user's place in the role hierarchy, and the permission sets whose rights they
    # hold (names of roles and permission sets, which are metadata).
    sa.Column("role", sa.Text),
    sa.Column("permission_sets", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("manager_id", UUID(as_uuid=True)),
    # Two-factor sign-in (trellis.identity.mfa): a secret without mfa_enabled_at is an
    # enrolment waiting for its first code.
    sa.Column("mfa_secret", sa.Text),
    sa.Column("mfa_enabled_at", sa.DateTime(timezone=True)),
    sa.Column("mfa_last_step", sa.BigInteger),
    sa.Column("mfa_recovery_codes", ARRAY(sa.LargeBinary), nullable=False, server_default="{}"),
    sa.Index("uq_users_tenant_email", "tenant_id", sa.func.lower(sa.column("email")), unique=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    # The token's own requests per minute, instead of its tenant's (None: the tenant's).
    sa.Column("rate_limit", sa.Integer),
    sa.ForeignKeyConstraint(
        ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
    ),
)

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("secret_hash", sa.LargeBinary, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client_address", sa.Text),
    sa.Column("user_agent", sa.Text),
    # The password step of a sign-in that still needs its second factor: no session yet.
    sa.Column("mfa_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("mfa_verified_at", sa.DateTime(timezone=True)),
    sa.ForeignKeyConstraint(
        ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
    ),
)

# One-time sign-in links (trellis.identity.links): an invitation or a password reset.
sign_in_links = sa.Table(
    "sign_in_links",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=NEW_UUID),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.LargeBinary, nullable=False, unique=True),
    sa.Column("created_by", UUID(as_uuid=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("voided", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(
        ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
    ),
)
