"""How a field's value is written in a CSV cell and read back, the one format CSV export
and CSV import share (docs/csv.md), so a file exported can be imported as it is.

- The first column is headed :data:`ID_HEADER` ("Id") and holds the record id; every
  other column is headed by its field's label (:func:`header_of`).
- :func:`cell_for` gives a value's cell and :func:`value_from_cell` the value a cell
  holds, as the records service takes it; each asks the field's type
  (``FieldType.csv_cell`` / ``FieldType.from_csv_cell``), so a plugin type chooses
  its own format. The built-in formats: blank is an empty cell, checkboxes ``true`` /
  ``false``, numbers plain (``1234.5``: no grouping, no exponent, no currency sign),
  dates ``2026-03-31``, date-times ISO 8601 in UTC (``2026-03-31T09:30:00Z``), times
  ``09:30:00``, a picklist by its value, a multi-select's values joined by ``;``.
- A lookup's cell is the related record's name (its object's name field), the text
  the import matches by name; where the exporter may not read that name the cell holds
  the related record's id. :func:`value_from_cell` gives a lookup's cell back as
  trimmed text: the importer resolves it (an id, else a name).
- Computed fields (formulas, roll-ups, auto-numbers) are exported but cannot be
  imported: :func:`value_from_cell` refuses them (:func:`is_importable` says so first).
"""

from __future__ import annotations

from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import CompiledField
from trellis.metadata.field_types import FieldValueError

ID_HEADER = "Id"


class CellError(ValidationError):
    """A cell that does not hold a value of its field; the message says why, in words a
    person who edited the file understands."""


def header_of(field: CompiledField) -> str:
    """The column heading of a field: its label (its api_name when it has none)."""
    return str(field.definition.get("label") or field.api_name)


def cell_for(field: CompiledField, value: Any) -> str:
    """The CSV cell of a stored value of ``field`` (a lookup's: the name or id text)."""
    return field.type.csv_cell(value, field.definition)


def is_importable(field: CompiledField) -> bool:
    """Whether a column of ``field`` can be imported (computed values cannot)."""
    return not field.type.computed


def value_from_cell(field: CompiledField, text: str) -> Any:
    """The value a CSV cell of ``field`` holds, as the records service takes it (None for
    blank); raises :class:`CellError` with the field's label and the reason."""
    label = header_of(field)
    if not is_importable(field):
        raise CellError(
            f"{label} is computed and cannot be imported; leave its column out.",
            code="computed_field",
            fields={field.api_name: ["Computed: cannot be imported."]},
        )
    try:
        return field.type.from_csv_cell(text, field.definition)
    except FieldValueError as error:
        raise CellError(
            f"{label}: {error}", code="invalid_cell", fields={field.api_name: [str(error)]}
        ) from None
