"""Save-time checks of an object's ``layout`` beyond its JSON shape, that need only the
definition (from trellis.metadata.documents.validate_object): the fields it names are the
object's own and active, each at most once, and the path is a picklist. Its related lists
need the other objects: trellis.metadata.related_list_checks.
"""

from __future__ import annotations

from typing import Any

from trellis.metadata.field_types import FieldType, FieldTypeRegistry

#: The system columns a layout may show, with their labels on the page.
SYSTEM_ITEMS = {"owner_id": "Owner", "created_at": "Created", "updated_at": "Last modified"}
#: The tab every record page ends with; no layout tab may take its name.
HISTORY_TAB = "history"

Errors = dict[str, list[str]]


def check_layout(definition: dict[str, Any], registry: FieldTypeRegistry, errors: Errors) -> None:
    """Report (in ``errors``) what the layout names wrongly among the object's own fields;
    names are stored in the fields' own spelling."""
    layout = definition.get("layout")
    if layout is None:
        return
    fields = {field["api_name"].lower(): field for field in definition["fields"]}
    seen_tabs: set[str] = set()
    placed: set[str] = set()
    for tab in layout["tabs"]:
        place = f"layout.tabs.{tab['name']}"
        if tab["name"] == HISTORY_TAB:
            errors.setdefault(f"{place}.name", []).append(
                "The History tab is part of every record page; name this tab otherwise."
            )
        if tab["name"] in seen_tabs:
            errors.setdefault(f"{place}.name", []).append("Another tab has this name.")
        seen_tabs.add(tab["name"])
        for number, section in enumerate(tab.get("sections", [])):
            for index, entry in enumerate(section["fields"]):
                where = f"{place}.sections.{number}.fields.{index}"
                name = _checked_item(entry, fields, registry, where, errors)
                if name is None:
                    continue
                if isinstance(entry, str):
                    section["fields"][index] = name
                if name.lower() in placed:
                    errors.setdefault(where, []).append(f"{name} is on the layout already.")
                placed.add(name.lower())
    for index, name in enumerate(layout.get("highlights", [])):
        if name not in SYSTEM_ITEMS:
            found = _own_field(fields, name, f"layout.highlights.{index}", errors)
            if found is not None:
                layout["highlights"][index] = found["api_name"]
    if "path" in layout:
        found = _own_field(fields, layout["path"], "layout.path", errors)
        if found is not None and not can_be_path(registry.get(found["type"]), found):
            errors.setdefault("layout.path", []).append(
                f"The path shows a picklist's values; {found['api_name']} is a {found['type']}."
            )
        elif found is not None:
            layout["path"] = found["api_name"]


def can_be_path(field_type: FieldType, definition: dict[str, Any]) -> bool:
    """Whether a field's values can be a path's stages: one value picked from a list
    (a picklist, or a plugin type that edits like one)."""
    return field_type.widget == "picklist" and field_type.choices(definition) is not None


def _checked_item(
    entry: str | dict[str, Any],
    fields: dict[str, dict[str, Any]],
    registry: FieldTypeRegistry,
    place: str,
    errors: Errors,
) -> str | None:
    """The field (or system column) a section entry names, in its own spelling (written
    back into the entry), or None when it names none."""
    name = entry if isinstance(entry, str) else entry["field"]
    options = {} if isinstance(entry, str) else entry
    if name in SYSTEM_ITEMS:
        if options.get("required"):
            errors.setdefault(place, []).append(f"{name} is set by Trellis; it cannot be required.")
        return name
    found = _own_field(fields, name, place, errors)
    if found is None:
        return None
    if isinstance(entry, dict):
        entry["field"] = found["api_name"]
    if options.get("required") and options.get("read_only"):
        errors.setdefault(place, []).append("A field cannot be both required and read only.")
    elif options.get("required") and registry.get(found["type"]).computed:
        errors.setdefault(place, []).append(
            f"{found['api_name']} is computed: it cannot be required."
        )
    return str(found["api_name"])


def _own_field(
    fields: dict[str, dict[str, Any]], name: str, place: str, errors: Errors
) -> dict[str, Any] | None:
    found = fields.get(name.lower())
    if found is None:
        errors.setdefault(place, []).append(f"No field {name!r}.")
        return None
    if found.get("deleted"):
        errors.setdefault(place, []).append(
            f"{found['api_name']} is deleted; take it off the layout."
        )
        return None
    return found
