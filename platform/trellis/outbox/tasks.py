"""Celery tasks of the outbox: the sweep and the nudged dispatch of record events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from trellis.hookspecs import hookimpl
from trellis.outbox.consumers import EventConsumer
from trellis.outbox.dispatch import dispatch_pending, stale_work
from trellis.state import AppState, get_state

if TYPE_CHECKING:
    from celery import Celery

DISPATCH_SECONDS = 5


def consumers_of(state: AppState) -> list[EventConsumer]:
    """The app's outbox consumers, as its plugins announce them."""
    return [
        consumer
        for found in state.plugins.hook.event_consumers(config=state.config)
        for consumer in found
    ]


@hookimpl
def register_celery_tasks(celery: Celery) -> None:
    def dispatch(sweep: bool) -> int:
        state = get_state()
        # The plugins are fixed when the app is built: ask them once, not per dispatch.
        extensions = current_app.extensions
        if "trellis.event_consumers" not in extensions:
            extensions["trellis.event_consumers"] = consumers_of(state)
        consumers: list[EventConsumer] = extensions["trellis.event_consumers"]
        work = dispatch_pending(state.database, state.metadata_cache, consumers)
        handed = sum(len(items) for items in work.values())
        if sweep:
            for task, items in stale_work(state.database, consumers).items():
                work[task] += items
        for task, items in work.items():
            for tenant_id, work_id in items:
                celery.send_task(task, args=[str(tenant_id), work_id])
        return handed

    @celery.task(name="trellis.dispatch_events", shared=False)
    def dispatch_events() -> int:
        """The outbox sweep: hand committed record events to their consumers, and hand
        work whose hand-off or worker was lost to workers again."""
        return dispatch(sweep=True)

    @celery.task(name="trellis.dispatch_new_events", shared=False)
    def dispatch_new_events() -> int:
        """Dispatch just-committed events (a nudge after writes); the periodic sweep looks
        for lost work, which a nudge per write need not repeat."""
        return dispatch(sweep=False)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-dispatch-events": {
            "task": "trellis.dispatch_events",
            "schedule": DISPATCH_SECONDS,
        },
    }
