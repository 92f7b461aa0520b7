"""Validation of object definitions: the shipped meta-schema plus each field type's rules.

The object-level shape comes from ``object.schema.json``; each field is then checked
against a schema composed from the common field properties and its type's own
properties, so a typo in a property name is an error rather than silently ignored.
Errors name their place (``fields.Amount.scale``) so the UI can show them inline.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from trellis.errors import ValidationError
from trellis.metadata.field_types import FieldType, FieldTypeRegistry, FieldValueError
from trellis.metadata.layout_checks import check_layout

SCHEMA_PATH = Path(__file__).with_name("object.schema.json")
# System fields every record has; no custom field may take these names, nor names
# the list API reserves for its own parameters.
SYSTEM_FIELDS = (
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner_id",
)
RESERVED_NAMES = frozenset(
    {
        *SYSTEM_FIELDS,
        "deleted_at",
        "sort",
        "fields",
        "limit",
        "cursor",
        "count",
        "where",
        "include_deleted",
        "q",
    }
)


@functools.cache
def object_meta_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def field_schema(registry: FieldTypeRegistry, type_name: str) -> dict[str, Any]:
    field_type = registry.get(type_name)
    common = object_meta_schema()["$defs"]["field_common"]
    return {
        "type": "object",
        "properties": {**common, **field_type.properties},
        "required": ["api_name", "type", *field_type.required_properties],
        "additionalProperties": False,
        "$defs": object_meta_schema()["$defs"],
    }


def _schema_errors(schema: dict[str, Any], document: Any, prefix: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(document):
        path = ".".join(str(part) for part in (prefix, *error.absolute_path) if part != "")
        if error.validator == "additionalProperties":
            message = f"Unknown properties: {', '.join(extra_keys(error))}."
        elif error.validator == "pattern":
            message = "Use a letter, then letters, digits or underscores (at most 63)."
        else:
            message = error.message
        errors.setdefault(path or "definition", []).append(message)
    return errors


def extra_keys(error: jsonschema.ValidationError) -> list[str]:
    # additionalProperties is raised only by an object schema over an object.
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    allowed = set(schema.get("properties", {}))
    return sorted(str(key) for key in instance if key not in allowed)


def validate_object(
    definition: Any, registry: FieldTypeRegistry, *, known_objects: Iterable[str]
) -> dict[str, Any]:
    """Return the normalised definition or raise :class:`ValidationError` with every problem."""
    errors = _schema_errors(object_meta_schema(), definition, "")
    if errors:
        raise ValidationError("The object definition is invalid.", fields=errors)
    definition = copy.deepcopy(definition)
    known = {name.lower(): name for name in known_objects}
    known[definition["api_name"].lower()] = definition["api_name"]
    seen: set[str] = set()
    for position, field in enumerate(definition["fields"]):
        name = field.get("api_name")
        place = f"fields.{name}" if isinstance(name, str) else f"fields.{position}"
        if not isinstance(field.get("type"), str) or field["type"] not in registry:
            errors[f"{place}.type"] = [
                f"Unknown field type {field.get('type')!r}; choose from "
                f"{', '.join(registry.names())}."
            ]
            continue
        errors.update(_schema_errors(field_schema(registry, field["type"]), field, place))
        if not isinstance(name, str) or f"{place}.api_name" in errors:
            continue
        lowered = name.lower()
        if lowered in RESERVED_NAMES:
            errors.setdefault(f"{place}.api_name", []).append(f"{name!r} is reserved.")
        if "__" in name:
            errors.setdefault(f"{place}.api_name", []).append(
                "Double underscores are reserved for filter operators."
            )
        if lowered in seen:
            errors.setdefault(f"{place}.api_name", []).append("Another field has this name.")
        seen.add(lowered)
        field.setdefault("label", name.replace("_", " "))
        field_type = registry.get(field["type"])
        type_errors = field_type.validate_definition(field)
        for message in type_errors:
            errors.setdefault(place, []).append(message)
        if field_type.references_records and str(field.get("target", "")).lower() not in known:
            errors.setdefault(f"{place}.target", []).append(f"No object {field.get('target')!r}.")
        elif field_type.references_records:
            field["target"] = known[field["target"].lower()]
        if not type_errors and field.get("default") is not None:
            # The type has vetted the default; store it in its normalised form.
            try:
                field["default"] = field_type.normalize(field["default"], field)
            except FieldValueError as error:
                errors.setdefault(f"{place}.default", []).append(str(error))
        _check_external_id(field, field_type, place, errors)
        if (field.get("unique") or field.get("indexed")) and not field_type.sortable:
            errors.setdefault(place, []).append(f"A {field['type']} field cannot be indexed.")
    if not errors:
        _check_name_field(definition, registry, errors)
        _check_rules(definition, errors)
        _check_automations(definition, errors)
        check_layout(definition, registry, errors)
    if errors:
        raise ValidationError("The object definition is invalid.", fields=errors)
    definition.setdefault("plural_label", definition["label"])
    return definition


def _check_external_id(
    field: dict[str, Any], field_type: FieldType, place: str, errors: dict[str, list[str]]
) -> None:
    """An external id is of a type that may be one; it names one record, so it is unique
    (and so indexed)."""
    if not field.get("external_id"):
        return
    if not field_type.usable_as_external_id:
        errors.setdefault(f"{place}.external_id", []).append(
            f"A {field['type']} field cannot be an external id."
        )
    field["unique"] = True


def _check_name_field(
    definition: dict[str, Any], registry: FieldTypeRegistry, errors: dict[str, list[str]]
) -> None:
    """The name field is a type ``usable_as_name``; a text field called Name is the default.
    ``id``, what the API shows for an object with no such field, is as good as leaving it
    out. Left out, the records are named by the first text or auto-number field, chosen
    anew on each revision (trellis.metadata.compiled.ObjectSchema.name_field)."""

    def nameable(field: dict[str, Any] | None) -> bool:
        return (
            field is not None
            and field["type"] in registry
            and registry.get(field["type"]).usable_as_name
        )

    fields = {
        field["api_name"].lower(): field
        for field in definition["fields"]
        if not field.get("deleted")
    }
    name_field = definition.get("name_field")
    if isinstance(name_field, str) and name_field.lower() == "id":
        del definition["name_field"]
        name_field = None
    if name_field is None:
        if nameable(fields.get("name")):
            definition["name_field"] = fields["name"]["api_name"]
        return
    field = fields.get(name_field.lower())
    if field is None or not nameable(field):
        errors["name_field"] = [
            "Name an active text or auto-number field of this object (the name field "
            "cannot be deleted or become another type: choose another one first)."
        ]
    else:
        definition["name_field"] = field["api_name"]


def _check_rules(definition: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Rule names are unique and error fields exist (their formulas are checked later,
    against the whole tenant's metadata)."""
    fields = {
        f["api_name"].lower(): f["api_name"] for f in definition["fields"] if not f.get("deleted")
    }
    seen: set[str] = set()
    for rule in definition.get("validation_rules", []):
        place = f"validation_rules.{rule['name']}"
        if rule["name"].lower() in seen:
            errors.setdefault(f"{place}.name", []).append("Another rule has this name.")
        seen.add(rule["name"].lower())
        error_field = rule.get("error_field")
        if error_field is not None:
            if error_field.lower() not in fields:
                errors.setdefault(f"{place}.error_field", []).append(f"No field {error_field!r}.")
            else:
                rule["error_field"] = fields[error_field.lower()]
        rule.setdefault("active", True)


def _check_automations(definition: dict[str, Any], errors: dict[str, list[str]]) -> None:
    seen: set[str] = set()
    for automation in definition.get("automations", []):
        place = f"automations.{automation['api_name']}"
        if automation["api_name"].lower() in seen:
            errors.setdefault(f"{place}.api_name", []).append("Another automation has this name.")
        seen.add(automation["api_name"].lower())
        automation.setdefault("active", True)
        automation.setdefault("order", 0)
        automation.setdefault("only_when_changed_to_meet", False)
        if automation["timing"] == "before_save" and (
            automation["trigger"] == "deleted"
            or any(action["type"] != "update_fields" for action in automation["actions"])
        ):
            errors.setdefault(place, []).append(
                "Before-save automations only update the saved record's fields; use "
                "after_save for other actions."
            )


def diff_definitions(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Human-readable changes between two definitions of one object, field by field."""
    if before is None or after is None:
        return [{"change": "object created" if before is None else "object deleted"}]
    changes: list[dict[str, Any]] = []
    # An object's fields are a list of field definitions, compared field by field; a
    # permission set's ``fields`` (field-level security, by ``Object.Field``) is a
    # mapping, compared as any other property.
    by_field = all(isinstance(d.get("fields", []), list) for d in (before, after))
    for key in sorted((set(before) | set(after)) - ({"fields"} if by_field else set())):
        if before.get(key) != after.get(key):
            changes.append(
                {
                    "change": "object property",
                    "property": key,
                    "old": before.get(key),
                    "new": after.get(key),
                }
            )
    if not by_field:
        return changes
    old_fields = {f["api_name"]: f for f in before.get("fields", [])}
    new_fields = {f["api_name"]: f for f in after.get("fields", [])}
    for name in new_fields.keys() - old_fields.keys():
        changes.append({"change": "field added", "field": name})
    for name in old_fields.keys() - new_fields.keys():
        changes.append({"change": "field removed", "field": name})
    for name in sorted(old_fields.keys() & new_fields.keys()):
        old, new = old_fields[name], new_fields[name]
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changes.append(
                    {
                        "change": "field property",
                        "field": name,
                        "property": key,
                        "old": old.get(key),
                        "new": new.get(key),
                    }
                )
    return changes


@functools.cache
def builtin_action_names() -> frozenset[str]:
    """Action types the object meta-schema describes (validated there, by name)."""
    branches = object_meta_schema()["$defs"]["action"]["oneOf"]
    return frozenset(
        branch["properties"]["type"]["const"]
        for branch in branches
        if "const" in branch["properties"]["type"]
    )


def keep_removed_fields(before: dict[str, Any], after: Any) -> Any:
    """Fields left out of a replacement are hidden, never dropped with their data."""
    if not isinstance(after, dict) or not isinstance(after.get("fields"), list):
        return after
    named = {str(f.get("api_name", "")).lower() for f in after["fields"] if isinstance(f, dict)}
    missing = [
        {**f, "deleted": True} for f in before["fields"] if f["api_name"].lower() not in named
    ]
    return {**after, "fields": [*after["fields"], *missing]}
