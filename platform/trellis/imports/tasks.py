"""Celery tasks of CSV import: the job itself, and the sweep that hands out again the
jobs whose worker was lost (their progress is in PostgreSQL: they resume)."""

from __future__ import annotations

import uuid
from typing import Any

from trellis.hookspecs import hookimpl
from trellis.imports.run import abandoned_jobs, run_job
from trellis.outbox.nudges import Nudger
from trellis.state import get_state

RUN_TASK = "trellis.run_import"
SWEEP_SECONDS = 30


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    # The records an import writes have events; one nudge for the dispatcher per batch
    # of tasks finishing together.
    nudger = Nudger(lambda task: celery.send_task(task))

    # acks_late and reject_on_worker_lost (trellis.runtime.celery_app): a task lost with
    # its worker is delivered again and resumes after the last committed batch.
    @celery.task(name=RUN_TASK, shared=False)
    def run_import(tenant_id: str, job_id: str) -> str:
        """Write an import job's rows, batch by batch, from where it stopped."""
        state = get_state()
        status = run_job(
            state.database,
            state.metadata_cache,
            state.config.import_batch_rows,
            uuid.UUID(tenant_id),
            uuid.UUID(job_id),
        )
        nudger.request("trellis.dispatch_new_events")
        return status

    @celery.task(name="trellis.resume_imports", shared=False)
    def resume_imports() -> int:
        """Hand out again the queued or running jobs no worker holds (a lost message, a
        killed worker whose redelivery is still waiting on the broker's timeout)."""
        jobs = abandoned_jobs(get_state().database)
        for tenant_id, job_id in jobs:
            run_import.delay(str(tenant_id), str(job_id))
        return len(jobs)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-resume-imports": {"task": "trellis.resume_imports", "schedule": SWEEP_SECONDS},
    }
