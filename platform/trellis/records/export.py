"""CSV export: the records of a list request as CSV text, streamed chunk by chunk.

The rows are read through the list query exactly as the list API reads them (filters,
sort, the access gate's predicate, field-level security), a chunk at a time with the
query's keyset cursor: an export of a million records holds one chunk in memory, and
each chunk is one statement. Cells are written in the one CSV format export and import
share (trellis.records.csv_format), under the field labels, after an "Id" column, so
the file can be imported again as it is.

Columns are the object's own fields (stored or computed) the exporter may read; a
lookup's cell is the related record's name. Related records' fields (``Account.Name``)
and system columns are left out: an import could not write them back.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.access.gate import Access
from trellis.db import Database
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.csv_format import ID_HEADER, cell_for, header_of
from trellis.records.filters import Condition
from trellis.records.names import readable_name_field
from trellis.records.query import MAX_LIMIT, list_page, parse_list_request
from trellis.records.tables import records

EXPORT_RIGHT = "export"
CHUNK = MAX_LIMIT
# At most this many ids in one selection (the list screen's "selected" form).
MAX_SELECTED = 10_000
# List arguments the export sets itself (and the API's own ``ids``).
OWN_ARGUMENTS = frozenset({"fields", "limit", "cursor", "count", "ids"})


@dataclasses.dataclass(frozen=True)
class ExportColumn:
    field: CompiledField
    header: str
    #: A lookup's related name field, read from the expanded value.
    name_key: str | None = None

    def cell(self, row: Mapping[str, Any]) -> str:
        value = row.get(self.field.api_name)
        if isinstance(value, dict):  # a lookup, expanded to the related record's name
            value = value.get(self.name_key or "id") or value.get("id")
        return cell_for(self.field, value)


def export_columns(
    obj: ObjectSchema, schema: TenantSchema, access: Access, names: Iterable[str] | None = None
) -> list[ExportColumn]:
    """The columns of an export of ``names`` (every field, in the object's order, when
    None): own fields the reader may read, each once; anything else is left out."""
    hidden = access.unreadable_fields(obj)
    wanted = list(obj.fields) if names is None else list(names)
    columns: list[ExportColumn] = []
    seen: set[str] = set()
    for name in wanted:
        field = obj.find(name) if "." not in name else None
        if field is None or field.api_name in hidden or field.api_name in seen:
            continue
        seen.add(field.api_name)
        name_key = None
        if field.type.references_records:
            target = schema.objects.get(str(field.definition.get("target", "")).lower())
            name_key = readable_name_field(target, access) if target is not None else None
        columns.append(ExportColumn(field, header_of(field), name_key))
    return columns


def selected(ids: Iterable[uuid.UUID]) -> Condition:
    """A list condition keeping only the records ``ids`` names (a selection)."""
    chosen = list(dict.fromkeys(ids))[:MAX_SELECTED]
    return Condition(
        ("selected_ids",),
        lambda: (
            records.c.id
            == sa.any_(sa.bindparam("selected_ids", None, type_=ARRAY(UUID(as_uuid=True))))
        ),
        {"selected_ids": chosen},
    )


@dataclasses.dataclass(frozen=True)
class Export:
    """What to export: the list request's arguments (filters, ``where=``, ``sort=``; its
    ``fields``, ``limit`` and ``cursor`` are the export's own), the columns, and extra
    conditions (a selection)."""

    obj: ObjectSchema
    arguments: Mapping[str, list[str]]
    columns: list[ExportColumn]
    extra: tuple[Condition, ...] = ()

    @property
    def filters(self) -> dict[str, list[str]]:
        """The request's filters, search and sort: its arguments but the export's own."""
        return {
            key: list(values) for key, values in self.arguments.items() if key not in OWN_ARGUMENTS
        }

    def request_arguments(self, chunk: int) -> dict[str, list[str]]:
        paths = ["id"]
        for column in self.columns:
            paths.append(column.field.api_name)
            if column.name_key is not None:
                paths.append(f"{column.field.api_name}.{column.name_key}")
        arguments = self.filters
        arguments["fields"] = [",".join(paths)]
        arguments["limit"] = [str(chunk)]
        return arguments


def check_export(
    connection: Connection, access: Access, schema: TenantSchema, export: Export
) -> None:
    """Refuse an export the reader may not make, or whose request is wrong, before any
    of it is sent (a stream cannot turn into an error page half way): a 403 without
    the export right, a 400 for a wrong filter or sort. An allowed export is audited
    (``records.exported``, with its filters and columns)."""
    access.actor.require_right(EXPORT_RIGHT)
    request = parse_list_request(
        export.obj, schema, access, export.request_arguments(1), list(export.extra)
    )
    list_page(connection, access, schema, export.obj, request)
    record_audit(
        connection,
        access.actor,
        "records.exported",
        target_type=export.obj.api_name,
        details={
            "columns": [column.field.api_name for column in export.columns],
            "filters": export.filters,
            "selected": bool(export.extra),
        },
    )


def stream(
    database: Database, access: Access, schema: TenantSchema, export: Export, chunk: int = CHUNK
) -> Iterator[str]:
    """The export's CSV text, piece by piece, read in a transaction of its own: a
    streamed response's body is sent after the request's own transaction has ended."""
    with database.tenant(access.actor.tenant_id) as connection:
        yield from csv_lines(connection, access, schema, export, chunk)


def file_name(obj: ObjectSchema) -> str:
    """The downloaded file's name: ``Opportunity-2026-03-31.csv``."""
    return f"{obj.api_name}-{dt.date.today().isoformat()}.csv"


def csv_lines(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    export: Export,
    chunk: int = CHUNK,
) -> Iterator[str]:
    """The export as CSV text: the header row, then one piece per chunk of records."""
    yield _rows([[ID_HEADER, *(column.header for column in export.columns)]])
    arguments = export.request_arguments(chunk)
    for rows in pages(connection, access, schema, export.obj, arguments, export.extra):
        yield _rows(
            [str(row["id"]), *(column.cell(row) for column in export.columns)] for row in rows
        )


def pages(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    arguments: Mapping[str, list[str]],
    extra: Iterable[Condition] = (),
) -> Iterator[list[dict[str, Any]]]:
    """The rows of a list request (its ``limit`` a page's size), page after page through
    the list query's keyset cursor: each page one statement, none kept after it."""
    cursor: str | None = None
    while True:
        request = parse_list_request(
            obj,
            schema,
            access,
            {**arguments, **({"cursor": [cursor]} if cursor else {})},
            list(extra),
        )
        body = json.loads(
            list_page(connection, access, schema, obj, request), parse_float=decimal.Decimal
        )
        if body["data"]:
            yield body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return


def _rows(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
