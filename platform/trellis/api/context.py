"""Request glue shared by API views: the actor's tenant transaction and its services."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import request
from sqlalchemy.engine import Connection

from trellis import request_transaction
from trellis.actor import Actor
from trellis.errors import BadRequest
from trellis.identity.auth import require_actor
from trellis.metadata.service import MetadataService
from trellis.outbox.worker_nudges import nudge_worker, schedule_index_build
from trellis.state import get_state

__all__ = ["flag", "metadata_service", "nudge_worker", "schedule_index_build", "tenant_transaction"]


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
