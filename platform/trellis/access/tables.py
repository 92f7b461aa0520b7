"""Access tables as SQLAlchemy Core; migration 0007 creates them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID

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
