"""What the layout editor offers besides the draft: the object's fields and system
columns (the palette holds those not yet placed), and the related lists it may add (the
child objects whose lookups point at it, with their fields for columns and a sort).

The editor script receives this as JSON; what a field may be (required on the page or
not) is asked of its field type's capabilities, as the layout checks ask.
"""

from __future__ import annotations

from typing import Any

from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.layout_checks import SYSTEM_ITEMS, can_be_path
from trellis.metadata.layouts import field_label, plural, related_label

#: The system columns a related list may sort by, besides the child's sortable fields.
SORT_SYSTEM = {"created_at": "Created", "updated_at": "Last modified"}


def palette_fields(obj: ObjectSchema) -> list[dict[str, Any]]:
    """Every item a section may show: the object's active fields in definition order,
    then the system columns (set by Trellis: never required)."""
    fields = [
        {
            "name": field.api_name,
            "label": field_label(field),
            "type": field.type.name,
            "can_require": not field.type.computed,
            "required": bool(field.definition.get("required")),
            "can_path": can_be_path(field.type, field.definition),
            "system": False,
        }
        for field in obj.fields.values()
    ]
    fields += [
        {
            "name": name,
            "label": label,
            "type": "system",
            "can_require": False,
            "required": False,
            "can_path": False,
            "system": True,
        }
        for name, label in SYSTEM_ITEMS.items()
    ]
    return fields


def related_candidates(schema: TenantSchema, obj: ObjectSchema) -> list[dict[str, Any]]:
    """Each (child, lookup) whose records a related list of ``obj`` may show."""
    lookups = schema.referencing_lookups(obj.api_name)
    sources = [source.api_name for source, _ in lookups]
    candidates = []
    ordered = sorted(lookups, key=lambda pair: (plural(pair[0]).lower(), pair[1].api_name))
    for child, lookup in ordered:
        fields = [
            {
                "name": field.api_name,
                "label": field_label(field),
                "sortable": bool(field.type.sortable and field.sql_type is not None),
            }
            for field in child.fields.values()
            if field is not lookup
        ]
        candidates.append(
            {
                "key": f"{child.api_name}.{lookup.api_name}",
                "object": child.api_name,
                "lookup": lookup.api_name,
                "label": related_label(child, lookup, alone=sources.count(child.api_name) == 1),
                "choice": f"{plural(child)} (by {field_label(lookup)})",
                "fields": fields,
                "sorts": [{"name": name, "label": label} for name, label in SORT_SYSTEM.items()],
                "name_field": child.name_field,
            }
        )
    return candidates


def placed_names(draft: Any) -> set[str]:
    """The names a draft's sections show, lower case (for the read-only view)."""
    names: set[str] = set()
    for tab in draft.get("tabs", []) if isinstance(draft, dict) else []:
        for section in tab.get("sections", []) if isinstance(tab, dict) else []:
            for entry in section.get("fields", []) if isinstance(section, dict) else []:
                name = entry.get("field") if isinstance(entry, dict) else entry
                if isinstance(name, str):
                    names.add(name.lower())
    return names
