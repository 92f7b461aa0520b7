"""Computed types: formula fields and roll-up summaries.

Their values are never stored: they are computed on read (in SQL, through
:mod:`trellis.metadata.formulas`), so they are always current, cross-object
references and child records included, and they filter and sort like stored
fields. Here live their definitions and how their values look.
"""

from __future__ import annotations

from typing import Any, ClassVar

from trellis.metadata.field_types import EQUALITY_OPERATORS, ORDERED_OPERATORS, FieldValueError

from .base import BuiltinFieldType

RESULT_TYPES = ("checkbox", "number", "currency", "percent", "text", "date", "datetime", "time")
SQL_TYPES = {
    "checkbox": "boolean",
    "number": "numeric",
    "currency": "numeric",
    "percent": "numeric",
    "text": "text",
    "date": "date",
    "datetime": "timestamptz",
    "time": "time",
}
JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "checkbox": {"type": ["boolean", "null"]},
    "number": {"type": ["number", "null"]},
    "currency": {"type": ["number", "null"]},
    "percent": {"type": ["number", "null"]},
    "text": {"type": ["string", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "time": {"type": ["string", "null"]},
}
ROLLUP_FUNCTIONS = ("COUNT", "SUM", "MIN", "MAX", "AVG")
API_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,62}$"}


class ComputedType(BuiltinFieldType):
    computed = True
    stored = False
    accepts_default = False

    def result_type(self, field: dict[str, Any]) -> str:
        raise NotImplementedError

    def normalize(self, value: Any, field: dict[str, Any]) -> None:
        if value is not None:
            raise FieldValueError("Computed by Trellis; leave it out.")
        return None

    def sql_type_for(self, field: dict[str, Any]) -> str | None:
        return SQL_TYPES.get(self.result_type(field))

    def operators_for(self, field: dict[str, Any]) -> tuple[str, ...]:
        return (
            EQUALITY_OPERATORS
            if self.result_type(field) in {"checkbox", "text"}
            else ORDERED_OPERATORS
        )

    def formula_type(self, field: dict[str, Any]) -> str:
        return self.result_type(field)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {**JSON_SCHEMAS.get(self.result_type(field), {}), "readOnly": True}

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> Any:
        kind = self.result_type(field)
        if kind == "checkbox":
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise FieldValueError("Use true or false.")
            return raw.lower() in {"true", "1"}
        return raw


class FormulaType(ComputedType):
    """A value computed from a formula over this record and records it looks up."""

    name = "formula"
    properties: ClassVar[dict[str, Any]] = {
        "expression": {"type": "string", "minLength": 1, "maxLength": 5000},
        "return_type": {"enum": list(RESULT_TYPES)},
        "blank_mode": {
            "enum": ["blank", "zero"],
            "description": "Treat blank number fields as blanks or as zeroes.",
        },
        "scale": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    required_properties: ClassVar[tuple[str, ...]] = ("expression", "return_type")

    def result_type(self, field: dict[str, Any]) -> str:
        return field.get("return_type", "text")


class RollupType(ComputedType):
    """COUNT, SUM, MIN, MAX or AVG over the records of another object that look up to this
    one, with an optional filter formula."""

    name = "rollup"
    aggregates = True
    properties: ClassVar[dict[str, Any]] = {
        "summarized_object": API_NAME,
        "relationship_field": API_NAME,
        "function": {"enum": [*ROLLUP_FUNCTIONS, *(f.lower() for f in ROLLUP_FUNCTIONS)]},
        "summarized_field": API_NAME,
        "filter": {"type": "string", "maxLength": 5000},
        "return_type": {"enum": list(RESULT_TYPES)},
        "scale": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    required_properties: ClassVar[tuple[str, ...]] = (
        "summarized_object",
        "relationship_field",
        "function",
    )

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        function = str(field.get("function", "")).upper()
        if function != "COUNT" and not field.get("summarized_field"):
            return [f"summarized_field: {function} needs the field to summarise."]
        return []

    def result_type(self, field: dict[str, Any]) -> str:
        # The metadata service fills return_type from the summarised field's type.
        if str(field.get("function", "")).upper() == "COUNT":
            return "number"
        return field.get("return_type", "number")


COMPUTED_TYPES = (FormulaType, RollupType)
