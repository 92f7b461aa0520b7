"""The per-object component schemas of the OpenAPI document: a record as read, and the
bodies that create (``...Input``) and change (``...Patch``) one, from each field type's
``json_schema``."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    OPTIONAL_UUID,
    SYSTEM_FIELDS,
    ref,
    shape,
    without_null,
)
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema


def sorted_objects(schema: TenantSchema) -> list[ObjectSchema]:
    return sorted(schema.objects.values(), key=lambda obj: obj.api_name.lower())


def component_names(schema: TenantSchema, taken: set[str]) -> dict[str, dict[str, str]]:
    """``Opportunity``, ``OpportunityInput`` and ``OpportunityPatch`` per object; a name
    already taken (an object called ``ErrorEnvelope``) gets a ``_2`` suffix."""
    taken = set(taken)
    names: dict[str, dict[str, str]] = {}
    for kind, suffix in (("record", ""), ("input", "Input"), ("patch", "Patch")):
        for obj in sorted_objects(schema):
            name, number = obj.api_name + suffix, 2
            while name in taken:
                name, number = f"{obj.api_name}{suffix}_{number}", number + 1
            taken.add(name)
            names.setdefault(obj.api_name, {})[kind] = name
    return names


def is_writable(field: CompiledField) -> bool:
    return not field.type.computed and not field.definition.get("read_only")


def field_schema(field: CompiledField) -> dict[str, Any]:
    return {**field.type.json_schema(field.definition), **field_annotations(field)}


def field_annotations(field: CompiledField) -> dict[str, Any]:
    """A field's title, help text and whether it is read only, for its schema."""
    found: dict[str, Any] = {"title": field.definition.get("label", field.api_name)}
    help_text = field.definition.get("help_text") or field.definition.get("description")
    if help_text:
        found["description"] = help_text
    if not is_writable(field):
        found["readOnly"] = True
    return found


def read_schema(
    field: CompiledField, schema: TenantSchema, names: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """A field as reads return it: a lookup is its record's id, or (``fields=`` naming
    fields through it) an object of ``id`` and some of the related record's fields, which
    the related object's record schema describes (all but ``id`` optional)."""
    target = schema.objects.get(str(field.definition.get("target", "")).lower())
    if not field.type.references_records or target is None:
        return field_schema(field)
    branches = [field.type.json_schema(field.definition), ref(names[target.api_name]["record"])]
    return {"anyOf": branches, **field_annotations(field)}


def record_schema(
    obj: ObjectSchema, schema: TenantSchema, names: dict[str, dict[str, str]]
) -> dict[str, Any]:
    properties = {name: {**each, "readOnly": True} for name, each in SYSTEM_FIELDS.items()}
    properties.update(
        {name: read_schema(field, schema, names) for name, field in obj.fields.items()}
    )
    return shape(
        properties,
        ["id"],
        title=obj.definition["label"],
        description=(
            f"{obj.definition.get('description') or obj.definition['label']}. Reads return every "
            "field (null when blank); with `fields=`, the system fields and the fields named."
        ),
    )


def input_schema(obj: ObjectSchema, *, partial: bool) -> dict[str, Any]:
    """Writable fields; required ones may not be blank and must be sent on create."""
    properties, required = {}, []
    for name, field in obj.fields.items():
        if not is_writable(field):
            continue
        properties[name] = field_schema(field)
        if field.definition.get("required"):
            properties[name] = without_null(properties[name])
            if field.definition.get("default") is None:
                required.append(name)
    properties["owner_id"] = {**OPTIONAL_UUID, "description": "The owning user."}
    return shape(properties, () if partial else required)
