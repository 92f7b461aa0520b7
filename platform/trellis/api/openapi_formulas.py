"""The OpenAPI description of the formula endpoints: the field types a formula can use,
the formula check and trying a formula on a record."""

from __future__ import annotations

from typing import Any

from trellis.api.meta import PURPOSES
from trellis.api.openapi_schema import (
    API_NAME,
    BOOLEAN,
    INTEGER,
    META,
    OPTIONAL_TEXT,
    TEXT,
    UUID,
    array,
    data_of,
    operation,
    ref,
    shape,
)

# The check answers with the type the formula has; it is invalid unless that is the
# type its use needs: a checkbox (true/false) for these purposes, any for the others.
FORMULA_CHECK = (
    "`purpose` says where the formula will be used and so the type it must have: "
    + ", ".join(f"`{name}`" for name, options in PURPOSES.items() if "expected_type" in options)
    + " (the default is `validation_rule`) expect a checkbox (true/false); "
    + ", ".join(f"`{name}`" for name, options in PURPOSES.items() if "expected_type" not in options)
    + " accept any type. `return_type` (a field type, such as `currency`) sets the type "
    "it must have instead."
)


FORMULA_EVALUATE = (
    "For the formula editor's Try it: the value the formula has on the record, as the "
    "administrator (manage_metadata) sees it. The record, the fields the formula reads "
    "and the records it reaches through lookups are read through the caller's access: a "
    "record they may not read is a 404, a field hidden from them a 403, and a related "
    "record they may not read reads as blank. An invalid formula, or one failing on this "
    "record (division by zero), answers `valid: false` with the error and its position."
)


def formula_error() -> dict[str, Any]:
    """A formula's error as the check and the evaluation give it: where it is (line and
    column, 1-based; offsets into the expression, end exclusive) and the name meant."""
    return shape(
        {
            "type": {"enum": ["syntax", "type", "runtime", "limit", "sql", "error"]},
            "message": TEXT,
            "line": {"type": ["integer", "null"]},
            "column": {"type": ["integer", "null"]},
            "end_line": {"type": ["integer", "null"]},
            "end_column": {"type": ["integer", "null"]},
            "snippet": TEXT,
            "offsets": {"type": ["array", "null"], "items": INTEGER},
            "suggestion": {**OPTIONAL_TEXT, "description": "The field or function meant."},
        },
        ["message"],
        closed=False,
    )


FORMULA_BODY = {
    "object": {**API_NAME, "description": "The object it runs on."},
    "expression": {**TEXT, "description": "The formula."},
    "purpose": {"enum": list(PURPOSES), "default": "validation_rule"},
    "return_type": {
        **OPTIONAL_TEXT,
        "description": "The type it must have, overriding the purpose's.",
    },
}


def evaluation() -> dict[str, Any]:
    """What trying a formula answers: its value, or the error."""
    return shape(
        {
            "valid": BOOLEAN,
            "return_type": TEXT,
            "value": {
                "type": ["string", "boolean", "array", "null"],
                "items": TEXT,
                "description": "Numbers as exact text, dates and times in ISO 8601.",
            },
            "error": formula_error(),
        },
        ["valid"],
    )


def formula_paths() -> dict[str, dict[str, Any]]:
    """The field types a formula can use, the formula check and trying a formula."""
    checked = shape(
        {
            "valid": BOOLEAN,
            "return_type": TEXT,
            "references": array(TEXT),
            "error": formula_error(),
        },
        ["valid"],
    )
    formula_body, evaluated = FORMULA_BODY, evaluation()
    return {
        "/meta/field-types": {
            "get": operation("listFieldTypes", "Field types", META, 200, data_of(ref("FieldType")))
        },
        "/meta/formulas/check": {
            "post": {
                **operation(
                    "checkFormula",
                    "Check a formula: its type, or the error and where it is",
                    META,
                    200,
                    checked,
                    errors=(400, 404, 413, 415, 422),
                    body=shape(formula_body, ["object", "expression"]),
                ),
                "description": FORMULA_CHECK,
            }
        },
        "/meta/formulas/evaluate": {
            "post": {
                **operation(
                    "evaluateFormula",
                    "Try a formula on a record: its value, or the error and where it is",
                    META,
                    200,
                    evaluated,
                    errors=(400, 403, 404, 413, 415, 422),
                    body=shape(
                        {**formula_body, "record_id": {**UUID, "description": "The record."}},
                        ["object", "expression", "record_id"],
                    ),
                ),
                "description": FORMULA_EVALUATE,
            }
        },
    }
