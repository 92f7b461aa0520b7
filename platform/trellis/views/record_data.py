"""What a record page reads, all through the records service and the list query with the
reader's access, as the API reads it: the record (with its lookups named), the rows of
its related lists, the names of the users and related records it mentions, its history
and the automation runs that touched it.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable
from typing import Any

from trellis.automation.run_log import record_runs
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.layouts import RelatedList
from trellis.metadata.user_paths import user_object
from trellis.records.history import HistoryEntry, history_page
from trellis.records.names import readable_name_field
from trellis.records.projection import parse_projection
from trellis.records.query import list_page, parse_list_request
from trellis.records.service import RecordService
from trellis.views.record_layout import projection_paths
from trellis.views.shell import Screen

#: The most runs the page lists (the run log has the rest).
RUNS_SHOWN = 10
#: The most records of one object the page names in one read.
NAMES_PER_READ = 200


@dataclasses.dataclass(frozen=True)
class RelatedRows:
    related: RelatedList
    rows: list[dict[str, Any]]
    total: int


def read_record(
    current: Screen, obj: ObjectSchema, record_id: str, fields: list[Any]
) -> tuple[dict[str, Any], int]:
    """The record as the reader may read it, with ``fields`` and their lookups named, and
    its version; a record they may not read is not found (a 404)."""
    paths = projection_paths(current.schema, obj, current.access, fields)
    projection = parse_projection(obj, current.schema, current.access, [",".join(paths)])
    text, version = service_for(current, obj).get_json(record_id, projection)
    return json.loads(text), version


def service_for(current: Screen, obj: ObjectSchema) -> RecordService:
    return RecordService(
        current.connection, current.actor, current.schema, obj, access=current.access
    )


def related_rows(current: Screen, related: RelatedList, record_id: str) -> RelatedRows:
    """The first rows of a related list and how many the reader may see, read by the list
    query with the lookup as its filter (``/o/<Child>?<Lookup>=<id>`` lists them all)."""
    child = related.object
    paths = projection_paths(current.schema, child, current.access, list(related.columns))
    args = {
        related.lookup.api_name: [record_id],
        "sort": [related.sort],
        "limit": [str(related.limit)],
        "count": ["true"],
    }
    if paths:
        args["fields"] = [",".join(paths)]
    query = parse_list_request(child, current.schema, current.access, args)
    page = json.loads(list_page(current.connection, current.access, current.schema, child, query))
    return RelatedRows(related, page["data"], page["total"])


def record_names(
    current: Screen, obj: ObjectSchema, ids: Iterable[Any]
) -> dict[str, dict[str, Any]]:
    """Records of ``obj`` by id as lookups show them (``{"id", <name field>}``), for
    those the reader may read; ids of others are missing (shown as restricted)."""
    wanted = sorted({str(each) for each in ids if each})[:NAMES_PER_READ]
    name = readable_name_field(obj, current.access)
    if not wanted or not current.access.rights.has(obj.api_name, "read"):
        return {}
    args = {"id__in": [",".join(wanted)], "limit": [str(len(wanted))]}
    args["fields"] = [name or "id"]
    query = parse_list_request(obj, current.schema, current.access, args)
    page = json.loads(list_page(current.connection, current.access, current.schema, obj, query))
    return {
        row["id"]: {"id": row["id"], **({name: row.get(name)} if name else {})}
        for row in page["data"]
    }


def user_names(current: Screen, ids: Iterable[Any]) -> dict[str, str]:
    """Users' names by id, where the reader may read User records and their names."""
    user = user_object(current.schema)
    if user is None:
        return {}
    name = readable_name_field(user, current.access)
    found = record_names(current, user, ids)
    return {key: str(value.get(name) or "") for key, value in found.items() if name}


@dataclasses.dataclass(frozen=True)
class History:
    entries: list[HistoryEntry]
    #: Related records named by the lookups' old and new values, by id.
    related: dict[str, dict[str, Any]]
    more: bool


def read_history(current: Screen, obj: ObjectSchema, record_id: str) -> History:
    entries, next_cursor = history_page(service_for(current, obj), record_id)
    by_target: dict[str, set[str]] = {}
    for entry in entries:
        for name, change in entry.changes.items():
            field = obj.find(name)
            if field is not None and field.type.references_records:
                target = str(field.definition["target"]).lower()
                by_target.setdefault(target, set()).update(str(v) for v in change if v)
    related: dict[str, dict[str, Any]] = {}
    for target, ids in by_target.items():
        target_obj = current.schema.objects.get(target)
        if target_obj is not None:
            related.update(record_names(current, target_obj, ids))
    return History(entries, related, next_cursor is not None)


def read_runs(current: Screen, obj: ObjectSchema, record_id: str) -> list[Any] | None:
    """The automation runs that touched the record, for those who manage automations (the
    run log names automations and carries their errors, which may quote other records);
    None for everyone else."""
    if not current.actor.has_right("manage_automations"):
        return None
    return record_runs(current.connection, obj.id, uuid.UUID(record_id), RUNS_SHOWN)
