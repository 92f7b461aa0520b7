"""Which column of an import's file fills which field: the suggestion (columns matched
to fields by label or API name, ignoring case, spaces and underscores; a column headed
"Id" to the record id, as the CSV export writes it) and the check of a mapping a user
sets, which refuses unknown and unwritable fields before any row is read.

A mapping is a list of ``{"column", "field", "match"}``: ``field`` an API name, ``"id"``
(the record id: that row updates the record in place) or None (the column is left out);
``match``, for a lookup, how a cell names the related record: ``"name"`` (its name) or
the API name of one of the target's unique fields.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from trellis.access.gate import Access
from trellis.errors import ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.names import readable_name_field
from trellis.records.users import MANAGED_FIELDS

RECORD_ID = "id"
BY_NAME = "name"


@dataclasses.dataclass(frozen=True)
class Column:
    """One checked entry of a mapping: the column's position and the field it fills."""

    index: int
    name: str
    field: CompiledField | None  # None: the record id
    match: str | None = None  # lookups: "name" or a unique field of the target


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", "", text).casefold()


def writable(obj: ObjectSchema, field: CompiledField, access: Access) -> bool:
    """Whether an import may fill ``field``: stored, not computed, not read-only, not a
    field the platform keeps, and editable by the actor under field-level security."""
    return (
        field.type.stored
        and not field.type.computed
        and not field.definition.get("read_only")
        and not (obj.definition.get("managed_by") and field.api_name in MANAGED_FIELDS)
        and access.can_edit_field(obj, field.api_name)
    )


def suggest_mapping(obj: ObjectSchema, headers: list[str], access: Access) -> list[dict[str, Any]]:
    """A mapping entry per column, matched by label or API name where a writable field
    fits (each field taken once); lookups matched by the related record's name."""
    by_key: dict[str, CompiledField] = {}
    for field in obj.fields.values():
        if writable(obj, field, access):
            by_key.setdefault(_key(str(field.definition.get("label") or "")), field)
            by_key.setdefault(_key(field.api_name), field)
    taken: set[str] = set()
    mapping = []
    for header in headers:
        key = _key(header)
        entry: dict[str, Any] = {"column": header, "field": None, "match": None}
        if key == RECORD_ID and RECORD_ID not in taken:
            entry["field"] = RECORD_ID
        elif key in by_key and by_key[key].api_name not in taken:
            field = by_key[key]
            entry["field"] = field.api_name
            entry["match"] = BY_NAME if field.type.references_records else None
        if entry["field"]:
            taken.add(entry["field"])
        mapping.append(entry)
    return mapping


def check_mapping(
    schema: TenantSchema,
    obj: ObjectSchema,
    access: Access,
    headers: list[str],
    mapping: Any,
) -> list[Column]:
    """The mapped columns of a valid ``mapping``, or a 422 naming each bad entry."""
    if not isinstance(mapping, list) or not all(isinstance(each, dict) for each in mapping):
        raise ValidationError(
            "mapping is a list of {column, field, match} objects.",
            code="bad_mapping",
            fields={"mapping": "A list of objects."},
        )
    positions = {header.casefold(): index for index, header in enumerate(headers)}
    errors: dict[str, list[str]] = {}
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for entry in mapping:
        name = str(entry.get("column", ""))
        if name.casefold() not in positions:
            errors[name or "column"] = ["The file has no column of this name."]
            continue
        if not entry.get("field"):
            continue
        try:
            column = _column(schema, obj, access, positions[name.casefold()], name, entry)
        except ValueError as error:
            errors[name] = [str(error)]
            continue
        target = column.field.api_name if column.field else RECORD_ID
        if target in seen:
            errors[name] = [f"Column {seen[target]!r} already fills this field."]
            continue
        seen[target] = name
        columns.append(column)
    if not columns and not errors:
        errors["mapping"] = ["Map at least one column to a field."]
    if errors:
        raise ValidationError("The mapping cannot be used.", code="bad_mapping", fields=errors)
    return columns


def _column(
    schema: TenantSchema,
    obj: ObjectSchema,
    access: Access,
    index: int,
    name: str,
    entry: dict[str, Any],
) -> Column:
    """One mapped column, or ValueError saying why its field cannot be filled."""
    target = str(entry["field"])
    if target.casefold() == RECORD_ID:
        return Column(index, name, None)
    field = obj.find(target)
    if field is None:
        raise ValueError(f"{obj.api_name} has no field {target!r}.")
    if not writable(obj, field, access):
        raise ValueError(
            f"{field.definition.get('label') or field.api_name} cannot be imported: "
            "it is computed, read-only, or not editable by you."
        )
    if not field.type.references_records:
        return Column(index, name, field)
    return Column(index, name, field, _lookup_match(schema, field, access, entry.get("match")))


def _lookup_match(schema: TenantSchema, field: CompiledField, access: Access, match: Any) -> str:
    """How a lookup's cells name their record: by name, or by a unique field of the target
    the actor may read."""
    target = schema.object(field.definition["target"])
    wanted = str(match or BY_NAME)
    if wanted == BY_NAME:
        if readable_name_field(target, access) is None:
            raise ValueError(
                f"{target.api_name} records have no name you may read; "
                "match them by a unique field."
            )
        return BY_NAME
    unique = target.find(wanted)
    if unique is None or unique not in target.writes.unique:
        raise ValueError(f"{target.api_name} has no unique field {wanted!r} to match by.")
    if unique.api_name in access.unreadable_fields(target):
        raise ValueError(f"You may not read {target.api_name}.{unique.api_name}.")
    return unique.api_name


def check_key(obj: ObjectSchema, mode: str, key_field: Any) -> str | None:
    """The field an upsert matches existing records by: ``id`` or a unique field."""
    if mode == "insert":
        return None
    if not key_field:
        raise ValidationError(
            "An upsert needs key_field: id or a unique field.",
            fields={"key_field": "Required for an upsert."},
        )
    if str(key_field).casefold() == RECORD_ID:
        return RECORD_ID
    field = obj.find(str(key_field))
    if field is None or field not in obj.writes.unique:
        raise ValidationError(
            f"key_field must be id or a unique field of {obj.api_name}.",
            fields={"key_field": "Not a unique field."},
        )
    return field.api_name


def key_is_mapped(columns: list[Column], key_field: str | None) -> bool:
    if key_field is None:
        return True
    return any(
        (column.field.api_name if column.field else RECORD_ID) == key_field for column in columns
    )
