"""The checkbox type: true or false, never blank (as in Salesforce).

Forms and query strings send text, so the usual spellings are accepted; an
unticked checkbox that sends nothing at all is false.
"""

from __future__ import annotations

from typing import Any, ClassVar

from trellis.metadata.field_types import FieldValueError

from .base import WHITESPACE, BuiltinFieldType, kind_of, sql_literal, sql_trimmed

_TEXT_VALUES = {"true": True, "1": True, "false": False, "0": False, "": False}


class CheckboxType(BuiltinFieldType):
    """A boolean stored as JSON ``true``/``false``."""

    name = "checkbox"
    widget = "checkbox"
    sql_type = "boolean"
    default_when_absent = False
    # Never blank, so ``isnull`` and ``in`` would be meaningless.
    operators: ClassVar[tuple[str, ...]] = ("eq", "ne")

    def normalize(self, value: Any, field: dict[str, Any]) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            found = _TEXT_VALUES.get(value.strip(WHITESPACE).lower())
            if found is not None:
                return found
            raise FieldValueError("Enter true or false.")
        raise FieldValueError(f"Enter true or false, not {kind_of(value)}.")

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> bool:
        return stored is True

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        accepted = ", ".join(sql_literal(text) for text in _TEXT_VALUES)
        return f"(lower({sql_trimmed(text_expression)}) IN ({accepted}))"
