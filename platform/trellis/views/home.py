"""The home page: the user's recent records and their open tasks.

Open tasks are records of the workspace's ``Task`` object (when it has one and the user
may read it) that the user owns and that are not done: a ``Completed`` checkbox that is
not ticked, and a ``Status`` picklist whose value is not a closed one (Completed,
Closed, Done, Cancelled, or any value starting with "Closed"), soonest ``DueDate``
first. They are read through the list path, so the access gate, field-level security
and the per-field indexes apply as they do to every list.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.names import readable_name_field
from trellis.records.query import list_page, parse_list_request
from trellis.records.recent import recent_views
from trellis.views.recent import RECENT_SHOWN
from trellis.views.shell import screen

TASK_OBJECT = "Task"
CLOSED_STATUSES = frozenset({"completed", "closed", "done", "cancelled", "canceled"})
TASKS_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class OpenTasks:
    object: ObjectSchema
    rows: list[dict[str, Any]]
    total: int
    # The fields shown, where the object has them and the reader may read them.
    name_field: str | None
    due_field: str | None
    status_field: str | None


def closed_statuses(field: dict[str, Any]) -> list[str]:
    """The values of a status picklist (its definition) that mean the task is done."""
    values = (
        item if isinstance(item, str) else item.get("value") for item in field.get("values") or ()
    )
    return [
        value
        for value in values
        if isinstance(value, str)
        and (value.lower() in CLOSED_STATUSES or value.lower().startswith("closed"))
    ]


def _readable(obj: ObjectSchema, access: Access, name: str, type_name: str) -> str | None:
    """The API name of ``obj``'s field ``name`` when it is of ``type_name`` and readable."""
    field = obj.find(name)
    if field is None or field.type.name != type_name:
        return None
    return None if field.api_name in access.unreadable_fields(obj) else field.api_name


def open_tasks(
    connection: Connection, access: Access, schema: TenantSchema, limit: int = TASKS_SHOWN
) -> OpenTasks | None:
    """The reader's open tasks, soonest due first, and how many they have; None when the
    workspace has no Task object the reader may read."""
    obj = schema.objects.get(TASK_OBJECT.lower())
    if obj is None or access.actor.user_id is None or not access.rights.has(obj.api_name, "read"):
        return None
    args = {"owner_id": [str(access.actor.user_id)], "limit": [str(limit)], "count": ["true"]}
    completed = _readable(obj, access, "Completed", "checkbox")
    if completed is not None:
        args[f"{completed}__ne"] = ["true"]
    status = _readable(obj, access, "Status", "picklist")
    closed = closed_statuses(obj.field(status).definition) if status is not None else []
    if status is not None and closed:
        args[f"{status}__ne"] = closed
    due = _readable(obj, access, "DueDate", "date")
    args["sort"] = [due or "created_at"]
    name = readable_name_field(obj, access)
    shown = [field for field in (name, due, status) if field is not None]
    if shown:
        args["fields"] = [",".join(shown)]
    query = parse_list_request(obj, schema, access, args)
    page = json.loads(list_page(connection, access, schema, obj, query))
    return OpenTasks(obj, page["data"], page["total"], name, due, status)


def home_page() -> ResponseReturnValue:
    with screen() as current:
        recent = recent_views(current.connection, current.access, current.schema, RECENT_SHOWN)
        tasks = open_tasks(current.connection, current.access, current.schema)
    return render_template("home.html", actor=current.actor, recent=recent, tasks=tasks)
