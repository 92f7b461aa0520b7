"""From a file's cells to record values: each cell read as its field's type reads text
(as a list filter's value would be), lookups found by the related record's name or a
unique field among the records the actor may read, and the record an update targets
(by id, or by an upsert's key field).

A blank cell leaves the field out: a new record gets its default, an updated one keeps
its value.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.imports.mapping import BY_NAME, RECORD_ID, Column
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldValueError
from trellis.records.tables import records
from trellis.records.uniqueness import holders, stored_text

LIST_SEPARATOR = ";"
# How spreadsheets and the CSV export spell booleans (the type reads true and false).
BOOLEAN_WORDS = {"yes": True, "y": True, "1": True, "no": False, "n": False, "0": False}


@dataclasses.dataclass
class Row:
    """One data row: its number in the file (1 = first after the header), its cells, and
    what reading them gave: the values, the record it updates, or why it is refused."""

    number: int
    cells: list[str]
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    record_id: str | None = None
    errors: list[str] = dataclasses.field(default_factory=list)


def label(field: CompiledField) -> str:
    return str(field.definition.get("label") or field.api_name)


def _holds_lists(field: CompiledField) -> bool:
    """Whether ``field``'s values are lists (a multi-select picklist)."""
    kind = field.type.json_schema(field.definition).get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _typed(field: CompiledField, text: str, holds_lists: bool) -> Any:
    """A cell's value as its field's type reads text; several values of a list type
    (multi-select picklists) are separated by semicolons."""
    if holds_lists:
        parts = [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
        return field.normalize(parts)
    if field.sql_type == "boolean" and text.casefold() in BOOLEAN_WORDS:
        return field.normalize(BOOLEAN_WORDS[text.casefold()])
    return field.type.parse_filter_value(text, field.definition)


def read_cells(rows: list[Row], columns: list[Column], width: int) -> None:
    """Fill each row's values (and record id) from its cells; lookups come later."""
    # Once per column, not per cell: building a type's JSON schema (a picklist's values)
    # for every cell took typing 5,000 rows' cells from 0.30 s to 0.73 s (profile of
    # benchmarks/import_bench.py).
    lists = {column.index: _holds_lists(column.field) for column in columns if column.field}
    for row in rows:
        if len(row.cells) != width:
            row.errors.append(f"The row has {len(row.cells)} cells; the header has {width}.")
            continue
        for column in columns:
            text = row.cells[column.index].strip()
            if not text:
                continue
            if column.field is None:
                row.record_id = text
            elif column.match is not None:
                row.values[column.field.api_name] = text  # resolved by resolve_lookups
            else:
                try:
                    row.values[column.field.api_name] = _typed(
                        column.field, text, lists[column.index]
                    )
                except FieldValueError as error:
                    row.errors.append(f"{label(column.field)}: {error}")


def _matching(
    connection: Connection,
    access: Access,
    tenant_id: uuid.UUID,
    target: ObjectSchema,
    field_name: str,
    texts: Iterable[str],
) -> dict[str, list[str]]:
    """The ids of the live ``target`` records the actor may read whose ``field_name``
    reads as each of ``texts``."""
    value = records.c.data.op("->>")(field_name)
    query = sa.select(records.c.id, value.label("text")).where(
        records.c.tenant_id == tenant_id,
        records.c.object_id == target.id,
        records.c.deleted_at.is_(None),
        value.in_(sorted(set(texts))),
    )
    readable = access.readable(target, "records")
    if readable is not None:
        query = query.where(readable)
    found: dict[str, list[str]] = {}
    for record_id, text in connection.execute(query, access.parameters):
        found.setdefault(text, []).append(str(record_id))
    return found


def resolve_lookups(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    rows: list[Row],
    columns: list[Column],
) -> None:
    """Replace each lookup cell's text by the id of the one record it names."""
    tenant_id = access.actor.tenant_id
    for column in columns:
        if column.field is None or column.match is None:
            continue
        name, target = column.field.api_name, schema.object(column.field.definition["target"])
        by = target.name_field if column.match == BY_NAME else column.match
        wanted = [row for row in rows if not row.errors and name in row.values]
        found = _matching(
            connection, access, tenant_id, target, by, (r.values[name] for r in wanted)
        )
        what = "named" if column.match == BY_NAME else f"with {by}"
        for row in wanted:
            text = row.values[name]
            ids = found.get(text, [])
            if len(ids) == 1:
                row.values[name] = ids[0]
            elif not ids:
                row.errors.append(f"{label(column.field)}: no {target.api_name} {what} {text!r}.")
            else:
                row.errors.append(
                    f"{label(column.field)}: {len(ids)} {target.api_name} records are {what} "
                    f"{text!r}; match by a unique field."
                )


def find_existing(
    connection: Connection,
    access: Access,
    obj: ObjectSchema,
    rows: list[Row],
    key_field: str | None,
) -> None:
    """For an upsert by a unique field: the record each row's key value names, if any
    (the records service still checks that the actor may edit it)."""
    if key_field is None or key_field == RECORD_ID:
        return
    keyed = [row for row in rows if not row.errors and row.record_id is None]
    keyed = [row for row in keyed if row.values.get(key_field) is not None]
    texts: dict[str, list[Row]] = {}
    for row in keyed:
        texts.setdefault(stored_text(row.values[key_field]), []).append(row)
    if not texts:
        return
    found = holders(connection, access.actor.tenant_id, obj, obj.field(key_field), texts)
    for text, ids in found.items():
        for row in texts.get(text, ()):
            row.record_id = str(min(ids))
