"""How Setup's object screens change metadata: through the same MetadataService the
metadata API uses (so validation, revisions and the audit trail are the API's), in a
savepoint of the screen's transaction, so a refused change leaves nothing behind and
the form can be shown again with its errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from trellis.metadata.compiled import forget_revision
from trellis.metadata.service import MetadataService
from trellis.outbox.worker_nudges import schedule_index_build
from trellis.state import get_state
from trellis.views.shell import Screen


def metadata_service(current: Screen) -> MetadataService:
    return MetadataService(current.connection, current.actor, get_state().metadata_cache)


class DryRun(Exception):
    """Raised inside :func:`savepoint` to roll back a change that was only tried."""


@contextlib.contextmanager
def savepoint(current: Screen) -> Iterator[None]:
    """A savepoint a refused (or tried) change rolls back; the metadata read afterwards
    is the transaction's again, not the rolled-back revision's."""
    try:
        with current.connection.begin_nested():
            yield
    except BaseException:
        forget_revision(current.connection)
        raise


def after_change(current: Screen) -> None:
    """Once the change has committed: have the indexes it planned built, as the API does."""
    schedule_index_build(current.actor.tenant_id)
