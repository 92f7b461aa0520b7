"""The lookup type: a reference to another record, stored as its id.

Only the shape of the id is checked here; whether the record exists (and may be
seen by the user) is the records service's job, and the ``record_refs`` table
enforces ``on_delete`` in PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from trellis.metadata.field_types import EQUALITY_OPERATORS, FieldValueError

from .base import BuiltinFieldType, require_text, sql_matches

API_NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_]{0,62}$"
UUID_PATTERN = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
ON_DELETE_ACTIONS = ("restrict", "set_null", "cascade")
NOT_A_RECORD_ID = "Not a record id."


class LookupType(BuiltinFieldType):
    """A record id in canonical form: lowercase, hyphenated (what ``str(uuid)`` gives)."""

    name = "lookup"
    widget = "lookup"
    references_records = True
    operators = EQUALITY_OPERATORS
    properties: ClassVar[dict[str, Any]] = {
        "target": {
            "type": "string",
            "pattern": API_NAME_PATTERN,
            "description": "API name of the object this field points to.",
        },
        "on_delete": {
            "enum": list(ON_DELETE_ACTIONS),
            "default": "set_null",
            "description": "What happens to this record when the target is deleted.",
        },
        "relationship_name": {
            "type": "string",
            "pattern": API_NAME_PATTERN,
            "description": "Name of the related list on the target object.",
        },
    }
    required_properties: ClassVar[tuple[str, ...]] = ("target",)

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        if field.get("required") and field.get("on_delete", "set_null") == "set_null":
            return [
                "on_delete: a required lookup cannot be set to blank when its target is "
                "deleted; use restrict or cascade."
            ]
        return []

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        if value is None:
            return None
        if isinstance(value, uuid.UUID):
            return str(value)
        if not isinstance(value, str):
            raise FieldValueError(NOT_A_RECORD_ID)
        text = require_text(value, "a record id")
        if not text:
            return None
        if not re.fullmatch(UUID_PATTERN, text):
            raise FieldValueError(NOT_A_RECORD_ID)
        return text.lower()

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["string", "null"], "format": "uuid"}

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        return sql_matches(text_expression, UUID_PATTERN)
