"""Celery tasks of workflow automation: run execution and the beat task of scheduled
automations and waits; and the automation engine's place among the outbox consumers."""

from __future__ import annotations

import uuid
from typing import Any

from trellis.automation.event_runs import AutomationRuns
from trellis.automation.execute import execute_run
from trellis.automation.leases import run_lease
from trellis.automation.schedule import run_schedules as fire_schedules
from trellis.automation.waits import resume_due
from trellis.config import Config
from trellis.hookspecs import hookimpl
from trellis.outbox.consumers import backoff_seconds
from trellis.outbox.nudges import Nudger
from trellis.state import get_state

SCHEDULE_SECONDS = 5  # cron ticks are whole minutes; waits resume within this


@hookimpl
def event_consumers(config: Config) -> list[AutomationRuns]:
    return [
        AutomationRuns(
            max_depth=config.automation_max_depth, max_attempts=config.automation_max_attempts
        )
    ]


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    # Runs that write records nudge the dispatcher for their events; many runs finishing
    # together share one message.
    nudger = Nudger(lambda task: celery.send_task(task))

    @celery.task(name="trellis.run_automation", shared=False, bind=True, max_retries=None)
    def run_automation(self: Any, tenant_id: str, run_id: int) -> str:
        """Execute one automation run; failures retry with capped exponential backoff."""
        state = get_state()
        with run_lease(state.database, run_id) as leased:
            if not leased:
                return "running elsewhere"  # the worker holding the lease finishes it
            status = execute_run(
                state.database, state.metadata_cache, state.config, uuid.UUID(tenant_id), run_id
            )
        # Actions may have written records: their events are dispatched soon.
        nudger.request("trellis.dispatch_new_events")
        if status == "failed":
            raise self.retry(countdown=backoff_seconds(self.request.retries + 1))
        return status

    @celery.task(name="trellis.run_schedules", shared=False)
    def run_schedules() -> int:
        """Fire the due ticks of scheduled automations and resume waiting runs whose time
        has come; both are kept in PostgreSQL, so a restarted beat loses nothing."""
        state = get_state()
        runs = [*fire_schedules(state.database, state.metadata_cache), *resume_due(state.database)]
        for tenant_id, run_id in runs:
            run_automation.delay(str(tenant_id), run_id)
        return len(runs)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-run-schedules": {"task": "trellis.run_schedules", "schedule": SCHEDULE_SECONDS},
    }
