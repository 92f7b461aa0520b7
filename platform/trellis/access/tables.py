"""Access tables as SQLAlchemy Core: the audit trail (migration 0007); groups, record
shares, the principal closure and share recomputations (migration 0009)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID

from trellis.db import metadata

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    sa.Column("actor_id", UUID(as_uuid=True)),
    sa.Column("actor_email", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target_type", sa.Text),
    sa.Column("target_id", sa.Text),
    sa.Column("address", INET),
    sa.Column("user_agent", sa.Text),
    sa.Column("details", JSONB, nullable=False, server_default="{}"),
)

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

user_groups = sa.Table(
    "user_groups",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("api_name", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("group_id", _uuid, primary_key=True),
    sa.Column("member_kind", sa.Text, primary_key=True),
    sa.Column("member", sa.Text, primary_key=True),
)

record_shares = sa.Table(
    "record_shares",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("record_id", _uuid, primary_key=True),
    sa.Column("principal", sa.Text, primary_key=True),
    sa.Column("cause", sa.Text, primary_key=True),
    sa.Column("object_id", _uuid, nullable=False),
    sa.Column("access", sa.SmallInteger, nullable=False),
    sa.Column("created_by", _uuid),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
)

access_closure = sa.Table(
    "access_closure",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("user_id", _uuid, primary_key=True),
    sa.Column("memberships", ARRAY(sa.Text), nullable=False),
    sa.Column("principals", ARRAY(sa.Text), nullable=False),
    sa.Column("owners", ARRAY(_uuid), nullable=False),
    sa.Column("rebuilt_at", _timestamp, server_default=sa.text("now()")),
)

share_recomputes = sa.Table(
    "share_recomputes",
    metadata,
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
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("started_at", _timestamp),
    sa.Column("finished_at", _timestamp),
    sa.Column("touched_at", _timestamp),  # each batch's heartbeat
)
