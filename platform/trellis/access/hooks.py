"""The access package's part in changes made by layers below it: metadata revisions are
recorded by trellis.metadata, which cannot import this package, so it announces each one
through a hook. Here the revision is audited and, where an object's sharing rules
changed, a share recomputation is queued, both in the same transaction."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.access.recompute import queue_changed_rules
from trellis.actor import Actor
from trellis.hookspecs import hookimpl
from trellis.metadata.compiled import TenantSchema


@hookimpl
def metadata_revision_recorded(
    connection: Connection,
    actor: Actor,
    revision: int,
    message: str,
    objects: list[str],
    schema: TenantSchema,
) -> None:
    """One ``metadata.changed`` event per revision, naming the revision; and a share
    recomputation for each object whose sharing rules the revision changed."""
    record_audit(
        connection,
        actor,
        "metadata.changed",
        target_type="metadata_revision",
        target_id=str(revision),
        details={"revision": revision, "message": message, "objects": objects},
    )
    if objects:
        queue_changed_rules(connection, actor.tenant_id, schema, objects)
