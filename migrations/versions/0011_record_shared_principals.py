"""Each record carries the principals it is shared with, kept by triggers on the shares.

``record_shares`` stays the truth (record, principal, access, cause). A read check that
probed it for every row a list page walked past cost a rep at 1M records three times an
administrator's page; ``records.shared_read`` and ``records.shared_edit`` (the
principals with read, and with read/write, access) make that check an array overlap on
the row the page reads anyway. Statement-level triggers with transition tables keep them
in the transaction that changes the shares, one UPDATE per statement, however many
shares it wrote (benchmarks/access_bench.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The principals of one record's shares, as the gate compares them with an actor's.
_SHARED = """
    (SELECT array_agg(DISTINCT x.principal ORDER BY x.principal) FROM record_shares x
      WHERE x.tenant_id = c.tenant_id AND x.record_id = c.record_id AND x.access >= {level})
"""

# Sets the principals of every record named in ``source`` (the changed shares, or all).
_SYNC = f"""
UPDATE records r
   SET shared_read = s.readers, shared_edit = s.editors
  FROM (SELECT c.tenant_id, c.record_id,
               {_SHARED.format(level=1)} AS readers,
               {_SHARED.format(level=2)} AS editors
          FROM (SELECT DISTINCT tenant_id, record_id FROM {{source}}) c) s
 WHERE r.tenant_id = s.tenant_id AND r.id = s.record_id
"""

SYNC_FUNCTION = f"""
CREATE FUNCTION records_sync_shares() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_SYNC.format(source="changed_shares")};
    RETURN NULL;
END $$
"""

# Transition tables allow one event per trigger: one trigger for each.
TRIGGERS = {
    "insert": "INSERT ON record_shares REFERENCING NEW TABLE AS changed_shares",
    "update": "UPDATE ON record_shares REFERENCING NEW TABLE AS changed_shares",
    "delete": "DELETE ON record_shares REFERENCING OLD TABLE AS changed_shares",
}

BACKFILL = _SYNC.format(source="record_shares")


def upgrade() -> None:
    op.add_column("records", sa.Column("shared_read", ARRAY(sa.Text)))
    op.add_column("records", sa.Column("shared_edit", ARRAY(sa.Text)))
    op.execute(SYNC_FUNCTION)
    for event, clause in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER record_shares_sync_{event} AFTER {clause} "
            "FOR EACH STATEMENT EXECUTE FUNCTION records_sync_shares()"
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    for event in TRIGGERS:
        op.execute(f"DROP TRIGGER record_shares_sync_{event} ON record_shares")
    op.execute("DROP FUNCTION records_sync_shares()")
    op.drop_column("records", "shared_edit")
    op.drop_column("records", "shared_read")
