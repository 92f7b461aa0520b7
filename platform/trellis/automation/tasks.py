"""Celery tasks of workflow automation: the outbox dispatcher, run execution, and the
beat task of scheduled automations and waits."""

from __future__ import annotations

import uuid
from typing import Any

from trellis.hookspecs import hookimpl
from trellis.outbox.nudges import Nudger

DISPATCH_SECONDS = 5
SCHEDULE_SECONDS = 5  # cron ticks are whole minutes; waits resume within this


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    def dispatch(sweep: bool) -> int:
        from trellis.outbox.dispatch import dispatch_pending, stale_runs
        from trellis.state import get_state
        from trellis.webhooks.deliveries import stale_deliveries

        state = get_state()
        dispatched = dispatch_pending(
            state.database, state.metadata_cache, max_depth=state.config.automation_max_depth
        )
        runs, deliveries = list(dispatched.runs), list(dispatched.deliveries)
        if sweep:
            runs += stale_runs(state.database, max_attempts=state.config.automation_max_attempts)
            deliveries += stale_deliveries(state.database, state.config)
        for tenant_id, run_id in runs:
            run_automation.delay(str(tenant_id), run_id)
        # Sent by trellis.deliver_webhook (plugins/webhook_tasks.py).
        for tenant_id, delivery_id in deliveries:
            celery.send_task("trellis.deliver_webhook", args=[str(tenant_id), delivery_id])
        return len(dispatched.runs)

    @celery.task(name="trellis.dispatch_events", shared=False)
    def dispatch_events() -> int:
        """The outbox sweep: turn committed record events into automation runs and webhook
        deliveries, and hand those whose hand-off or worker was lost to workers again."""
        return dispatch(sweep=True)

    @celery.task(name="trellis.dispatch_new_events", shared=False)
    def dispatch_new_events() -> int:
        """Dispatch just-committed events (a nudge after writes); the periodic sweep looks
        for lost work, which a nudge per write need not repeat."""
        return dispatch(sweep=False)

    # Runs that write records nudge the dispatcher for their events; many runs finishing
    # together share one message.
    nudger = Nudger(lambda task: celery.send_task(task))

    @celery.task(name="trellis.run_automation", shared=False, bind=True, max_retries=None)
    def run_automation(self: Any, tenant_id: str, run_id: int) -> str:
        """Execute one automation run; failures retry with capped exponential backoff."""
        from trellis.automation.execute import backoff_seconds, execute_run
        from trellis.automation.leases import run_lease
        from trellis.state import get_state

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
        from trellis.automation.schedule import run_schedules as fire
        from trellis.automation.waits import resume_due
        from trellis.state import get_state

        state = get_state()
        runs = [*fire(state.database, state.metadata_cache), *resume_due(state.database)]
        for tenant_id, run_id in runs:
            run_automation.delay(str(tenant_id), run_id)
        return len(runs)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-dispatch-events": {
            "task": "trellis.dispatch_events",
            "schedule": DISPATCH_SECONDS,
        },
        "trellis-run-schedules": {"task": "trellis.run_schedules", "schedule": SCHEDULE_SECONDS},
    }
