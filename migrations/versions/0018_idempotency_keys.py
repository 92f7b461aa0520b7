"""Idempotency keys of API writes: the first answer to a request sent with an
``Idempotency-Key`` header, kept for 24 hours so that a retry gets the same answer
and writes nothing again.

A key belongs to one tenant and one actor (``principal``: the user, or the token
acting for no user). The row is written in the transaction of the write it answers
for (trellis.api.idempotency), so a crash between the two leaves neither.
``fingerprint`` is a digest of the method, path and body: the same key sent with
another request is refused. Expired rows are purged by a periodic task.

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from trellis.db import tenant_rls_statements

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("expires_at", _timestamp, nullable=False),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 255", name="ck_idempotency_keys_key"),
    )
    op.create_index(
        "ix_idempotency_keys_expires_at", "idempotency_keys", ["tenant_id", "expires_at"]
    )
    for statement in tenant_rls_statements("idempotency_keys"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
