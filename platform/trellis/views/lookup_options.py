"""The records a lookup field may point at, as a form offers them: by name, only those
the user may read (the access gate in every statement, field-level security on the
name), through the records service's own reads.

- :func:`matching_records`: what the type-ahead answers for the text typed (search by
  every word of the name, names starting with the first word first), or the first
  records by name for no text;
- :func:`first_records`: the plain ``<select>`` a form shows without JavaScript, when
  the target has few enough records to list (else the form asks for the record's id);
- :func:`record_name`: the name of the record a lookup holds, for the form to show.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from trellis.access.gate import Access
from trellis.errors import Forbidden, NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.records.names import readable_name_field
from trellis.records.projection import Projection
from trellis.records.query import list_page, parse_list_request
from trellis.records.search import search_names, search_words
from trellis.records.service import RecordService
from trellis.views.shell import Screen

# A form without JavaScript lists at most this many records in a lookup's <select>.
LISTED_RECORDS = 100
# The type-ahead offers at most this many records at a time.
MATCHES = 10


@dataclasses.dataclass(frozen=True)
class Option:
    """One choice of a form control: the value it sends and the words it shows."""

    value: str
    label: str


def _readable(access: Access, target: ObjectSchema) -> bool:
    return access.rights.has(target.api_name, "read")


def first_records(current: Screen, target: ObjectSchema, limit: int) -> tuple[list[Option], bool]:
    """The first ``limit`` records of ``target`` by name the user may read, and whether
    there are more."""
    if not _readable(current.access, target):
        return [], False
    name = readable_name_field(target, current.access)
    args: dict[str, list[str]] = {"limit": [str(limit + 1)], "sort": [name or "id"]}
    if name is not None:
        args["fields"] = [name]
    query = parse_list_request(target, current.schema, current.access, args)
    rows: list[dict[str, Any]] = json.loads(
        list_page(current.connection, current.access, current.schema, target, query)
    )["data"]
    options = [
        Option(str(row["id"]), str(row.get(name) or row["id"]) if name else str(row["id"]))
        for row in rows[:limit]
    ]
    return options, len(rows) > limit


def matching_records(
    current: Screen, target: ObjectSchema, text: str, limit: int = MATCHES
) -> tuple[list[Option], bool]:
    """The records of ``target`` the user may read whose name holds every word of
    ``text`` (the first by name for no words), and whether there are more."""
    words = search_words(text)
    if not words:
        return first_records(current, target, limit)
    groups = search_names(
        current.connection, current.access, current.schema, [target], words, limit
    )
    if not groups:
        return [], False
    return [Option(str(hit.id), hit.name) for hit in groups[0].hits], groups[0].more


def record_name(current: Screen, target: ObjectSchema, record_id: str) -> str | None:
    """The name of the ``target`` record ``record_id`` (its id when the user may not read
    its name field); None when the user may not read the record."""
    name = readable_name_field(target, current.access)
    service = RecordService(
        current.connection, current.actor, current.schema, target, access=current.access
    )
    try:
        text, _ = service.get_json(record_id, Projection((name,)) if name else None)
    except (NotFound, Forbidden):
        return None
    record = json.loads(text)
    return str(record.get(name) or record["id"]) if name else str(record["id"])
