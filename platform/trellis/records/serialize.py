"""Records as JSON, built by PostgreSQL.

A record is a flat object: the system fields plus every active custom field (blank
ones as ``null``), computed fields (formulas, roll-ups) included; or, with a
:class:`~trellis.records.projection.Projection`, the system fields and the fields it
names, lookups it expands as objects of their record's fields. Building it in SQL
lets list pages stream rows straight into the response body with no decode/encode
round trip in Python, computes formulas and roll-ups where the data lives, and
gives reads, lists, creates and updates (through ``RETURNING``) one identical
serialisation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from trellis.access.gate import Access
from trellis.metadata.compiled import SYSTEM_COLUMNS, ObjectSchema, TenantSchema
from trellis.metadata.formulas import SqlResolver
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.projection import Projection

SYSTEM_JSON = (
    "'id', id, 'version', version, 'created_at', created_at, "
    "'updated_at', updated_at, 'created_by', created_by, "
    "'updated_by', updated_by, 'owner_id', owner_id"
)
# jsonb_build_object takes at most 100 arguments: build larger objects in chunks.
PAIRS_PER_CALL = 40


def record_json(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    projection: Projection | None = None,
) -> sa.ColumnElement:
    """A ``jsonb`` expression for one ``records`` row of ``obj`` (every field, or the system
    fields and ``projection``) as ``access`` may read it: fields that field-level security
    hides are absent, and formulas, roll-ups and expanded lookups reach only related
    records the reader may read. Built once per revision, projection and access shape."""
    return schema.statements.get(
        StatementKey(
            Statement.RECORD_JSON, obj.id, (access.actor.tenant_id, projection, access.shape)
        ),
        lambda: _record_json(obj, schema, access, projection),
    )


def _record_json(
    obj: ObjectSchema, schema: TenantSchema, access: Access, projection: Projection | None
) -> sa.ColumnElement:
    resolver = schema.formulas.sql(obj, access.actor.tenant_id, gate=access.readable)
    unreadable = access.unreadable_fields(obj)
    if projection is not None:
        system = sa.literal_column(f"jsonb_build_object({SYSTEM_JSON})", JSONB)
        pairs = _pairs(resolver, projection)
        return system.op("||")(_build(pairs)) if pairs else system
    stored = [
        name for name, field in obj.fields.items() if field.type.stored and name not in unreadable
    ]
    template = json.dumps(dict.fromkeys(stored))
    hidden = ", ".join(f"'{name}'" for name in sorted(obj.hidden_fields | unreadable))
    data = f"(data - ARRAY[{hidden}]::text[])" if hidden else "data"
    expression: sa.ColumnElement = sa.literal_column(
        f"('{template}'::jsonb || {data} || jsonb_build_object({SYSTEM_JSON}))", JSONB
    )
    computed = [
        (name, resolver.field(name))
        for name, field in obj.fields.items()
        if not field.type.stored and name not in unreadable
    ]
    if computed:
        expression = expression.op("||")(_build(computed))
    return expression


def _pairs(resolver: SqlResolver, projection: Projection) -> list[tuple[str, sa.ColumnElement]]:
    """(name, value) of each projected field of the resolver's row; stored values as
    stored, computed ones computed, expanded lookups as objects. The projection was
    checked against field-level security as it was parsed."""
    pairs = []
    for name in projection.fields:
        nested = projection.expansion(name)
        value: sa.ColumnElement
        if nested is not None:
            value = _expanded(resolver, name, nested)
        elif name in SYSTEM_COLUMNS or resolver.obj.fields[name].type.computed:
            value = resolver.field(name)
        else:
            value = sa.literal_column(f"{resolver.table}.data->'{name}'")
        pairs.append((name, value))
    return pairs


def _expanded(resolver: SqlResolver, lookup: str, projection: Projection) -> sa.ColumnElement:
    """A lookup as ``{"id": …}`` and the projected fields of its record, read by a
    correlated subquery through the reader's access gate: a record they may not read (or
    one in the recycle bin) is ``{"id": …}`` alone; a blank lookup stays null."""
    related, conditions = resolver.related(lookup)
    body = _build([("id", sa.literal_column(f"{related.table}.id")), *_pairs(related, projection)])
    found = (
        sa.select(body)
        .select_from(sa.text(f"records AS {related.table}"))
        .where(*conditions)
        .scalar_subquery()
    )
    _, key = resolver.related_key(lookup)
    return sa.case(
        (sa.literal_column(f"({key})").is_(None), sa.null()),
        else_=sa.func.coalesce(
            found, sa.literal_column(f"jsonb_build_object('id', {key})", JSONB), type_=JSONB
        ),
    )


def _build(pairs: list[tuple[str, sa.ColumnElement]]) -> sa.ColumnElement:
    parts: list[sa.ColumnElement] = []
    for start in range(0, len(pairs), PAIRS_PER_CALL):
        arguments: list[sa.ColumnElement] = []
        for name, value in pairs[start : start + PAIRS_PER_CALL]:
            arguments += [sa.literal_column(f"'{name}'"), value]
        parts.append(sa.func.jsonb_build_object(*arguments, type_=JSONB))
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(part)
    return expression


def record_json_text(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    projection: Projection | None = None,
) -> sa.ColumnElement:
    return sa.cast(record_json(obj, schema, access, projection), sa.Text)


def page_body(rows: Iterable[str], next_cursor: str | None, total: int | None) -> str:
    """The list response, assembled from rows PostgreSQL already rendered as JSON."""
    tail = f',"next_cursor":{json.dumps(next_cursor)}'
    if total is not None:
        tail += f',"total":{total}'
    return '{"data":[' + ",".join(rows) + "]" + tail + "}"


class SavedRecord(dict):
    """A record as the records service returns it: the dict, and the JSON text PostgreSQL
    rendered it as, which an API response sends as it is rather than encode the dict
    again. Callers that change the dict must not send the text."""

    def __init__(self, text: str) -> None:
        super().__init__(json.loads(text))
        self.text = text
