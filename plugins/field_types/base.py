"""Shared pieces of the built-in field types.

Every built-in type normalises a value in one place, its ``normalize`` method;
the marshmallow field, filter parsing and definition checks all go through it so
that the API, the forms and the type-change checks can never disagree. The SQL
helpers here build the ``sql_accepts`` predicates: they return SQL *text*, so any
value taken from a definition must pass through :func:`sql_literal`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow

from trellis.metadata.field_types import FieldType, FieldValueError

#: Whitespace trimmed from text input. Kept to ASCII so that the SQL predicates
#: (``btrim`` with the same characters) agree exactly with Python.
WHITESPACE = " \t\n\r\f\v"

_SQL_WHITESPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


class NormalizingField(marshmallow.fields.Field):
    """A marshmallow field whose deserialisation is one normalising callable.

    ``None`` is handed to the callable too, because some types give blank a
    value (a checkbox is never blank) and others refuse any value at all.
    """

    def __init__(self, normalizer: Callable[[Any], Any], **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)
        self.normalizer = normalizer

    def deserialize(
        self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any
    ) -> Any:
        if value is None:
            return self._normalize(None)
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self._normalize(value)

    def _normalize(self, value: Any) -> Any:
        try:
            return self.normalizer(value)
        except FieldValueError as error:
            raise marshmallow.ValidationError(str(error)) from None


class BuiltinFieldType(FieldType):
    """Base of the built-in types: subclasses implement ``normalize`` directly.

    The contract's default ``normalize`` goes through the marshmallow field; here
    it is the other way round, so the one normalising function is plain Python
    and the marshmallow field is a thin wrapper around it.
    """

    #: Whether a definition may carry a ``default`` (computed types cannot).
    accepts_default: bool = True

    def normalize(self, value: Any, field: dict[str, Any]) -> Any:
        raise NotImplementedError

    def marshmallow_field(self, field: dict[str, Any]) -> marshmallow.fields.Field:
        return NormalizingField(
            lambda value: self.normalize(value, field), metadata={"field_type": self.name}
        )

    def validate_definition(self, field: dict[str, Any]) -> list[str]:
        messages = self.check_properties(field)
        if messages or field.get("default") is None:
            return messages
        if not self.accepts_default:
            return [f"{self.name} fields cannot have a default."]
        try:
            self.normalize(field["default"], field)
        except FieldValueError as error:
            return [f"default: {error}"]
        return []

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        """Type-specific definition checks the JSON Schema cannot express."""
        return []

    def sql_accepts(self, text_expression: str, field: dict[str, Any]) -> str | None:
        """The type's predicate, also TRUE for NULL: a blank stored value fits every type."""
        predicate = self.sql_predicate(text_expression, field)
        if predicate is None:
            return None
        return f"({text_expression} IS NULL OR {predicate})"

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        """SQL true when a non-null stored text fits this type; None when any text fits."""
        return None


def integer_property(field: dict[str, Any], name: str, default: int) -> int:
    """An integer property, or its default when absent (the meta-schema checks types)."""
    value = field.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def kind_of(value: Any) -> str:
    """How a wrong value is named in messages ("a number", "a list"...)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def require_text(value: Any, expected: str) -> str:
    """The value as text with surrounding whitespace removed, or a clear error.

    PostgreSQL's JSONB cannot store the NUL character, so it is refused here
    rather than failing later inside the database.
    """
    if not isinstance(value, str):
        raise FieldValueError(f"Enter {expected}, not {kind_of(value)}.")
    if "\x00" in value:
        raise FieldValueError("Text cannot contain the NUL character.")
    return value.strip(WHITESPACE)


def sql_literal(text: str) -> str:
    """A safely quoted SQL string literal (standard_conforming_strings is on).

    A colon is always followed by a closing quote (``'a:' || 'b'``) so that the
    predicate can go through ``sqlalchemy.text`` without ``:b`` becoming a bind
    parameter.
    """
    if "\x00" in text:
        raise ValueError("SQL text cannot contain NUL")
    quoted = "'" + text.replace("'", "''").replace(":", ":' || '") + "'"
    return f"({quoted})" if ":" in text else quoted


def sql_trimmed(expression: str) -> str:
    """The SQL counterpart of ``str.strip(WHITESPACE)``."""
    return f"btrim({expression}, {_SQL_WHITESPACE})"


def sql_matches(expression: str, pattern: str, *, case_insensitive: bool = False) -> str:
    """A predicate: the trimmed expression fully matches ``pattern``.

    Patterns are written in the subset shared by Python's ``re`` and PostgreSQL's
    regular expressions, so one pattern checks input and stored data alike.
    """
    operator = "~*" if case_insensitive else "~"
    return f"({sql_trimmed(expression)} {operator} {sql_literal('^(?:' + pattern + ')$')})"
