"""In what order an import creates a package's new objects, and the skeleton an object is
created as while the objects it points at do not exist yet.
"""

from __future__ import annotations

from typing import Any

from trellis.metadata.documents import object_meta_schema
from trellis.metadata.service import MetadataService

#: Field properties naming another object: a lookup's target, a roll-up's child object.
REFERENCE_PROPERTIES = ("target", "summarized_object")
#: What an object is created with when the rest must wait for other objects.
SKELETON_KEYS = ("api_name", "label", "plural_label", "description", "name_field")


def creation_order(new: list[dict[str, Any]]) -> list[tuple[dict[str, Any], set[str]]]:
    """``(definition, objects it waits for)`` pairs, in an order where what an object
    refers to (lookup targets, roll-up children) is created before it when possible.

    When every remaining object waits for another (a cycle), the first one in package
    order that others wait for goes next, with the set of objects it still waits for.
    """
    pending = {d["api_name"].lower(): d for d in new}
    order: list[tuple[dict[str, Any], set[str]]] = []

    def waits_for(definition: dict[str, Any]) -> set[str]:
        return _references(definition) & (pending.keys() - {definition["api_name"].lower()})

    while pending:
        ready = next((d for d in pending.values() if not waits_for(d)), None)
        if ready is None:
            awaited = set().union(*(waits_for(d) for d in pending.values()))
            ready = next(d for d in pending.values() if d["api_name"].lower() in awaited)
        order.append((ready, waits_for(ready)))
        del pending[ready["api_name"].lower()]
    return order


def _references(definition: dict[str, Any]) -> set[str]:
    """Objects (lower-case) that fields of ``definition`` point at."""
    names = set()
    for field in definition["fields"]:
        for key in REFERENCE_PROPERTIES:
            if isinstance(field.get(key), str):
                names.add(field[key].lower())
    return names


def skeleton_definition(
    service: MetadataService, definition: dict[str, Any], missing: set[str]
) -> dict[str, Any]:
    """The part of a definition that needs nothing from other objects: no references to
    ``missing`` objects, no computed fields or formulas, no object-level rules."""
    formula_keys = {
        key
        for key, schema in object_meta_schema()["$defs"]["field_common"].items()
        if isinstance(schema, dict) and schema.get("$ref") == "#/$defs/formula"
    }
    fields = [
        {key: value for key, value in field.items() if key not in formula_keys}
        for field in definition["fields"]
        if not service.registry.get(field["type"]).computed
        and not ({str(field.get(key, "")).lower() for key in REFERENCE_PROPERTIES} & missing)
    ]
    skeleton = {key: definition[key] for key in SKELETON_KEYS if key in definition}
    skeleton["fields"] = fields
    if skeleton.get("name_field") not in {field["api_name"] for field in fields}:
        skeleton.pop("name_field", None)
    return skeleton
