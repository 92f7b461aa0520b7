"""The statements of record writes: each write is one statement, one round trip.

A create inserts its records, their lookups' references, their field-level history and
their outbox events in a single statement (data-modifying CTEs over the elements of one
JSON array parameter, one element per record), however many records it has; an update, delete or
restore logs its history row and event in one. What a write logs is defined once, in
:func:`_logged`, for both.

For PostgreSQL (and the driver) one statement of N rows costs far less than 3N
statements, even pipelined: no per-statement parse, bind, plan or result round.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from trellis.errors import PreconditionFailed
from trellis.records.search_terms import terms_cte
from trellis.records.tables import events, record_history, record_refs, records

_UUID = UUID(as_uuid=True)


# A SQL type, as a class or as a configured instance (what ``sa.cast`` takes).
SqlType = sa.types.TypeEngine | type[sa.types.TypeEngine]


def _scalar(name: str, type_: SqlType) -> sa.ColumnElement:
    # Cast, so that a NULL (a system actor, no chain) still has a type PostgreSQL can use.
    return sa.cast(sa.bindparam(name), type_)


def _array(name: str, type_: SqlType) -> sa.ColumnElement:
    return sa.cast(sa.bindparam(name), ARRAY(type_))


def _key(name: str) -> sa.ColumnElement:
    # A literal key: jsonb_build_object's "any" arguments cannot take untyped parameters.
    return sa.literal_column(f"'{name}'")


def _logged(entries: sa.CTE) -> list[sa.CTE]:
    """History rows and outbox events for ``entries`` (columns ``id``, ``action``,
    ``changes``, ``record``, ``prior``), as data-modifying CTEs.

    Parameters: ``tenant_id``, ``object_id``, ``actor_id``, ``object_name`` and ``chain``.
    An event carries the record as saved (and as it was), so after-save automations judge
    their conditions on the state that triggered them."""
    tenant, object_id = _scalar("tenant_id", _UUID), _scalar("object_id", _UUID)
    actor = _scalar("actor_id", _UUID)
    history = (
        record_history.insert()
        .from_select(
            ["tenant_id", "record_id", "object_id", "action", "changes", "actor_id"],
            sa.select(tenant, entries.c.id, object_id, entries.c.action, entries.c.changes, actor),
        )
        .cte("history")
    )
    payload = sa.func.jsonb_build_object(
        _key("object"),
        _scalar("object_name", sa.Text),
        _key("record_id"),
        sa.cast(entries.c.id, sa.Text),
        _key("changes"),
        entries.c.changes,
        _key("record"),
        entries.c.record,
        _key("prior"),
        entries.c.prior,
        _key("chain"),
        _scalar("chain", JSONB),
    )
    outbox = (
        events.insert()
        .from_select(
            ["tenant_id", "object_id", "record_id", "type", "actor_id", "payload"],
            sa.select(
                tenant,
                object_id,
                entries.c.id,
                _key("record.").op("||")(entries.c.action),
                actor,
                payload,
            ),
        )
        .cte("outbox")
    )
    return [history, outbox]


def create_statement(
    record_json_text: sa.ColumnElement, lookups: tuple[str, ...], searchable: bool = False
) -> sa.Select:
    """Insert records and log their creation; returns each record's ``id`` and ``json``.

    Parameters: ``rows``, a JSON array of ``{"id", "data", "owner_id"}``, one element per
    record, and those of :func:`_logged`. The values of the object's ``lookups`` fields
    become ``record_refs`` rows. The history of a new record lists every stored value as
    changed from blank. A ``searchable`` object's records get their search rows too
    (trellis.records.search_terms: the ``term_rows`` document)."""
    # One JSON document rather than arrays (jsonb[], uuid[]): the driver quotes and
    # escapes every element of an array parameter in Python, which took 15% of an
    # import's time in its profile (benchmarks/import_bench.py); one json.dumps of the
    # batch costs a seventh of that (9 ms against 63 ms per 1,000 records).
    arrays = (
        sa.func.jsonb_to_recordset(_scalar("rows", JSONB))
        .table_valued(
            sa.column("id", _UUID), sa.column("data", JSONB), sa.column("owner_id", _UUID)
        )
        .render_derived(name="arrays", with_types=True)
    )
    new = sa.select(arrays.c.id, arrays.c.data, arrays.c.owner_id).cte("new_records")
    actor = _scalar("actor_id", _UUID)
    saved = (
        records.insert()
        .from_select(
            ["tenant_id", "id", "object_id", "data", "owner_id", "created_by", "updated_by"],
            sa.select(
                _scalar("tenant_id", _UUID),
                new.c.id,
                _scalar("object_id", _UUID),
                new.c.data,
                new.c.owner_id,
                actor,
                actor,
            ),
        )
        .returning(records.c.id, record_json_text.label("json"))
        .cte("saved")
    )
    changes = sa.literal_column(
        "COALESCE((SELECT jsonb_object_agg(key, jsonb_build_array(NULL, value)) "
        "FROM jsonb_each(new_records.data)), '{}'::jsonb)",
        JSONB,
    )
    entries = sa.select(
        new.c.id,
        _key("created").label("action"),
        changes.label("changes"),
        new.c.data.label("record"),
        sa.cast(sa.null(), JSONB).label("prior"),
    ).cte("entries")
    writes = _logged(entries)
    if lookups:
        writes.append(_references(new, lookups))
    if searchable:
        writes.append(terms_cte())
    return sa.select(saved.c.id, saved.c.json).add_cte(*writes)


def _references(new: sa.CTE, lookups: tuple[str, ...]) -> sa.CTE:
    """The ``record_refs`` rows of the ``new`` records' set ``lookups``, as a CTE."""
    # The field names are fixed when the statement is built: a parameter with its value.
    names = sa.cast(sa.bindparam("lookups", list(lookups)), ARRAY(sa.Text))
    lookup = sa.func.unnest(names).table_valued("field").render_derived(name="lookup")
    target = new.c.data.op("->>")(lookup.c.field)
    return (
        record_refs.insert()
        .from_select(
            ["tenant_id", "source_id", "field", "target_id", "source_object_id"],
            sa.select(
                _scalar("tenant_id", _UUID),
                new.c.id,
                lookup.c.field,
                sa.cast(target, _UUID),
                _scalar("object_id", _UUID),
            ).where(target.is_not(None)),
        )
        .cte("refs")
    )


def _log_statement() -> sa.Select:
    entries = sa.select(
        _scalar("record_id", _UUID).label("id"),
        _scalar("action", sa.Text).label("action"),
        _scalar("changes", JSONB).label("changes"),
        _scalar("record", JSONB).label("record"),
        _scalar("prior", JSONB).label("prior"),
    ).cte("entries")
    return sa.select(sa.literal_column("1")).add_cte(*_logged(entries))


#: Log one update, delete or restore. Parameters: ``record_id``, ``action``, ``changes``,
#: ``record`` and ``prior`` (jsonb), and those of :func:`_logged`.
LOG = _log_statement()


def check_version(row: sa.Row, expected: int | None) -> None:
    """Optimistic concurrency: refuse a write made against an older version."""
    if expected is not None and row.version != expected:
        raise PreconditionFailed(
            f"The record changed since you read it (now version {row.version}); reload and retry.",
            code="stale_version",
        )
