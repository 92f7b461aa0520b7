"""Save-time checks of a layout's related lists, against the tenant's metadata as it would
be with a change saved (beside the formula checks), in both directions: an object's own
related lists, and those of other objects that list its records, so that a lookup or a
column cannot be deleted from under a layout, as a field a roll-up or a formula reads
cannot. Each names a lookup of the child that points at the layout's object, and columns
and a sort of the child.
"""

from __future__ import annotations

from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import SYSTEM_COLUMNS, ObjectSchema, TenantSchema
from trellis.metadata.layouts import points_at

Errors = dict[str, list[str]]


def check_related_lists(schema: TenantSchema, changed: ObjectSchema) -> None:
    """Every related list that involves ``changed`` (on its own layout, or on another
    object's layout listing its records) names a lookup to the layout's object and
    columns and a sort of the child; raise :class:`ValidationError` otherwise."""
    errors: Errors = {}
    for obj in schema.objects.values():
        layout = obj.definition.get("layout")
        if not isinstance(layout, dict):
            continue
        prefix = "" if obj is changed else f"objects.{obj.api_name}."
        for tab in layout["tabs"]:
            for index, entry in enumerate(tab.get("related_lists", [])):
                involved = obj is changed or str(entry["object"]).lower() == (
                    changed.api_name.lower()
                )
                if involved:
                    place = f"{prefix}layout.tabs.{tab['name']}.related_lists.{index}"
                    _check_related_list(schema, obj, entry, place, errors)
    if errors:
        raise ValidationError("The layout's related lists are invalid.", fields=errors)


def _check_related_list(
    schema: TenantSchema, parent: ObjectSchema, entry: dict[str, Any], place: str, errors: Errors
) -> None:
    child = schema.objects.get(str(entry["object"]).lower())
    if child is None:
        errors[f"{place}.object"] = [f"No object {entry['object']!r}."]
        return
    lookup = child.find(entry["lookup"])
    if lookup is None or not points_at(lookup, parent):
        errors[f"{place}.lookup"] = [
            f"Name a lookup field of {child.api_name} that points at {parent.api_name}."
        ]
        return
    # Stored in the names' own spelling (only the saved object's entries are written).
    spelled: dict[str, Any] = {"object": child.api_name, "lookup": lookup.api_name}
    columns = entry.get("columns", [])
    for number, name in enumerate(columns):
        column = child.find(name)
        if column is None:
            errors[f"{place}.columns.{number}"] = [f"{child.api_name} has no field {name!r}."]
    if columns and not any(key.startswith(f"{place}.columns") for key in errors):
        spelled["columns"] = [child.field(name).api_name for name in columns]
    sort = str(entry.get("sort", ""))
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key and key.lower() not in SYSTEM_COLUMNS:
        field = child.find(key)
        if field is None or not field.type.sortable or field.sql_type is None:
            errors[f"{place}.sort"] = [
                f"Sort by a sortable field of {child.api_name} or a system column "
                "(created_at, updated_at), with - for descending."
            ]
        else:
            spelled["sort"] = f"{'-' if descending else ''}{field.api_name}"
    elif key:
        spelled["sort"] = f"{'-' if descending else ''}{key.lower()}"
    if not place.startswith("objects."):
        entry.update(spelled)
