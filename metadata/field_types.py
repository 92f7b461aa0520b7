"""The field-type contract and registry.

A field type knows everything Trellis needs about one kind of value: which
properties its definition takes, how to validate and normalise an incoming value
(its marshmallow field), how the value is stored in a record's JSONB ``data``,
its OpenAPI schema, its typed SQL expression for filters, sorts and indexes, and
the Python value the formula engine sees. Built-in types are registered by the
``trellis.plugins.field_types`` plugin through the same ``register_field_types``
hook third parties use.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar

import marshmallow

# Operators a list filter may use (``?Amount__gte=10``); each type opts in.
EQUALITY_OPERATORS: tuple[str, ...] = ("eq", "ne", "in", "isnull")
ORDERED_OPERATORS: tuple[str, ...] = (*EQUALITY_OPERATORS, "gt", "gte", "lt", "lte")
TEXT_OPERATORS: tuple[str, ...] = (
    *EQUALITY_OPERATORS,
    "contains",
    "startswith",
    "gt",
    "gte",
    "lt",
    "lte",
)


class FieldValueError(ValueError):
    """A value does not fit its field; the message is shown to the user as-is."""


def plain_number(value: int | float | Decimal) -> str:
    """A number as people and inputs type it: no exponent, no grouping (1234.5)."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class FieldType:
    """Base class of field types. Subclasses set the class attributes and override hooks."""

    #: The ``type`` in field definitions.
    name: ClassVar[str]
    #: JSON Schema ``properties`` this type adds to a field definition.
    properties: ClassVar[dict[str, Any]] = {}
    #: Type-specific properties a definition must have.
    required_properties: ClassVar[tuple[str, ...]] = ()
    #: PostgreSQL type of the typed expression: ``text numeric boolean date timestamptz time
    #: jsonb``; ``None`` when values cannot be filtered or sorted in SQL.
    sql_type: ClassVar[str | None] = "text"
    #: Filter operators the list API accepts for this type.
    operators: ClassVar[tuple[str, ...]] = EQUALITY_OPERATORS
    #: Sortable and indexable.
    sortable: ClassVar[bool] = True
    #: Values are computed by Trellis, never written by clients.
    computed: ClassVar[bool] = False

    # Capabilities: what core code asks of a type instead of testing its name. The
    # built-in types declare them like any plugin type would (see docs/plugins.md).

    #: Values live in the record's JSONB ``data``; False: computed on every read, from the
    #: definition's ``expression`` and ``return_type`` like a formula field (or, with
    #: ``aggregates``, from child records).
    stored: ClassVar[bool] = True
    #: Not stored: the value summarises (``function``) the records of ``summarized_object``
    #: whose ``relationship_field`` points here, like a roll-up.
    aggregates: ClassVar[bool] = False
    #: Values are ids of ``target`` records: checked to exist, kept in ``record_refs``
    #: (``on_delete``), indexed, and followed by formula paths (``Account.Name``).
    references_records: ClassVar[bool] = False
    #: Trellis gives each new record the next number of a per-field counter
    #: (:meth:`sequence_start`, shown through :meth:`format_sequence`), like an auto-number.
    sequence: ClassVar[bool] = False
    #: The value a new record gets when neither the client nor a ``default`` gives one.
    default_when_absent: ClassVar[Any] = None
    #: May be an object's ``name_field``, the text that names its records.
    usable_as_name: ClassVar[bool] = False
    #: May be marked ``external_id``: the key another system knows a record by, which the
    #: API upserts by (``PUT .../records/by/<field>/<value>``). Such a field is unique.
    usable_as_external_id: ClassVar[bool] = False
    #: What erasing a person's data (trellis.records.privacy) does with values of this type:
    #: ``"email"``, an email address: records about a person are found by it, and it is
    #: blanked wherever it is theirs; ``"personal"``: blanked on the person's own record;
    #: None: kept (a number, a picklist or a lookup describes a record, not who it is).
    personal_data: ClassVar[str | None] = None
    #: The built-in form widget that edits values of this type (``text``, ``textarea``,
    #: ``rich_text``, ``email``, ``phone``, ``url``, ``number``, ``currency``, ``percent``,
    #: ``date``, ``datetime``, ``time``, ``checkbox``, ``picklist``, ``multi_picklist``,
    #: ``lookup``: see trellis.views.widgets); None: the widget of its :meth:`formula_type`,
    #: else a one-line text input.
    widget: ClassVar[str | None] = None
    #: Values hold words people look for: global search (trellis.records.search_terms)
    #: indexes the :meth:`search_text` of stored values of such fields, in the write's
    #: transaction. Numbers, dates and lookups are found through list filters instead.
    searchable: ClassVar[bool] = False

    def search_text(self, stored: Any, field: dict[str, Any]) -> str | None:
        """The plain text global search indexes and shows for a stored value (None when
        blank): the value as a user reads it, without markup."""
        if stored is None or stored == "":
            return None
        return str(stored)

    def anonymised_value(self, field: dict[str, Any], record_id: uuid.UUID) -> Any:
        """The value that replaces a person's in a field that may not be blank (a required
        field, the record's name) of record ``record_id``; None when the type has none, so
        such a field cannot be erased. Unique fields need a value of their own per record."""
        return None

    def choices(self, field: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The values a user picks from, in order, as ``{"value", "label", "active"}``
        dicts (forms offer the active ones); None when values are not chosen from a list."""
        return None

    def sequence_start(self, field: dict[str, Any]) -> int:
        """The first number a ``sequence`` field gives (the definition's ``start``, or 1)."""
        start = field.get("start", 1)
        return start if isinstance(start, int) and not isinstance(start, bool) else 1

    def format_sequence(self, field: dict[str, Any], number: int) -> Any:
        """The stored value of a ``sequence`` field for its ``number``."""
        return str(number)

    def sql_type_for(self, field: dict[str, Any]) -> str | None:
        """The SQL type of this field's values (computed types depend on the definition)."""
        return self.sql_type

    def operators_for(self, field: dict[str, Any]) -> tuple[str, ...]:
        """Filter operators for this field."""
        return self.operators

    def validate_definition(self, field: dict[str, Any]) -> list[str]:
        """Checks beyond the JSON Schema (e.g. scale not above precision); messages or []."""
        return []

    def marshmallow_field(self, field: dict[str, Any]) -> marshmallow.fields.Field:
        """A marshmallow field whose ``deserialize`` returns the normalised, JSON-storable value."""
        raise NotImplementedError

    def normalize(self, value: Any, field: dict[str, Any]) -> Any:
        """Validate and normalise one value (``None`` is blank); raises :class:`FieldValueError`."""
        try:
            return self.marshmallow_field(field).deserialize(value)
        except marshmallow.ValidationError as error:
            messages = error.messages
            text = messages[0] if isinstance(messages, list) and messages else str(messages)
            raise FieldValueError(str(text)) from None

    def normalizer(self, field: dict[str, Any]) -> Callable[[Any], Any]:
        """:meth:`normalize` for one definition, made once per metadata revision: the records
        service calls it for every value written. A type whose checks depend on the
        definition (a length, a scale, the allowed values) can read it here, once."""
        return lambda value: self.normalize(value, field)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        """OpenAPI 3.1 (JSON Schema 2020-12) schema of the stored value, blank included."""
        return {"type": ["string", "null"]}

    def formula_type(self, field: dict[str, Any]) -> str:
        """The type name the formula engine uses for this field."""
        return self.name

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> Any:
        """The Python value the formula engine sees for a stored JSON value."""
        return stored

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> Any:
        """Turn a query-string value into a comparable stored value."""
        if self.sql_type in {"numeric", "boolean"}:
            # Query strings are text; numbers and booleans arrive as their JSON spelling.
            try:
                return self.normalize(json.loads(raw), field)
            except ValueError:
                pass
        return self.normalize(raw, field)

    def sql_accepts(self, text_expression: str, field: dict[str, Any]) -> str | None:
        """A SQL predicate over the stored text true when a value fits this type, or None
        when every value fits. Used to refuse type changes that would lose data."""
        return None

    def csv_cell(self, value: Any, field: dict[str, Any]) -> str:
        """A stored value as one CSV cell that :meth:`from_csv_cell` reads back as the same
        value: blank is empty, true/false, numbers plain (``1234.5``), lists joined by
        ``;``, dates and times as stored (ISO 8601), a lookup as the text it is given
        (the exporter gives the related record's name)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float, Decimal)):
            return plain_number(value)
        if isinstance(value, list):
            return ";".join(self.csv_cell(item, field) for item in value)
        if isinstance(value, dict):
            return json.dumps(value, sort_keys=True)
        return str(value)

    def from_csv_cell(self, text: str, field: dict[str, Any]) -> Any:
        """One CSV cell as the value the records service takes: the type's normaliser
        reads the text (an empty cell is blank); a ``references_records`` type's cell is
        the related record's name (or id), returned as trimmed text for the importer to
        resolve. Raises :class:`FieldValueError`."""
        trimmed = text.strip()
        if self.references_records:
            return trimmed or None
        return self.normalize(trimmed or None, field)


class FieldTypeRegistry:
    """Field types by name; filled through the ``register_field_types`` hook."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, field_type: FieldType) -> FieldType:
        if not getattr(field_type, "name", None):
            raise ValueError("a field type needs a name")
        if field_type.name in self._types:
            raise ValueError(f"field type {field_type.name!r} is already registered")
        self._types[field_type.name] = field_type
        return field_type

    def get(self, name: str) -> FieldType:
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def all(self) -> Iterable[FieldType]:
        return self._types.values()
