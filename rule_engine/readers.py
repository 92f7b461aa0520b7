"""Closures that read one field of the record as its formula value: the leaves of
every compiled formula, and the ``Closure`` type they all share."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from trellis.rule_engine import kinds
from trellis.rule_engine.values import (
    CONVERTERS,
    DECIMAL_CONTEXT,
    MISSING,
    ZERO,
    Environment,
    lookup_case_insensitive,
)

Closure = Callable[[Any, Environment], Any]

_ZERO_DEFAULTS = {kinds.NUMBER: ZERO, kinds.CURRENCY: ZERO, kinds.PERCENT: ZERO, kinds.TEXT: ""}


def make_reader(key: str, kind: str, blank_mode: str) -> Closure:
    """Closure reading one field from the record, converted to its formula value."""
    lowered = key.lower()
    convert = CONVERTERS[kind]
    default = _ZERO_DEFAULTS.get(kind) if blank_mode == "zero" else None
    percent = kind == kinds.PERCENT

    if kind in kinds.NUMBER_KINDS:

        def read_number(record: Any, environment: Environment) -> Any:
            value = record.get(key, MISSING)
            if value is MISSING:
                value = lookup_case_insensitive(record, lowered)
            if value is None:
                return default
            if type(value) is not Decimal:
                value = convert(value)
            # Percent fields store the number shown (25 for 25%); formulas see 0.25.
            return value.scaleb(-2, DECIMAL_CONTEXT) if percent else value

        return read_number

    if kind == kinds.TEXT:

        def read_text(record: Any, environment: Environment) -> Any:
            value = record.get(key, MISSING)
            if value is MISSING:
                value = lookup_case_insensitive(record, lowered)
            if value is None or value == "":
                return default
            return value if type(value) is str else convert(value)

        return read_text

    def read_other(record: Any, environment: Environment) -> Any:
        value = record.get(key, MISSING)
        if value is MISSING:
            value = lookup_case_insensitive(record, lowered)
        return convert(value)

    return read_other
