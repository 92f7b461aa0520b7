"""Asking a worker to run a task now, for work already recorded in PostgreSQL: shared by
the API and the screens (both plan index builds, for one), so the two channels nudge
the same way."""

from __future__ import annotations

import logging
import uuid

from flask import current_app

from trellis.errors import ServiceUnavailable
from trellis.metadata.indexes import build_small_indexes
from trellis.state import get_state

log = logging.getLogger(__name__)


def nudge_worker(task: str, *args: str | int) -> None:
    """Ask a worker to run ``task`` now, for work already recorded in PostgreSQL (planned
    indexes, outbox events). If Redis is down nothing is lost: the periodic tasks
    (index reconciliation, the outbox sweep) pick the work up later, so the request
    does not wait for Redis: one quick try, and none while the breaker is open."""
    try:
        with get_state().redis_breaker.guard():
            current_app.extensions["celery"].send_task(
                task,
                args=list(args),
                # Nobody waits for a nudge's result: without this Celery would subscribe to
                # it in the result store first, retrying for many seconds if Redis is down.
                ignore_result=True,
                # One immediate retry (a connection Redis closed), not kombu's default three.
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0},
            )
    except ServiceUnavailable:
        log.info("Redis unavailable: %s left to the periodic sweep", task)
    except Exception:
        log.warning("could not enqueue %s", task, exc_info=True)


def schedule_index_build(tenant_id: uuid.UUID) -> None:
    """After a metadata change committed: build the indexes it planned, at once where the
    table is small (the field's index is then ready when the request answers), and ask a
    worker for the rest (large tables, drops, planner statistics)."""
    state = get_state()
    build_small_indexes(state.database.owner_engine, tenant_id, state.config.index_plain_build_mb)
    nudge_worker("trellis.build_indexes", str(tenant_id))
