"""What formula editors read from the engine: an error's span as offsets and the name it
suggests, and the function catalogue generated from the registry (signature, help and
group of every function, a plugin's included)."""

from __future__ import annotations

import pytest

from trellis.rule_engine import FormulaError, compile_formula, new_registry
from trellis.rule_engine.functions import catalogue

FIELDS = {"Amount": "currency", "Stage": "picklist", "Account.Name": "text"}


def error_of(source: str) -> FormulaError:
    with pytest.raises(FormulaError) as raised:
        compile_formula(source, FIELDS, expected_type="checkbox")
    return raised.value


@pytest.mark.parametrize(
    ("source", "marked", "suggestion"),
    [
        ("Amout > 1", "Amout", "Amount"),
        ("AND(Amount > 1,\n  Acount.Name = 'x')", "Acount.Name", "Account.Name"),
        ("IFF(TRUE, TRUE, FALSE)", "IFF", "IF"),
        ("Amount > 1 &&", "&&", None),
        ("Zzzzzz > 1", "Zzzzzz", None),
    ],
)
def test_an_error_spans_what_it_is_about(source: str, marked: str, suggestion: str | None) -> None:
    error = error_of(source)
    assert error.offsets is not None
    start, end = error.offsets
    assert source[start:end] == marked
    assert error.suggestion == suggestion
    assert error.to_dict()["offsets"] == [start, end]
    assert error.to_dict()["suggestion"] == suggestion


def test_an_error_without_a_source_has_no_offsets() -> None:
    assert FormulaError("x", line=1, column=1).offsets is None
    assert FormulaError("x").to_dict()["offsets"] is None


def test_the_catalogue_lists_every_function_with_its_signature() -> None:
    registry = new_registry()

    @registry.function("DISCOUNTED", args=["number", "percent?"], returns="currency")
    def discounted(amount, rate=None):  # type: ignore[no-untyped-def]
        return amount

    entries = {entry["name"]: entry for entry in catalogue(registry)}
    assert set(entries) == set(registry)
    for name, entry in entries.items():
        assert entry["signature"].startswith(f"{name}(") and entry["signature"].endswith(")")
    assert entries["DISCOUNTED"] == {
        "name": "DISCOUNTED",
        "signature": "DISCOUNTED(number, [percent])",
        "description": "",
        "category": "Other",
    }
    assert entries["MID"]["signature"] == "MID(text, start, num_chars)"
    assert entries["MID"]["description"].startswith("num_chars characters")
    assert entries["CASE"]["category"] == "Logical" and entries["TEXT"]["category"] == "Text"
    assert entries["ADDMONTHS"]["category"] == "Date and time"
    assert entries["MAX"]["signature"] == "MAX(number, ...)"
