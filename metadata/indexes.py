"""Per-field partial expression indexes on the shared ``records`` table.

Fields marked ``indexed`` or ``unique``, and every lookup, get a B-tree index on the
field's typed expression, restricted to one tenant's object
(``WHERE tenant_id = … AND object_id = … AND deleted_at IS NULL``), which makes it as
fast as an index on a real column. A metadata change only *plans* indexes (rows in
``field_indexes`` with status ``building`` or ``dropping``) inside its transaction;
then, while the ``records`` table is small, the request that made the change builds
them with a plain ``CREATE INDEX`` (one scan; writes wait for it, briefly), and otherwise
a Celery task builds them ``CONCURRENTLY`` so that no write is blocked for long. An
index is ``ready`` as soon as it serves queries; its planner statistics follow from the
worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from trellis.metadata.compiled import TenantSchema
from trellis.metadata.tables import field_indexes

log = logging.getLogger(__name__)
BUILDER_LOCK = 0x7472656C6C6973  # "trellis": one index builder per database at a time


def index_specs(tenant_id: uuid.UUID, schema: TenantSchema) -> dict[str, dict]:
    """The indexes the current metadata asks for, by index name."""
    specs = {}
    for obj in schema.objects.values():
        for field in obj.fields.values():
            wanted = (
                field.definition.get("indexed")
                or field.definition.get("unique")
                or field.type.references_records
            )
            if (
                not wanted
                or field.sql_type is None
                or not field.type.sortable
                or field.type.computed
            ):
                continue
            unique = bool(field.definition.get("unique"))
            expression = field.sql_expression
            key = f"{tenant_id}:{obj.id}:{expression}:{unique}"
            name = "rx_" + hashlib.sha1(key.encode()).hexdigest()[:24]
            specs[name] = {
                "object_id": obj.id,
                "field": field.api_name,
                "is_unique": unique,
                "expression": expression,
            }
    return specs


def plan_indexes(connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema) -> bool:
    """Record which indexes to build or drop; return whether there is work for the builder."""
    wanted = index_specs(tenant_id, schema)
    existing = {row.index_name: row for row in connection.execute(sa.select(field_indexes))}
    work = False
    for name, spec in wanted.items():
        row = existing.get(name)
        if row is None or row.status == "dropping":
            connection.execute(
                sa.dialects.postgresql.insert(field_indexes)
                .values(
                    tenant_id=tenant_id,
                    index_name=name,
                    status="building",
                    **spec,
                )
                .on_conflict_do_update(
                    index_elements=["tenant_id", "index_name"],
                    set_={"status": "building", "error": None},
                )
            )
            work = True
    for name, row in existing.items():
        if name not in wanted and row.status != "dropping":
            connection.execute(
                field_indexes.update()
                .where(field_indexes.c.index_name == name)
                .values(status="dropping", updated_at=sa.func.now())
            )
            work = True
    return work


def index_ddl(tenant_id: uuid.UUID, name: str, spec: sa.Row, *, concurrently: bool = True) -> str:
    # Identifiers and UUIDs here come from validated metadata, never from request text.
    predicate = (
        f"tenant_id = '{uuid.UUID(str(tenant_id))}' AND "
        f"object_id = '{uuid.UUID(str(spec.object_id))}' AND deleted_at IS NULL"
    )
    columns = f"({spec.expression})" if spec.is_unique else f"({spec.expression}), id"
    unique = "UNIQUE " if spec.is_unique else ""
    how = "CONCURRENTLY " if concurrently else ""
    return (
        f"CREATE {unique}INDEX {how}IF NOT EXISTS {name} ON records ({columns}) WHERE {predicate}"
    )


class BuilderBusy(Exception):
    """Another index build is running; try again shortly."""


# How long a plain build waits for the writes in progress on ``records`` to finish: every
# write that arrives meanwhile queues behind it, so the wait is kept short, and a build
# that could not start is left to the concurrent path.
PLAIN_BUILD_LOCK_WAIT = "200ms"
LOCK_NOT_AVAILABLE = "55P03"


def records_heap_megabytes(connection: Connection) -> float:
    """Size of the ``records`` heap, which any build of a partial index on it reads whole
    (every tenant's rows): what a plain build's write lock lasts in proportion to."""
    return connection.execute(
        sa.text("SELECT pg_relation_size('records') / 1048576.0")
    ).scalar_one()


@contextlib.contextmanager
def _builder(owner_engine: Engine, tenant_id: uuid.UUID) -> Iterator[Connection]:
    """An autocommit owner connection holding the one builder lock.

    Builds run one at a time: two concurrent builds on ``records`` wait for each
    other's snapshots and can deadlock. The lock is only *tried* (a session blocked
    waiting for it would itself hold up the running build), so a busy builder raises
    :class:`BuilderBusy`.
    """
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not connection.execute(sa.select(sa.func.pg_try_advisory_lock(BUILDER_LOCK))).scalar():
            raise BuilderBusy()
        try:
            set_tenant_session(connection, tenant_id)
            yield connection
        finally:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(BUILDER_LOCK)))


def _pending(connection: Connection, tenant_id: uuid.UUID, statuses: list[str]) -> list[sa.Row]:
    return list(
        connection.execute(
            sa.select(field_indexes).where(
                field_indexes.c.tenant_id == tenant_id, field_indexes.c.status.in_(statuses)
            )
        )
    )


def build_small_indexes(owner_engine: Engine, tenant_id: uuid.UUID, plain_up_to_mb: float) -> None:
    """Right after a metadata change commits: build its planned indexes at once with a
    plain ``CREATE INDEX`` while ``records`` is at most ``plain_up_to_mb`` megabytes, so
    the field's index is ``ready`` when the change's request answers.

    Anything else is left for the worker, which is nudged anyway: drops, builds on a
    larger table, a build that could not take its lock at once, a busy builder, and the
    planner statistics of the new indexes (an ``ANALYZE`` of the whole table, seconds
    at a million rows, which a request should not wait for).
    """
    try:
        with _builder(owner_engine, tenant_id) as connection:
            if records_heap_megabytes(connection) > plain_up_to_mb:
                return
            for row in _pending(connection, tenant_id, ["building"]):
                _build(connection, owner_engine, tenant_id, row, plain=True)
    except BuilderBusy:
        return


def build_pending_indexes(
    owner_engine: Engine, tenant_id: uuid.UUID, plain_up_to_mb: float = 0
) -> dict[str, str]:
    """Build or drop every pending index of a tenant; returns the final status by name.

    Builds are plain (one scan, and no waiting for older transactions) while
    ``records`` is at most ``plain_up_to_mb`` megabytes and ``CONCURRENTLY`` otherwise,
    or when a plain build could not take its lock at once. Every ready index then gets
    its planner statistics, outside the builder lock. Raises :class:`BuilderBusy` when
    another build is running.
    """
    results: dict[str, str] = {}
    with _builder(owner_engine, tenant_id) as connection:
        plain = records_heap_megabytes(connection) <= plain_up_to_mb
        for row in _pending(connection, tenant_id, ["building", "dropping"]):
            if row.status == "dropping":
                results[row.index_name] = _drop(connection, tenant_id, row)
                continue
            status = _build(connection, owner_engine, tenant_id, row, plain=plain)
            if status == "building":
                status = _build(connection, owner_engine, tenant_id, row, plain=False)
            results[row.index_name] = status
    # After the lock: an ANALYZE takes seconds at a million rows, and a request's plain
    # build should not find the builder busy for that long.
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for row in _pending(connection, tenant_id, ["ready"]):
            ensure_statistics(connection, row.expression)
    return results


def _where(tenant_id: uuid.UUID, row: sa.Row) -> sa.ColumnElement[bool]:
    return sa.and_(
        field_indexes.c.tenant_id == tenant_id, field_indexes.c.index_name == row.index_name
    )


def _drop(connection: Connection, tenant_id: uuid.UUID, row: sa.Row) -> str:
    connection.execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {row.index_name}"))
    connection.execute(
        field_indexes.delete().where(_where(tenant_id, row), field_indexes.c.status == "dropping")
    )
    return "dropped"


def _mark_ready(connection: Connection, tenant_id: uuid.UUID, row: sa.Row) -> None:
    connection.execute(
        field_indexes.update()
        .where(_where(tenant_id, row), field_indexes.c.status == "building")
        .values(status="ready", error=None, updated_at=sa.func.now())
    )


def _build(
    connection: Connection, owner_engine: Engine, tenant_id: uuid.UUID, row: sa.Row, plain: bool
) -> str:
    """Build one planned index; ``ready``, ``failed`` (with the reason recorded), or
    ``building`` when a plain build could not take its lock in time.

    A plain build and its ``ready`` commit in one transaction of their own, under a short
    lock wait; a concurrent one cannot run in a transaction, so it is marked afterwards.
    """
    try:
        if plain:
            with owner_engine.begin() as transaction:
                transaction.execute(sa.text(f"SET LOCAL lock_timeout = '{PLAIN_BUILD_LOCK_WAIT}'"))
                transaction.execute(
                    sa.text(index_ddl(tenant_id, row.index_name, row, concurrently=False))
                )
                _mark_ready(transaction, tenant_id, row)
            return "ready"
        connection.execute(sa.text(index_ddl(tenant_id, row.index_name, row)))
    except sa.exc.DBAPIError as error:
        if plain and getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return "building"
        _record_failure(connection, tenant_id, row, error)
        return "failed"
    _mark_ready(connection, tenant_id, row)
    return "ready"


def _record_failure(
    connection: Connection, tenant_id: uuid.UUID, row: sa.Row, error: sa.exc.DBAPIError
) -> None:
    # A failed concurrent build leaves an INVALID index behind; remove it.
    connection.execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {row.index_name}"))
    diagnostics = getattr(error.orig, "diag", None)
    message = " ".join(
        part
        for part in (
            getattr(diagnostics, "message_primary", None) or str(error.orig).splitlines()[0],
            getattr(diagnostics, "message_detail", None),
        )
        if part
    )
    log.warning("index build failed", extra={"index": row.index_name, "error": message})
    connection.execute(
        field_indexes.update()
        .where(_where(tenant_id, row))
        .values(status="failed", error=message, updated_at=sa.func.now())
    )


def ensure_statistics(connection: Connection, expression: str) -> None:
    """Planner statistics on a field expression, shared by every tenant's field of that
    name and type.

    PostgreSQL ignores the statistics of *partial* indexes when it estimates how many
    rows a condition matches, so without these it guesses (0.5 % for an equality), and
    for a filtered, sorted page it then prefers the filter's index plus a sort of every
    match over walking the sort field's index: 25 ms instead of 0.4 ms on 100,000
    records, and ten times worse at a million. The statistics object also relates the
    expression to the tenant and object columns (``dependencies, mcv``), since one
    object's values are what a condition on that object selects.
    """
    name = "rs_" + hashlib.sha1(expression.encode()).hexdigest()[:24]
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_statistic_ext WHERE stxname = :name"), {"name": name}
    ).first()
    if exists is not None:
        return
    connection.execute(
        sa.text(
            f"CREATE STATISTICS IF NOT EXISTS {name} (dependencies, mcv) "
            f"ON tenant_id, object_id, ({expression}) FROM records"
        )
    )
    connection.execute(sa.text("ANALYZE records"))  # sampled: about a second at 1M rows


def set_tenant_session(connection: Connection, tenant_id: uuid.UUID) -> None:
    """Session-level tenant (no transaction to scope it to on an autocommit connection)."""
    connection.execute(sa.select(sa.func.set_config("trellis.tenant_id", str(tenant_id), False)))


def index_status(connection: Connection, object_id: uuid.UUID) -> dict[str, dict]:
    """Index status by field name for one object, for the metadata API."""
    rows = connection.execute(
        sa.select(field_indexes).where(
            field_indexes.c.object_id == object_id, field_indexes.c.status != "dropping"
        )
    )
    return {
        row.field: {"status": row.status, "unique": row.is_unique, "error": row.error}
        for row in rows
    }
