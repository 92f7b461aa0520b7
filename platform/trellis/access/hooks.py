"""The audit trail's part in changes made by layers below it: metadata revisions are
recorded by trellis.metadata, which cannot import this package, so it announces each one
through a hook and the event is written here, in the same transaction."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.hookspecs import hookimpl


@hookimpl
def metadata_revision_recorded(
    connection: Connection, actor: Actor, revision: int, message: str, objects: list[str]
) -> None:
    """One ``metadata.changed`` event per revision, naming the revision."""
    record_audit(
        connection,
        actor,
        "metadata.changed",
        target_type="metadata_revision",
        target_id=str(revision),
        details={"revision": revision, "message": message, "objects": objects},
    )
