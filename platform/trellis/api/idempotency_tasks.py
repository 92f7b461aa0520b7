"""The periodic purge of expired idempotency keys (trellis.api.idempotency), run by the
beat; a key is not replayed once expired even before the purge reaches it."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from trellis.api.idempotency_store import purge_expired
from trellis.db import Database
from trellis.hookspecs import hookimpl
from trellis.identity.tables import tenants
from trellis.state import get_state

log = logging.getLogger(__name__)
PURGE_SECONDS = 3600
PURGE_TASK = "trellis.purge_idempotency_keys"


def purge_all(database: Database) -> int:
    """Purge every tenant's expired keys, each tenant in its own transaction (row-level
    security); how many were deleted."""
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    purged = 0
    for tenant_id in tenant_ids:
        try:
            with database.tenant(tenant_id) as connection:
                purged += purge_expired(connection, tenant_id)
        except Exception:
            log.exception("purging idempotency keys failed", extra={"tenant_id": str(tenant_id)})
    return purged


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name=PURGE_TASK, shared=False)
    def purge_idempotency_keys() -> int:
        """Delete the idempotency keys whose 24 hours are over."""
        return purge_all(get_state().database)

    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "trellis-purge-idempotency-keys": {"task": PURGE_TASK, "schedule": PURGE_SECONDS},
    }
