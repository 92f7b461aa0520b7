"""The CSV export endpoint of one object in the OpenAPI document:
``GET /objects/{Object}/records.csv`` (trellis.api.record_export)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_list_parameters import list_parameters
from trellis.api.openapi_schema import READ, TEXT, operation, parameter
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.columns import Column
from trellis.records.export import OWN_ARGUMENTS

DESCRIPTION = (
    "The records the list endpoint's filters, `where=` and `sort=` name, as a CSV file "
    "streamed in chunks: an `Id` column, then one column per field headed by its label, "
    "in the format CSV import reads back (docs/csv.md). Needs the `export` right; fields "
    "and records you may not read are left out."
)


def export_operation(
    obj: ObjectSchema, schema: TenantSchema, columns: list[Column], title: str
) -> dict[str, Any]:
    """``GET .../records.csv``: the list's parameters but its paging, ``fields`` naming
    the columns and ``ids`` a selection."""
    listed = [
        each for each in list_parameters(obj, columns, schema) if each["name"] not in OWN_ARGUMENTS
    ]
    found = operation(
        f"export{title}Records",
        "Export records as CSV",
        obj.api_name,
        200,
        errors=READ,
        parameters=[
            parameter(
                "fields",
                "query",
                TEXT,
                "The fields to export, comma-separated (the object's own; default: every "
                "field you may read, in the object's order).",
            ),
            parameter("ids", "query", TEXT, "Only these records: comma-separated ids."),
            *listed,
        ],
    )
    found["description"] = DESCRIPTION
    found["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
    return found
