"""Picklist and multi-select picklist: values chosen from the field's own list.

A definition's ``values`` are ordered and unique (ignoring case) and may be
written as plain strings or as ``{"value", "label", "active"}`` objects.
Deactivating a value keeps it in the definition so that old records still show
and filter by it; only new input must use an active value (the records service
skips validation when a value is unchanged). Input is matched ignoring case and
stored in the definition's spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from trellis.metadata.field_types import EQUALITY_OPERATORS, FieldValueError

from .base import WHITESPACE, BuiltinFieldType, kind_of, sql_literal, sql_trimmed

_VALUE_TEXT = {"type": "string", "minLength": 1, "maxLength": 255}

VALUES_PROPERTY: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1000,
    "description": "The choices, in display order: strings or {value, label, active} objects.",
    "items": {
        "oneOf": [
            _VALUE_TEXT,
            {
                "type": "object",
                "required": ["value"],
                "properties": {
                    "value": _VALUE_TEXT,
                    "label": {"type": "string", "minLength": 1, "maxLength": 255},
                    "active": {"type": "boolean", "default": True},
                },
            },
        ]
    },
}

# How many allowed values an error message lists before "…".
_LISTED_IN_MESSAGES = 25

_JSON_SPACE = "[ \\t\\n\\r]*"
# A JSON string as PostgreSQL prints one: only \\uXXXX escapes of control characters
# (never \\u0000), so any text matching the array pattern casts to jsonb without error.
_JSON_STRING = '"(?:[^"\\\\[:cntrl:]]|\\\\(?:["\\\\/bfnrt]|u00(?:0[1-9A-Fa-f]|1[0-9A-Fa-f])))*"'
_JSON_STRING_ARRAY = (
    f"\\[{_JSON_SPACE}(?:{_JSON_STRING}(?:{_JSON_SPACE},{_JSON_SPACE}"
    f"{_JSON_STRING})*)?{_JSON_SPACE}\\]"
)


def picklist_values(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The definition's values as ``{"value", "label", "active"}`` dicts, in order.

    Entries that are neither a string nor an object with a string ``value`` are
    skipped (``validate_definition`` reports them).
    """
    entries: list[dict[str, Any]] = []
    for item in field.get("values") or ():
        if isinstance(item, str):
            entries.append({"value": item, "label": item, "active": True})
        elif isinstance(item, dict) and isinstance(item.get("value"), str):
            label = item.get("label")
            entries.append(
                {
                    "value": item["value"],
                    "label": label if isinstance(label, str) and label else item["value"],
                    "active": item.get("active", True) is not False,
                }
            )
    return entries


def _allowed_message(field: dict[str, Any]) -> str:
    active = [entry["value"] for entry in picklist_values(field) if entry["active"]]
    listed = ", ".join(active[:_LISTED_IN_MESSAGES])
    if len(active) > _LISTED_IN_MESSAGES:
        listed += ", …"
    return f"Choose one of: {listed}."


class ChoiceType(BuiltinFieldType):
    """Shared base: the ``values`` property, its checks and value matching."""

    properties: ClassVar[dict[str, Any]] = {"values": VALUES_PROPERTY}
    searchable = True
    required_properties: ClassVar[tuple[str, ...]] = ("values",)
    #: Characters a value may not contain (the multi-select separator).
    forbidden_in_values: ClassVar[str] = ""

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        raw = field.get("values")
        if not isinstance(raw, list) or not raw:
            return ["values: list at least one value."]
        entries = picklist_values(field)
        messages = []
        if len(entries) != len(raw):
            messages.append("values: each value must be text or an object with a text value.")
        seen: set[str] = set()
        for entry in entries:
            value = entry["value"]
            if not value or value != value.strip(WHITESPACE) or "\x00" in value:
                messages.append(f"values: {value!r} must be non-blank with no spaces around it.")
            elif any(char in value for char in self.forbidden_in_values):
                messages.append(
                    f"values: {value!r} cannot contain "
                    f"{' or '.join(repr(c) for c in self.forbidden_in_values)}."
                )
            if value.lower() in seen:
                messages.append(f"values: {value!r} is listed more than once.")
            seen.add(value.lower())
        if entries and not any(entry["active"] for entry in entries):
            messages.append("values: at least one value must be active.")
        return messages

    def matcher(
        self, field: dict[str, Any], *, active_only: bool = True
    ) -> Callable[[Any], str | None]:
        """A function giving the definition's spelling of one chosen value (None when
        blank); the allowed values are indexed once."""
        entries: dict[str, dict[str, Any]] = {}
        for entry in picklist_values(field):
            entries.setdefault(entry["value"].lower(), entry)

        def match(value: Any) -> str | None:
            if not isinstance(value, str):
                raise FieldValueError(f"{_allowed_message(field)} (Got {kind_of(value)}.)")
            text = value.strip(WHITESPACE)
            if not text:
                return None
            entry = entries.get(text.lower())
            if entry is None:
                raise FieldValueError(f"{text!r} is not allowed. {_allowed_message(field)}")
            if active_only and not entry["active"]:
                raise FieldValueError(f"{text!r} is no longer in use. {_allowed_message(field)}")
            return entry["value"]

        return match

    def choices(self, field: dict[str, Any]) -> list[dict[str, Any]] | None:
        return picklist_values(field)

    def search_text(self, stored: Any, field: dict[str, Any]) -> str | None:
        """The labels of the chosen values (what a reader sees), in the stored order."""
        chosen = stored if isinstance(stored, list) else [stored]
        labels = {entry["value"]: entry["label"] for entry in picklist_values(field)}
        text = ", ".join(labels.get(str(value), str(value)) for value in chosen if value)
        return text or None

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> str | None:
        """One value; inactive values are allowed so old records can still be found."""
        return self.matcher(field, active_only=False)(raw)

    def sql_values(self, field: dict[str, Any]) -> str:
        """SQL array of every value (inactive ones too: existing records keep them), lowered."""
        return (
            "ARRAY["
            + ", ".join(f"lower({sql_literal(entry['value'])})" for entry in picklist_values(field))
            + "]"
        )


class PicklistType(ChoiceType):
    """One value from the list."""

    name = "picklist"
    widget = "picklist"
    operators = EQUALITY_OPERATORS

    def normalizer(self, field: dict[str, Any]) -> Callable[[Any], str | None]:
        match = self.matcher(field)
        return lambda value: None if value is None else match(value)

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        return self.normalizer(field)(value)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "enum": [entry["value"] for entry in picklist_values(field)] + [None],
        }

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        trimmed = sql_trimmed(text_expression)
        return f"(lower({trimmed}) = ANY({self.sql_values(field)}) OR {trimmed} = '')"


class MultiPicklistType(ChoiceType):
    """Several values, stored as a JSON list in the definition's order.

    Input may be a list or Salesforce's ``"A;B"`` text; duplicates collapse and
    an empty choice is blank.
    """

    name = "multi_picklist"
    widget = "multi_picklist"
    sql_type = "jsonb"
    operators = ("contains", "isnull")
    sortable = False
    forbidden_in_values = ";"

    def normalizer(self, field: dict[str, Any]) -> Callable[[Any], list[str] | None]:
        match = self.matcher(field)
        order = [entry["value"] for entry in picklist_values(field)]

        def normalize(value: Any) -> list[str] | None:
            if value is None:
                return None
            if isinstance(value, str):
                items: Any = value.split(";")
            elif isinstance(value, (list, tuple)):
                items = value
            else:
                raise FieldValueError(
                    f"Enter a list of values, not {kind_of(value)}. {_allowed_message(field)}"
                )
            chosen = {match(item) for item in items} - {None}
            return [choice for choice in order if choice in chosen] or None

        return normalize

    def normalize(self, value: Any, field: dict[str, Any]) -> list[str] | None:
        return self.normalizer(field)(value)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["array", "null"],
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": [entry["value"] for entry in picklist_values(field)]},
        }

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> list[str] | None:
        return None if stored is None else [str(item) for item in stored]

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        """Stored lists arrive as JSON text (``data->>'F'``), text values as ``A;B``."""
        trimmed = sql_trimmed(text_expression)
        allowed = self.sql_values(field)

        def every_item_allowed(items_sql: str) -> str:
            return (
                f"NOT EXISTS (SELECT 1 FROM {items_sql} AS item(value) "
                f"WHERE {sql_trimmed('item.value')} <> '' "
                f"AND lower({sql_trimmed('item.value')}) <> ALL({allowed}))"
            )

        json_items = f"jsonb_array_elements_text(CAST({trimmed} AS jsonb))"
        text_items = f"unnest(string_to_array({trimmed}, ';'))"
        return (
            f"(CASE WHEN {trimmed} LIKE '[%' "
            f"THEN (CASE WHEN {trimmed} ~ {sql_literal('^' + _JSON_STRING_ARRAY + '$')} "
            f"THEN {every_item_allowed(json_items)} ELSE false END) "
            f"ELSE {every_item_allowed(text_items)} END)"
        )


CHOICE_TYPES = (PicklistType, MultiPicklistType)
