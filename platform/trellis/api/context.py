"""Request glue shared by API views: the actor's tenant transaction and its services."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

from flask import request
from sqlalchemy.engine import Connection

from trellis import request_transaction
from trellis.actor import Actor
from trellis.errors import BadRequest, ServiceUnavailable
from trellis.identity.auth import require_actor
from trellis.metadata.service import MetadataService
from trellis.state import get_state

log = logging.getLogger(__name__)


@contextlib.contextmanager
def tenant_transaction() -> Iterator[tuple[Connection, Actor]]:
    """The authenticated actor and a transaction scoped to their tenant."""
    actor = require_actor()
    with request_transaction.tenant(get_state().database, actor.tenant_id) as connection:
        yield connection, actor


def metadata_service(
    connection: Connection, actor: Actor, right: str = "manage_metadata"
) -> MetadataService:
    return MetadataService(connection, actor, get_state().metadata_cache, right)


def flag(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in {"true", "false", "1", "0", "yes", "no"}:
        raise BadRequest(f"{name} must be true or false.", fields={name: "true or false"})
    return raw in {"true", "1", "yes"}


def nudge_worker(task: str, *args: str | int) -> None:
    """Ask a worker to run ``task`` now, for work already recorded in PostgreSQL (planned
    indexes, outbox events). If Redis is down nothing is lost: the periodic tasks
    (index reconciliation, the outbox sweep) pick the work up later, so the request
    does not wait for Redis: one quick try, and none while the breaker is open."""
    from flask import current_app

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
    nudge_worker("trellis.build_indexes", str(tenant_id))
