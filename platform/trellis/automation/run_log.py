"""Reading the automation run log: the runs that touched one record, newest first."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.automation.tables import automation_runs


def record_runs(
    connection: Connection, object_id: uuid.UUID, record_id: uuid.UUID, limit: int
) -> list[Row]:
    """The newest ``limit`` runs on a record (served by ix_automation_runs_record)."""
    return list(
        connection.execute(
            sa.select(automation_runs)
            .where(
                automation_runs.c.record_id == record_id,
                automation_runs.c.object_id == object_id,
            )
            .order_by(automation_runs.c.id.desc())
            .limit(limit)
        )
    )
