"""The background job of an import: its rows written batch by batch, each batch
committed with the job's counts and resume point (``next_row``) in the same
transaction, so a job stopped part-way (a worker killed, restarted or lost) resumes
after its last committed batch and writes no row twice.

A worker holds the job's lease (a session advisory lock, as automation runs do:
trellis.automation.leases) while it runs it: a second delivery of the same task waits
its turn rather than running beside it, and a job that is ``queued`` or ``running``
while nobody holds its lease was abandoned, for the sweep to hand out again.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.automation.leases import run_lease
from trellis.db import Database
from trellis.errors import TrellisError
from trellis.identity.tables import tenants
from trellis.identity.users import user_actor
from trellis.imports.batches import write_batch
from trellis.imports.cells import Row
from trellis.imports.jobs import update_job
from trellis.imports.service import ImportService, file_rows, store_outcome
from trellis.imports.tables import import_jobs
from trellis.metadata.compiled import MetadataCache

log = logging.getLogger(__name__)

LEASE_NAMESPACE = 0x54524950  # "TRIP": import leases, apart from automation runs'


def lease_key(job_id: uuid.UUID) -> int:
    return job_id.int % 2**31


def run_job(
    database: Database,
    cache: MetadataCache,
    batch_rows: int,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    max_batches: int | None = None,
) -> str:
    """Write the job's remaining rows; its state afterwards (``busy``: another worker
    holds the lease). ``max_batches`` stops early, as a killed worker would."""
    with run_lease(database, lease_key(job_id), LEASE_NAMESPACE) as leased:
        if not leased:
            return "busy"
        rows: list[list[Row]] = []  # the file, parsed once per delivery
        batches = 0
        while max_batches is None or batches < max_batches:
            try:
                with database.tenant(tenant_id) as connection:
                    state = _next_batch(connection, cache, batch_rows, tenant_id, job_id, rows)
            except TrellisError as error:  # the mapping no longer fits, a right was lost
                return _fail(database, tenant_id, job_id, error.message)
            if state != "running":
                return state
            batches += 1
        return "running"


def _next_batch(
    connection: Connection,
    cache: MetadataCache,
    batch_rows: int,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    parsed: list[list[Row]],
) -> str:
    """Write the job's next batch in ``connection``'s transaction; the job's state."""
    job = connection.execute(
        sa.select(import_jobs, tenants.c.slug)
        .join(tenants, tenants.c.id == import_jobs.c.tenant_id)
        .where(import_jobs.c.id == job_id)
        .with_for_update(of=import_jobs)
    ).first()
    if job is None:
        return "missing"
    if job.state not in {"queued", "running"}:
        return str(job.state)
    schema = cache.get(connection, tenant_id)
    actor = user_actor(connection, job.created_by, job.slug, schema.access)
    if actor is None:
        raise TrellisError("The user who started the import is no longer active.")
    if not parsed:
        parsed.append(file_rows(job))
    batch = parsed[0][job.next_row : job.next_row + batch_rows]
    if not batch:
        update_job(connection, job, state="done", finished_at=sa.func.now())
        return "done"
    service = ImportService(connection, actor, schema)
    outcome = write_batch(connection, service.records(job), service.plan(job), batch)
    store_outcome(connection, job, outcome, len(batch))
    if job.state != "running":
        update_job(connection, job, state="running")
    return "running"


def _fail(database: Database, tenant_id: uuid.UUID, job_id: uuid.UUID, message: str) -> str:
    """Mark the job failed (the mapping no longer fits, the user lost the right)."""
    with database.tenant(tenant_id) as connection:
        connection.execute(
            import_jobs.update()
            .where(import_jobs.c.id == job_id)
            .values(
                state="failed", error=message, finished_at=sa.func.now(), updated_at=sa.func.now()
            )
        )
    return "failed"


def abandoned_jobs(database: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Queued or running jobs nobody holds the lease of: (tenant, job) to hand out."""
    with database.owner() as connection:
        candidates = connection.execute(
            sa.select(import_jobs.c.tenant_id, import_jobs.c.id).where(
                import_jobs.c.state.in_(("queued", "running")),
                import_jobs.c.updated_at < sa.func.now() - sa.text("interval '30 seconds'"),
            )
        ).all()
    free = []
    for tenant_id, job_id in candidates:
        with run_lease(database, lease_key(job_id), LEASE_NAMESPACE) as leased:
            if leased:
                free.append((tenant_id, job_id))
    return free
