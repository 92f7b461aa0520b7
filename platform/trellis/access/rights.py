"""Rights: what a user's permission sets let them do, object by object and field by field.

A user's rights are the union of their permission sets. Within one permission set a field
is readable when the set grants read on its object and does not withhold the field, and
editable when the set grants edit and does not make the field read only. Administrators
(and the platform acting as itself) hold every right.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from trellis.actor import Actor
from trellis.errors import Forbidden
from trellis.metadata.access_documents import AccessMetadata


@dataclasses.dataclass
class Rights:
    everything: bool
    sets: tuple[dict[str, Any], ...]
    _objects: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    _fields: dict[tuple[str, str], frozenset[str]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, actor: Actor, access: AccessMetadata) -> Rights:
        if actor.is_admin:
            return cls(True, ())
        found = (access.permission_sets.get(name.lower()) for name in actor.permission_sets)
        return cls(False, tuple(each for each in found if each is not None))

    def on_object(self, object_name: str) -> frozenset[str]:
        """The object rights (read, create, edit, delete, view_all, modify_all) held."""
        key = object_name.lower()
        if key not in self._objects:
            self._objects[key] = frozenset(
                right for each in self.sets for right in _set_object_rights(each, object_name)
            )
        return self._objects[key]

    def has(self, object_name: str, right: str) -> bool:
        return self.everything or right in self.on_object(object_name)

    def on_field(self, object_name: str, field_name: str) -> frozenset[str]:
        """``read`` and/or ``edit``, as field-level security allows on this field."""
        if self.everything:
            return frozenset({"read", "edit"})
        key = (object_name.lower(), field_name.lower())
        if key not in self._fields:
            found: set[str] = set()
            for each in self.sets:
                held = _set_object_rights(each, object_name)
                entry = _field_entry(each, object_name, field_name)
                readable = "read" in held and entry.get("read", True)
                if readable:
                    found.add("read")
                if readable and "edit" in held and entry.get("edit", True):
                    found.add("edit")
            self._fields[key] = frozenset(found)
        return self._fields[key]

    def unreadable(self, object_name: str, field_names: Iterable[str]) -> frozenset[str]:
        if self.everything:
            return frozenset()
        return frozenset(n for n in field_names if "read" not in self.on_field(object_name, n))

    def require(self, object_name: str, right: str, label: str | None = None) -> None:
        if not self.has(object_name, right):
            raise Forbidden(
                f"You may not {right.replace('_', ' ')} {label or object_name} records.",
                code="no_object_right",
            )


def _set_object_rights(permission_set: dict[str, Any], object_name: str) -> set[str]:
    granted = {name for name, on in permission_set.get("all_objects", {}).items() if on}
    for name, rights in permission_set.get("objects", {}).items():
        if name.lower() == object_name.lower():
            granted |= {right for right, on in rights.items() if on}
    # View all implies read, modify all implies every right on the object.
    if "modify_all" in granted:
        granted |= {"read", "create", "edit", "delete", "view_all"}
    if "view_all" in granted:
        granted.add("read")
    return granted


def _field_entry(
    permission_set: dict[str, Any], object_name: str, field_name: str
) -> dict[str, bool]:
    wanted = f"{object_name}.{field_name}".lower()
    for path, entry in permission_set.get("fields", {}).items():
        if path.lower() == wanted:
            return dict(entry)
    return {}
