"""Import jobs as rows: reading one the actor may see, and what the API shows of it.

A job is its creator's: another user (an administrator included) gets 404, as for a
record they may not read, since a job holds the rows of someone's file.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.errors import NotFound
from trellis.imports.tables import import_jobs

#: The columns the API shows (the file itself is not among them).
SHOWN = (
    "id",
    "mode",
    "key_field",
    "state",
    "file_name",
    "total_rows",
    "next_row",
    "created",
    "updated",
    "rejected",
    "error",
    "created_at",
    "updated_at",
    "finished_at",
)
FINISHED = frozenset({"done", "failed"})


def job_id_of(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such import.", code="unknown_import") from None


def load_job(
    connection: Connection, actor: Actor, job_id: Any, *, for_update: bool = False
) -> sa.Row:
    """The actor's job ``job_id`` (every column), or 404."""
    query = sa.select(import_jobs).where(
        import_jobs.c.tenant_id == actor.tenant_id,
        import_jobs.c.id == job_id_of(job_id),
        import_jobs.c.created_by == actor.user_id,
    )
    row = connection.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        raise NotFound("No such import.", code="unknown_import")
    return row


def update_job(connection: Connection, job: sa.Row, **values: Any) -> None:
    connection.execute(
        import_jobs.update()
        .where(import_jobs.c.tenant_id == job.tenant_id, import_jobs.c.id == job.id)
        .values(updated_at=sa.func.now(), **values)
    )


def job_json(job: sa.Row, object_name: str) -> dict[str, Any]:
    """The job as the API shows it: its state, counts and progress (0–100)."""
    shown: dict[str, Any] = {name: getattr(job, name) for name in SHOWN}
    for name in ("id",):
        shown[name] = str(shown[name])
    for name in ("created_at", "updated_at", "finished_at"):
        shown[name] = shown[name].isoformat() if shown[name] else None
    shown["object"] = object_name
    shown["progress"] = progress(job)
    shown["mapped"] = job.mapping is not None
    return shown


def progress(job: sa.Row) -> int:
    """Whole percent of the file's rows handled (a finished job is at 100)."""
    if job.state == "done":
        return 100
    if not job.total_rows:
        return 0
    return min(100, job.next_row * 100 // job.total_rows)
