"""The OpenAPI description of ``/objects/<Object>/list-views`` (trellis.api.list_views)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    BOOLEAN,
    OPTIONAL_MOMENT,
    OPTIONAL_UUID,
    READ,
    REMOVE,
    TEXT,
    WRITE,
    array,
    data_of,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.records.list_views import (
    MAX_CARD_FIELDS,
    MAX_COLUMNS,
    MAX_FILTERS,
    MAX_LABEL,
    MAX_WIDTH,
    MIN_WIDTH,
    VISIBILITIES,
)

API_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,62}$"}
WIDTH = {"type": ["integer", "null"], "minimum": MIN_WIDTH, "maximum": MAX_WIDTH}
COLUMN = shape(
    {"field": {**TEXT, "description": "A field path, as fields= names it."}, "width": WIDTH},
    ["field", "width"],
)
FILTER = shape(
    {
        "field": TEXT,
        "operator": {**TEXT, "description": "One of the field type's operators."},
        "value": {
            **TEXT,
            "description": "As the list API's `Field__operator=value` takes it; "
            "`$User.Id` is the viewer, on user columns.",
        },
    },
    ["field", "operator", "value"],
)
VISIBILITY = {"enum": list(VISIBILITIES)}
BOARD = {
    "type": ["object", "null"],
    "description": "The view as a kanban board (null: none): a column per value of the "
    "picklist group_by, cards showing card_fields, each column's sum of summary_field.",
    "properties": {
        "group_by": {**TEXT, "description": "A picklist field of the object."},
        "card_fields": array(TEXT, maxItems=MAX_CARD_FIELDS),
        "summary_field": {"type": ["string", "null"], "description": "A number field."},
    },
    "required": ["group_by"],
    "additionalProperties": False,
}


def openapi_schemas() -> dict[str, Any]:
    """``ListView`` (as its reader sees it), ``ListViewInput`` and ``ListViewPatch``."""
    label = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL}
    column_input = {
        "anyOf": [
            TEXT,
            shape({"field": TEXT, "width": WIDTH}, ["field"]),
        ]
    }
    filter_input = shape(
        {
            "field": TEXT,
            "operator": {**TEXT, "default": "eq"},
            "value": {"type": ["string", "number", "boolean", "null"]},
        },
        ["field"],
    )
    editable = {
        "label": label,
        "columns": array(column_input, minItems=1, maxItems=MAX_COLUMNS),
        "filters": array(filter_input, maxItems=MAX_FILTERS),
        "sort": {**TEXT, "description": "As the list API's sort= (-Amount,Name)."},
        "board": BOARD,
    }
    view = {
        "id": {**OPTIONAL_UUID, "description": "None for a generated view."},
        "api_name": API_NAME,
        "label": TEXT,
        "visibility": VISIBILITY,
        "generated": BOOLEAN,
        "owner_id": OPTIONAL_UUID,
        "columns": array(COLUMN),
        "filters": array(FILTER),
        "sort": TEXT,
        "board": BOARD,
        "updated_at": OPTIONAL_MOMENT,
    }
    return {
        "ListView": shape(view, view),
        "ListViewInput": shape(
            {"api_name": API_NAME, "visibility": {**VISIBILITY, "default": "private"}, **editable},
            ["api_name", "label"],
        ),
        "ListViewPatch": shape(editable),
    }


def list_view_paths(tag: str, title: str) -> dict[str, dict[str, Any]]:
    """The list views of one object: list and create, read, change and delete one."""
    base = f"/objects/{tag}/list-views"
    name = parameter("view_name", "path", TEXT, "The view's api_name.")
    view = ref("ListView")
    return {
        base: {
            "get": operation(
                f"list{title}ListViews",
                "List views",
                tag,
                200,
                data_of(view),
                errors=(403, 404),
            ),
            "post": operation(
                f"create{title}ListView",
                "Save a list view",
                tag,
                201,
                view,
                errors=WRITE,
                body=ref("ListViewInput"),
            ),
        },
        f"{base}/{{view_name}}": {
            "get": operation(
                f"get{title}ListView",
                "Read a list view",
                tag,
                200,
                view,
                errors=(*READ, 403),
                parameters=[name],
            ),
            "patch": operation(
                f"update{title}ListView",
                "Change a list view",
                tag,
                200,
                view,
                errors=WRITE,
                parameters=[name],
                body=ref("ListViewPatch"),
            ),
            "delete": operation(
                f"delete{title}ListView",
                "Delete a list view",
                tag,
                204,
                errors=REMOVE,
                parameters=[name],
            ),
        },
    }
