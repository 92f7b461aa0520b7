"""Celery tasks of workflow automation: the outbox dispatcher and run execution."""
from __future__ import annotations

import uuid
from typing import Any

from trellis.hookspecs import hookimpl

DISPATCH_SECONDS = 5


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name="trellis.dispatch_events", shared=False)
    def dispatch_events() -> int:
        """Turn committed record events into automation runs and hand them to workers."""
        from trellis.automation.dispatch import dispatch_pending, stale_runs
        from trellis.state import get_state

        state = get_state()
        runs = dispatch_pending(state.database, state.metadata_cache,
                                max_depth=state.config.automation_max_depth)
        for tenant_id, run_id in [*runs, *stale_runs(state.database)]:
            run_automation.delay(str(tenant_id), run_id)
        return len(runs)

    @celery.task(name="trellis.run_automation", shared=False, bind=True, max_retries=None)
    def run_automation(self: Any, tenant_id: str, run_id: int) -> str:
        """Execute one automation run; failures retry with capped exponential backoff."""
        from trellis.automation.execute import backoff_seconds, execute_run
        from trellis.state import get_state

        state = get_state()
        status = execute_run(state.database, state.metadata_cache, state.config,
                             uuid.UUID(tenant_id), run_id)
        # Actions may have written records: their events are dispatched at once.
        dispatch_events.delay()
        if status == "failed":
            raise self.retry(countdown=backoff_seconds(self.request.retries + 1))
        return status

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-dispatch-events": {"task": "trellis.dispatch_events",
                                    "schedule": DISPATCH_SECONDS},
    }
