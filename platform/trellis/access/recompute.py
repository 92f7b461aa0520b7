"""Share recomputation jobs: a whole object's rule shares rebuilt in the background.

A change to an object's sharing rules, to the role tree, to group memberships or to the
User record fields its criteria rules read (``Owner.Region``) queues a job in
``share_recomputes`` in the transaction of the change. Workers take queued jobs
(the beat task every few seconds, or :func:`run_pending` directly) and work through the
object's records in id order, one batch per transaction, recording progress and the last
record done, so a killed worker's job resumes where it stopped. Until a job finishes, the
records it has not reached keep their previous shares.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.sharing import fingerprint, sharing_rules, sync_rule_shares
from trellis.access.tables import share_recomputes
from trellis.db import Database
from trellis.identity.tables import tenants
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.metadata.user_paths import user_fields_read

BATCH = 5000
# A running job untouched this long belonged to a worker that died: it is taken again.
STALE_SECONDS = 300


def queue_recompute(
    connection: Connection, tenant_id: uuid.UUID, obj: ObjectSchema, reason: str
) -> int:
    return int(
        connection.execute(
            share_recomputes.insert()
            .values(
                tenant_id=tenant_id, object_id=obj.id, reason=reason, fingerprint=fingerprint(obj)
            )
            .returning(share_recomputes.c.id)
        ).scalar_one()
    )


def queue_changed_rules(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, names: Iterable[str]
) -> list[int]:
    """Queue a job for each named object whose rules differ from what its shares were
    last computed from (a new field or label leaves the shares alone)."""
    queued = []
    for name in names:
        obj = schema.objects.get(name.lower())
        if obj is None:
            continue
        last = connection.execute(
            sa.select(share_recomputes.c.fingerprint)
            .where(share_recomputes.c.object_id == obj.id)
            .order_by(share_recomputes.c.id.desc())
            .limit(1)
        ).scalar()
        if last is None and not sharing_rules(obj):
            continue
        if last != fingerprint(obj):
            queued.append(queue_recompute(connection, tenant_id, obj, "sharing rules changed"))
    return queued


def queue_membership_change(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, reason: str
) -> list[int]:
    """Queue a job for each object with owner-based rules: who owns "as a member of X"
    changed."""
    return [
        queue_recompute(connection, tenant_id, obj, reason)
        for obj in schema.objects.values()
        if any("owned_by" in rule for rule in sharing_rules(obj))
    ]


def queue_user_changes(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, changed: Iterable[str]
) -> list[int]:
    """Queue a job for each object whose criteria rules read one of the ``changed``
    fields of User records (``Owner.Region``): the records they share were not written,
    but their owners' records were."""
    changed = set(changed)
    return [
        queue_recompute(connection, tenant_id, obj, "users' records changed")
        for obj in schema.objects.values()
        if any(
            "criteria" in rule
            and not changed.isdisjoint(user_fields_read(schema, obj, rule["criteria"]))
            for rule in sharing_rules(obj)
        )
    ]


def run_pending(database: Database, cache: MetadataCache, batch: int = BATCH) -> int:
    """Run every queued (or abandoned) job of every tenant; the number of jobs finished."""
    with database.platform() as connection:
        tenant_ids = list(
            connection.execute(sa.select(tenants.c.id).where(tenants.c.active)).scalars()
        )
    finished = 0
    for tenant_id in tenant_ids:
        while (job_id := _claim(database, tenant_id)) is not None:
            _run(database, cache, tenant_id, job_id, batch)
            finished += 1
    return finished


def _claim(database: Database, tenant_id: uuid.UUID) -> int | None:
    """Take the oldest queued job; older queued jobs of the same object are superseded
    by newer ones, since the newest computes from the latest settings."""
    with database.tenant(tenant_id) as connection:
        connection.execute(
            sa.text(
                "UPDATE share_recomputes j SET status = 'superseded', finished_at = now() "
                "WHERE status = 'queued' AND EXISTS (SELECT FROM share_recomputes n "
                "WHERE n.object_id = j.object_id AND n.id > j.id AND n.status = 'queued')"
            )
        )
        return connection.execute(
            sa.text(
                "UPDATE share_recomputes SET status = 'running', "
                "started_at = coalesce(started_at, now()) WHERE id = ("
                "SELECT id FROM share_recomputes WHERE status = 'queued' OR (status = 'running' "
                "AND coalesce(touched_at, started_at) < now() - "
                f"interval '{STALE_SECONDS} seconds') "
                "ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id"
            )
        ).scalar()


def _run(
    database: Database, cache: MetadataCache, tenant_id: uuid.UUID, job_id: int, batch: int
) -> None:
    while True:
        with database.tenant(tenant_id) as connection:
            job = connection.execute(
                sa.select(share_recomputes).where(share_recomputes.c.id == job_id).with_for_update()
            ).one()
            schema = cache.get(connection, tenant_id)
            obj = next((o for o in schema.objects.values() if o.id == job.object_id), None)
            if obj is None:
                _finish(connection, job_id, "done")
                return
            if job.total is None:
                total = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM records WHERE tenant_id = :t AND object_id = :o "
                        "AND deleted_at IS NULL"
                    ),
                    {"t": tenant_id, "o": obj.id},
                ).scalar_one()
                connection.execute(
                    share_recomputes.update()
                    .where(share_recomputes.c.id == job_id)
                    .values(total=total)
                )
            ids = list(
                connection.execute(
                    sa.text(
                        "SELECT id FROM records WHERE tenant_id = :t AND object_id = :o "
                        "AND deleted_at IS NULL AND (CAST(:after AS uuid) IS NULL OR id > :after) "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"t": tenant_id, "o": obj.id, "after": job.after_id, "n": batch},
                ).scalars()
            )
            if not ids:
                _finish(connection, job_id, "done")
                return
            written = sync_rule_shares(connection, tenant_id, schema, obj, ids, recomputing=True)
            connection.execute(
                share_recomputes.update()
                .where(share_recomputes.c.id == job_id)
                .values(
                    done=share_recomputes.c.done + len(ids),
                    shares=share_recomputes.c.shares + written,
                    after_id=ids[-1],
                    touched_at=sa.func.now(),
                )
            )


def _finish(connection: Connection, job_id: int, status: str) -> None:
    connection.execute(
        share_recomputes.update()
        .where(share_recomputes.c.id == job_id)
        .values(status=status, finished_at=sa.func.now())
    )
