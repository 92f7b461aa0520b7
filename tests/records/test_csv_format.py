"""The CSV cell format shared by export and import: every built-in type's value reads back
from its cell as the same value, and a wrong cell is a clear error naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from trellis.metadata.compiled import CompiledField
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.plugins.field_types import register_field_types
from trellis.records.csv_format import CellError, cell_for, header_of, value_from_cell


@pytest.fixture(scope="module")
def registry() -> FieldTypeRegistry:
    built = FieldTypeRegistry()
    register_field_types(built)
    return built


def field(registry: FieldTypeRegistry, type_name: str, **definition: Any) -> CompiledField:
    body = {"api_name": "F", "label": "The field", "type": type_name, **definition}
    field_type = registry.get(type_name)
    return CompiledField("F", body, field_type, field_type.normalizer(body))


ROUND_TRIPS = [
    ("text", {}, 'Acme, "quoted"\nline', 'Acme, "quoted"\nline'),
    ("number", {"scale": 2}, 1234.5, "1234.5"),
    ("number", {"scale": 0}, 12000000, "12000000"),
    ("currency", {}, 0.1, "0.1"),
    ("percent", {}, -3, "-3"),
    ("checkbox", {}, True, "true"),
    ("checkbox", {}, False, "false"),
    ("date", {}, "2026-03-31", "2026-03-31"),
    ("datetime", {}, "2026-03-31T09:30:00Z", "2026-03-31T09:30:00Z"),
    ("time", {}, "09:30:00", "09:30:00"),
    ("picklist", {"values": ["Open", {"value": "Lost", "label": "Closed"}]}, "Lost", "Lost"),
    ("multi_picklist", {"values": ["Red", "Green", "Blue"]}, ["Red", "Blue"], "Red;Blue"),
    ("email", {}, "ada@example.com", "ada@example.com"),
    ("text", {}, None, ""),
]


@pytest.mark.parametrize(("type_name", "definition", "value", "cell"), ROUND_TRIPS)
def test_a_value_reads_back_from_its_cell(
    registry: FieldTypeRegistry, type_name: str, definition: dict, value: Any, cell: str
) -> None:
    compiled = field(registry, type_name, **definition)
    assert cell_for(compiled, value) == cell
    assert value_from_cell(compiled, cell) == value


def test_numbers_are_plain_whatever_their_magnitude(registry: FieldTypeRegistry) -> None:
    compiled = field(registry, "number", scale=8)
    assert cell_for(compiled, 1e-7) == "0.0000001"
    assert cell_for(compiled, 2.50) == "2.5"


def test_a_blank_checkbox_cell_is_false_and_a_blank_cell_is_none(
    registry: FieldTypeRegistry,
) -> None:
    assert value_from_cell(field(registry, "checkbox"), "") is False
    assert value_from_cell(field(registry, "number"), "  ") is None


def test_a_lookup_cell_is_the_name_text_for_the_importer(registry: FieldTypeRegistry) -> None:
    lookup = field(registry, "lookup", target="Account")
    assert cell_for(lookup, "Acme Ltd") == "Acme Ltd"
    assert value_from_cell(lookup, " Acme Ltd ") == "Acme Ltd"
    assert value_from_cell(lookup, "") is None


def test_a_wrong_cell_names_the_field_and_the_reason(registry: FieldTypeRegistry) -> None:
    with pytest.raises(CellError) as raised:
        value_from_cell(field(registry, "number"), "12,5")
    assert raised.value.message.startswith("The field: Enter a number")
    assert raised.value.status == 422
    with pytest.raises(CellError, match="not allowed"):
        value_from_cell(field(registry, "picklist", values=["Open"]), "Shut")


def test_a_computed_field_is_exported_but_not_imported(registry: FieldTypeRegistry) -> None:
    formula = field(registry, "formula", expression="1", return_type="number")
    assert cell_for(formula, 3) == "3"
    with pytest.raises(CellError, match="computed and cannot be imported"):
        value_from_cell(formula, "3")
    assert header_of(formula) == "The field"
