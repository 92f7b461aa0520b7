"""Export of a tenant's objects as a package: definitions as stored, in a fixed key order so
that export → import → export is byte-identical, with every action secret masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from trellis.metadata.package_format import ACCESS_KINDS, PACKAGE_VERSION
from trellis.metadata.secrets import redact_definition
from trellis.metadata.service import MetadataService
from trellis.metadata.tables import meta_access

#: Keys the API adds to definitions; they never belong in a package.
SERVER_ONLY_KEYS = frozenset({"id", "index"})

OBJECT_KEY_ORDER = ("api_name", "label", "plural_label", "description", "name_field", "fields")
FIELD_KEY_ORDER = (
    "api_name",
    "type",
    "label",
    "help_text",
    "description",
    "required",
    "unique",
    "external_id",
    "indexed",
    "read_only",
    "default",
)
CHOICE_KEY_ORDER = ("value", "label", "active")
ACCESS_KEY_ORDER = ("api_name", "label", "description", "parent")


def export_package(service: MetadataService) -> dict[str, Any]:
    """Every object of the tenant as stored, minus hidden fields and server-only keys."""
    service.actor.require_right("export")
    schema = service.schema()
    objects = sorted(schema.objects.values(), key=lambda obj: obj.api_name.lower())
    package: dict[str, Any] = {
        "trellis_package": PACKAGE_VERSION,
        "objects": [export_definition(obj.definition, schema.actions) for obj in objects],
    }
    # Roles and permission sets the tenant defined (the built-in defaults only if changed).
    stored = service.connection.execute(
        sa.select(meta_access.c.kind, meta_access.c.definition)
        .where(meta_access.c.deleted_at.is_(None))
        .order_by(sa.func.lower(meta_access.c.api_name))
    ).all()
    for key, kind in ACCESS_KINDS.items():
        documents = [
            _ordered(row.definition, ACCESS_KEY_ORDER) for row in stored if row.kind == kind
        ]
        if documents:
            package[key] = documents
    return package


def export_definition(definition: dict[str, Any], actions: Any) -> dict[str, Any]:
    """A definition as a package holds it; ``actions`` (the action registry) names the
    secrets to mask."""
    definition = redact_definition(actions, definition)
    fields = [
        _ordered(without_server_keys(field), FIELD_KEY_ORDER)
        for field in definition["fields"]
        if not field.get("deleted")
    ]
    for field in fields:
        if isinstance(field.get("values"), list):
            field["values"] = [
                _ordered(value, CHOICE_KEY_ORDER) if isinstance(value, dict) else value
                for value in field["values"]
            ]
    return _ordered({**without_server_keys(definition), "fields": fields}, OBJECT_KEY_ORDER)


def without_server_keys(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in document.items()
        if key not in SERVER_ONLY_KEYS and not (key == "deleted" and value is False)
    }


def _ordered(document: dict[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """Known keys in a readable order, then the rest alphabetically."""
    first = [key for key in order if key in document]
    rest = sorted(key for key in document if key not in first)
    return {key: document[key] for key in (*first, *rest)}
