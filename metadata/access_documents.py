"""Roles and permission sets as metadata documents: their shapes, the two permission sets
every tenant starts with, and their compiled form for a revision.

A permission set grants rights per object (read, create, edit, delete, view all, modify
all), per field (read, edit: field-level security) and system rights. A user's rights are
the union of their permission sets. A role is a place in the role hierarchy: its
``parent`` is the role above it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema

from trellis.errors import ValidationError
from trellis.metadata.documents import extra_keys

KINDS = ("role", "permission_set")
OBJECT_RIGHTS = ("read", "create", "edit", "delete", "view_all", "modify_all")
FIELD_RIGHTS = ("read", "edit")
SYSTEM_RIGHTS = (
    "manage_metadata",
    "manage_users",
    "manage_automations",
    "import",
    "export",
    "api",
    "view_audit",
)
# The rights whose Setup screens have a formula typed in them (fields and validation
# rules, automations, sharing rules' criteria): their holders may check a formula and
# try it on a record (read with their own access, so it shows nothing else).
FORMULA_RIGHTS = ("manage_metadata", "manage_automations", "manage_users")
NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_]{0,62}$"

_object_rights = {
    "type": "object",
    "properties": {right: {"type": "boolean"} for right in OBJECT_RIGHTS},
    "additionalProperties": False,
}
_field_rights = {
    "type": "object",
    "properties": {right: {"type": "boolean"} for right in FIELD_RIGHTS},
    "additionalProperties": False,
}
_common = {
    "api_name": {"type": "string", "pattern": NAME_PATTERN},
    "label": {"type": "string", "minLength": 1, "maxLength": 120},
    "description": {"type": "string", "maxLength": 2000},
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "role": {
        "type": "object",
        "properties": {
            **_common,
            "parent": {"type": ["string", "null"], "pattern": NAME_PATTERN},
        },
        "required": ["api_name", "label"],
        "additionalProperties": False,
    },
    "permission_set": {
        "type": "object",
        "properties": {
            **_common,
            "all_objects": _object_rights,
            "objects": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": _object_rights,
            },
            "fields": {
                "type": "object",
                "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*\\.[A-Za-z][A-Za-z0-9_]*$"},
                "additionalProperties": _field_rights,
            },
            "system": {
                "type": "array",
                "items": {"enum": list(SYSTEM_RIGHTS)},
                "uniqueItems": True,
            },
        },
        "required": ["api_name", "label"],
        "additionalProperties": False,
    },
}

# Every tenant has these two until an admin replaces them with their own definitions.
DEFAULT_PERMISSION_SETS: dict[str, dict[str, Any]] = {
    "standard_user": {
        "api_name": "standard_user",
        "label": "Standard user",
        "description": "Read, create and edit records of every object, within sharing.",
        "all_objects": {"read": True, "create": True, "edit": True},
        "system": ["api"],
    },
    "read_only": {
        "api_name": "read_only",
        "label": "Read only",
        "description": "Read records of every object, within sharing.",
        "all_objects": {"read": True},
        "system": ["api"],
    },
}
STANDARD_USER = "standard_user"


def validate_access_document(
    kind: str, document: Any, object_fields: Mapping[str, Iterable[str]]
) -> dict[str, Any]:
    """``document`` checked as a ``kind``, its object and field names against
    ``object_fields`` (object api name → field api names); errors name their place."""
    errors: dict[str, list[str]] = {}
    for error in jsonschema.Draft202012Validator(SCHEMAS[kind]).iter_errors(document):
        path = ".".join(str(part) for part in error.absolute_path) or "definition"
        errors.setdefault(path, []).append(
            f"Unknown properties: {', '.join(extra_keys(error))}."
            if error.validator == "additionalProperties"
            else error.message
        )
    if errors:
        raise ValidationError(f"The {kind.replace('_', ' ')} is not valid.", fields=errors)
    if kind == "permission_set":
        known = {
            name.lower(): (name, {f.lower() for f in fields})
            for name, fields in object_fields.items()
        }
        for name in document.get("objects", {}):
            if name.lower() not in known:
                errors.setdefault(f"objects.{name}", []).append(f"No object {name!r}.")
        for path in document.get("fields", {}):
            object_name, _, field_name = path.partition(".")
            found = known.get(object_name.lower())
            if found is None or field_name.lower() not in found[1]:
                errors.setdefault(f"fields.{path}", []).append(f"No field {path!r}.")
    if errors:
        raise ValidationError(f"The {kind.replace('_', ' ')} is not valid.", fields=errors)
    return dict(document)


@dataclasses.dataclass(frozen=True)
class AccessMetadata:
    """A revision's roles and permission sets (defaults included), by lower-case name."""

    roles: dict[str, dict[str, Any]]
    permission_sets: dict[str, dict[str, Any]]

    @classmethod
    def build(cls, documents: Iterable[tuple[str, dict[str, Any]]]) -> AccessMetadata:
        roles: dict[str, dict[str, Any]] = {}
        sets = {name: dict(d) for name, d in DEFAULT_PERMISSION_SETS.items()}
        for kind, definition in documents:
            target = roles if kind == "role" else sets
            target[definition["api_name"].lower()] = definition
        return cls(roles, sets)

    def system_rights(self, permission_sets: Iterable[str]) -> frozenset[str]:
        """The system rights (manage metadata, export, …) these permission sets grant."""
        return frozenset(
            right
            for name in permission_sets
            for right in self.permission_sets.get(name.lower(), {}).get("system", ())
        )

    def role(self, name: str) -> dict[str, Any] | None:
        return self.roles.get(name.lower())

    def ancestors(self, name: str) -> list[str]:
        """The role's api name and those of every role above it, nearest first."""
        chain: list[str] = []
        current = self.role(name)
        while current is not None and current["api_name"] not in chain:
            chain.append(current["api_name"])
            parent = current.get("parent")
            current = self.role(parent) if parent else None
        return chain

    def hierarchy_problem(self, name: str, parent: str | None) -> str | None:
        """Why ``name`` cannot sit under ``parent`` (an unknown parent, a loop), or None."""
        if parent is None:
            return None
        if self.role(parent) is None:
            return f"No role {parent!r}."
        if name.lower() in (role.lower() for role in self.ancestors(parent)):
            if name.lower() == parent.lower():
                return "A role cannot sit below itself."
            return f"{parent} sits below {name} already: moving {name} under it would make a loop."
        return None
