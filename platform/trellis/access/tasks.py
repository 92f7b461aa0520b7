"""The access package's Celery task: share recomputation jobs, run by the beat every few
seconds and nudged by the API right after a change that queues one. The jobs live in
PostgreSQL, so a lost nudge or a restarted worker loses nothing."""

from __future__ import annotations

from typing import Any

from trellis.access.recompute import run_pending
from trellis.hookspecs import hookimpl
from trellis.state import get_state

RECOMPUTE_SECONDS = 5
RECOMPUTE_TASK = "trellis.recompute_shares"


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name=RECOMPUTE_TASK, shared=False)  # type: ignore[untyped-decorator]  # Celery is untyped
    def recompute_shares() -> int:
        """Run every queued share recomputation; the number of jobs finished."""
        state = get_state()
        return run_pending(state.database, state.metadata_cache)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-recompute-shares": {"task": RECOMPUTE_TASK, "schedule": RECOMPUTE_SECONDS},
    }
