"""Built-in Celery tasks: the smoke test and the index builder."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from trellis.hookspecs import hookimpl

RECONCILE_SECONDS = 300


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name="trellis.ping", shared=False)
    def ping(payload: str = "") -> dict:
        """Smoke task: answers from inside the app context with the database revision."""
        from trellis.runtime.migrate import current_revision
        from trellis.state import get_state

        return {"pong": payload, "schema": current_revision(get_state().database)}

    @celery.task(name="trellis.build_indexes", shared=False, bind=True, max_retries=None)
    def build_indexes(self: Any, tenant_id: str) -> dict[str, str]:
        """Build or drop the field indexes a tenant's metadata planned (CONCURRENTLY on a
        large table), and compute the planner statistics of the ready ones."""
        from trellis.metadata.indexes import BuilderBusy, build_pending_indexes
        from trellis.state import get_state

        state = get_state()
        try:
            return build_pending_indexes(
                state.database.owner_engine,
                uuid.UUID(tenant_id),
                state.config.index_plain_build_mb,
            )
        except BuilderBusy:
            raise self.retry(countdown=1) from None

    @celery.task(name="trellis.reconcile_indexes", shared=False)
    def reconcile_indexes() -> int:
        """Pick up index plans whose build was never enqueued (e.g. Redis was down)."""
        from trellis.state import get_state

        with get_state().database.owner() as connection:
            tenants = (
                connection.execute(
                    sa.text(
                        "SELECT DISTINCT tenant_id FROM field_indexes "
                        "WHERE status IN ('building', 'dropping')"
                    )
                )
                .scalars()
                .all()
            )
        for tenant_id in tenants:
            build_indexes.delay(str(tenant_id))
        return len(tenants)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-reconcile-indexes": {
            "task": "trellis.reconcile_indexes",
            "schedule": RECONCILE_SECONDS,
        },
    }
