"""Number, currency and percent: one decimal base with precision and scale.

Values are rounded to ``scale`` places half away from zero (as Salesforce and
PostgreSQL's ``round`` do) and limited to ``precision`` significant digits. The
cap of 15 digits is what makes storage simple: any decimal of at most 15
significant digits survives a trip through a JSON number / IEEE double exactly,
so values are stored as plain JSON numbers and read back as exact ``Decimal``.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from trellis.metadata.field_types import ORDERED_OPERATORS, FieldValueError

from .base import WHITESPACE, BuiltinFieldType, integer_property, kind_of, sql_matches, sql_trimmed

MAX_PRECISION = 15

#: Numeric text: optional sign, digits with an optional fraction, an exponent of at
#: most three digits (so PostgreSQL's numeric cast of a matching text cannot overflow).
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"

# Wide enough for any accepted input: 15 digits before the point, a 3-digit exponent.
_CONTEXT = decimal.Context(prec=2100, rounding=ROUND_HALF_UP, Emax=10000, Emin=-10000)


def to_decimal(value: Any) -> Decimal | None:
    """An exact, finite Decimal from an int, float, Decimal or numeric text; None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldValueError("Enter a number, not true/false.")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldValueError("Enter a finite number.")
        # repr is the shortest text that reads back as the same float: 0.1, not 0.1000…055.
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldValueError("Enter a finite number.")
        return value
    if isinstance(value, str):
        text = value.strip(WHITESPACE)
        if not text:
            return None
        if not re.fullmatch(NUMBER_PATTERN, text):
            raise FieldValueError(f"Enter a number, such as 12.5 or -3 (got {value!r}).")
        return Decimal(text)
    raise FieldValueError(f"Enter a number, not {kind_of(value)}.")


def stored_number(number: Decimal) -> int | float:
    """The JSON form: an int when integral (also for -0), else a float (exact here)."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def stored_to_decimal(stored: Any) -> Decimal | None:
    """Read a stored JSON number back as the exact Decimal it was written from."""
    if stored is None:
        return None
    if isinstance(stored, float):
        return Decimal(repr(stored))
    return Decimal(stored)


class DecimalType(BuiltinFieldType):
    """Shared base: ``precision`` total digits, ``scale`` of them after the point."""

    default_scale: ClassVar[int] = 2
    sql_type = "numeric"
    operators = ORDERED_OPERATORS

    properties: ClassVar[dict[str, Any]] = {
        "precision": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PRECISION,
            "default": MAX_PRECISION,
            "description": "Total digits, at most 15.",
        },
        "scale": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_PRECISION,
            "default": 2,
            "description": "Digits after the decimal point; values are rounded to it.",
        },
    }

    def digits(self, field: dict[str, Any]) -> tuple[int, int]:
        """``(precision, scale)`` of a definition, with defaults."""
        precision = integer_property(field, "precision", MAX_PRECISION)
        scale = integer_property(field, "scale", self.default_scale)
        return precision, scale

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        precision, scale = self.digits(field)
        if scale > precision:
            return [f"scale ({scale}) cannot be more than precision ({precision})."]
        return []

    def normalizer(self, field: dict[str, Any]) -> Callable[[Any], int | float | None]:
        """Round to scale and check the digits before the point; raises FieldValueError."""
        precision, scale = self.digits(field)
        integer_digits = precision - scale
        quantum, bound = Decimal(1).scaleb(-scale), Decimal(10) ** integer_digits
        too_big = (
            f"At most {integer_digits} digits before the decimal point."
            if integer_digits
            else "Must be between -1 and 1."
        )

        def normalize(value: Any) -> int | float | None:
            number = to_decimal(value)
            if number is None:
                return None
            # Cheap guard before quantize, which would fail on huge exponents.
            if number.adjusted() >= integer_digits + 1:
                raise FieldValueError(too_big)
            rounded = number.quantize(quantum, context=_CONTEXT)
            if abs(rounded) >= bound:
                raise FieldValueError(too_big)
            return stored_number(rounded)

        return normalize

    def normalize(self, value: Any, field: dict[str, Any]) -> int | float | None:
        return self.normalizer(field)(value)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        precision, scale = self.digits(field)
        largest = (Decimal(10) ** (precision - scale)) - Decimal(1).scaleb(-scale)
        return {
            "type": ["integer" if scale == 0 else "number", "null"],
            "minimum": stored_number(-largest),
            "maximum": stored_number(largest),
        }

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> Decimal | None:
        return stored_to_decimal(stored)

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> Decimal | None:
        """Exact and unrounded: ``Amount__gt=10.555`` must not turn into ``> 10.56``."""
        return to_decimal(raw)

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        precision, scale = self.digits(field)
        trimmed = sql_trimmed(text_expression)
        # round(numeric, s) rounds half away from zero, like ROUND_HALF_UP above.
        return (
            f"(CASE WHEN {sql_matches(text_expression, NUMBER_PATTERN)} "
            f"THEN abs(round(CAST({trimmed} AS numeric), {scale})) "
            f"< CAST('1e{precision - scale}' AS numeric) ELSE false END)"
        )


class NumberType(DecimalType):
    """A plain number (quantities, scores)."""

    name = "number"
    usable_as_external_id = True
    widget = "number"


class CurrencyType(DecimalType):
    """An amount of money in the tenant's currency; two decimals by default."""

    name = "currency"
    widget = "currency"


class PercentType(DecimalType):
    """A percentage stored as shown: 25 means 25%.

    The formula engine receives the number as stored and itself presents it to
    formulas as the fraction (0.25), as in Salesforce, so ``Amount * Discount``
    works without dividing by 100.
    """

    name = "percent"
    widget = "percent"


NUMBER_TYPES = (NumberType, CurrencyType, PercentType)
