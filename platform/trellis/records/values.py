"""Validating incoming record values against the object's fields.

All problems of one write are collected and reported together, keyed by field, so
the API and the form show every error at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.documents import SYSTEM_FIELDS
from trellis.metadata.field_types import FieldValueError

WRITABLE_SYSTEM_FIELDS = frozenset({"owner_id"})
# Clients may echo these back (e.g. a record they just read); they are ignored if unchanged.
ECHOED_SYSTEM_FIELDS = frozenset(SYSTEM_FIELDS) - WRITABLE_SYSTEM_FIELDS


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def normalize_values(
    obj: ObjectSchema, values: Any, *, prior: Mapping[str, Any] | None, system_actor: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (custom field values by api_name, writable system values) or raise.

    ``prior`` is the stored data on update (``None`` on create). An unchanged value is
    accepted as-is, so a record keeps a picklist value that has since been deactivated.
    """
    if not isinstance(values, Mapping):
        raise ValidationError("A record is a JSON object of field values.")
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    system: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str):
            continue
        if key in WRITABLE_SYSTEM_FIELDS:
            system[key] = value
            continue
        if key in ECHOED_SYSTEM_FIELDS:
            continue
        field = obj.find(key)
        if field is None:
            errors[key] = [f"{obj.api_name} has no field {key!r}."]
            continue
        name = field.api_name
        if prior is not None and prior.get(name) == value:
            continue
        if field.type.computed or (field.definition.get("read_only") and not system_actor):
            errors[name] = ["This field is read-only."]
            continue
        try:
            data[name] = field.normalize(value)
        except FieldValueError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError("The record has invalid values.", fields=errors)
    return data, system


def apply_defaults(obj: ObjectSchema, data: dict[str, Any]) -> None:
    """Fill defaults of fields a new record leaves out (checkboxes default to false)."""
    for name, default in obj.writes.defaults:
        if name not in data:
            data[name] = default


def required_errors(obj: ObjectSchema, merged: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        name: ["This field is required."]
        for name in obj.writes.required
        if is_blank(merged.get(name))
    }
