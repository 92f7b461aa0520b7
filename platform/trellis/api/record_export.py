"""``GET /api/v1/objects/<api_name>/records.csv``: the records a list request names, as
a CSV file (docs/csv.md), streamed.

It takes the list endpoint's filters, ``where=`` and ``sort=``; ``fields=`` names the
columns (the object's own fields, comma-separated; every readable one by default) and
``ids=`` (comma-separated) keeps only those records. It needs the ``export`` right
(trellis.records.export), and exports only what the caller may read.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from trellis.access.gate import Access
from trellis.api.context import tenant_transaction
from trellis.downloads import streamed_csv
from trellis.errors import BadRequest
from trellis.records import export
from trellis.records.batch import record_ids
from trellis.records.filters import Condition
from trellis.state import get_state


def export_records(api_name: str) -> ResponseReturnValue:
    arguments = request.args.to_dict(flat=False)
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        access = Access.of(actor, schema)
        obj = schema.object(api_name)
        names = _listed(arguments.get("fields"))
        columns = export.export_columns(obj, schema, access, names)
        shown = {column.field.api_name.lower() for column in columns}
        for name in names or ():
            if name.lower() not in shown:
                raise BadRequest(
                    f"Cannot export {name!r}: name {obj.api_name}'s own fields.",
                    code="unknown_field",
                    fields={"fields": f"{obj.api_name} has no field {name!r} to export."},
                )
        extra: tuple[Condition, ...] = ()
        if arguments.get("ids"):
            extra = (export.selected(record_ids(_listed(arguments["ids"]) or [])),)
        chosen = export.Export(obj, arguments, columns, extra)
        export.check_export(connection, access, schema, chosen)
    body = export.stream(get_state().database, access, schema, chosen)
    return streamed_csv(body, export.file_name(obj))


def _listed(values: list[str] | None) -> list[str] | None:
    """``a,b`` (given once or more) as ``[a, b]``; None when not given."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule(
        "/objects/<api_name>/records.csv", view_func=export_records, methods=["GET"]
    )
