"""Indexes that let a restricted count start from what the actor owns and is shared.

A count under a private org-wide default is the records the actor's owners own plus the
records shared with their principals that they do not own (trellis.access.gate,
``Access.count_parts``). The first is an index-only scan of the owners' entries here, the
second starts from the shares of the actor's principals; without these both were a scan
of every record of the object with a share probe per row (benchmarks/access_bench.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # created_at and id follow the owner, so "my records, newest first" reads in order too.
    op.execute(
        "CREATE INDEX ix_records_object_owner ON records "
        "(tenant_id, object_id, owner_id, created_at, id) WHERE deleted_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_record_shares_principal ON record_shares "
        "(tenant_id, principal, object_id, record_id) INCLUDE (access)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_record_shares_principal")
    op.execute("DROP INDEX ix_records_object_owner")
