"""Math functions: ABS CEILING FLOOR MCEILING MFLOOR ROUND TRUNC MOD MAX MIN
SQRT EXP LN LOG PI.

All arithmetic is decimal. As in Salesforce, CEILING rounds away from zero
and FLOOR towards zero for negative numbers; MCEILING and MFLOOR are the
mathematical versions; ROUND rounds half away from zero.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, null, or_

from trellis.rule_engine import kinds
from trellis.rule_engine.errors import FormulaRuntimeError
from trellis.rule_engine.functions.registry import FunctionRegistry
from trellis.rule_engine.functions.sql_helpers import integer, simple
from trellis.rule_engine.values import DECIMAL_CONTEXT, integer_argument

PI = Decimal("3.1415926535897932384626433832795028842")


def _same_as_first(argument_kinds: list[str]) -> str:
    kind = argument_kinds[0]
    return kind if kind in kinds.NUMBER_KINDS else kinds.NUMBER


def _common_number(argument_kinds: list[str]) -> str:
    found = {kind for kind in argument_kinds if kind in kinds.NUMBER_KINDS}
    return found.pop() if len(found) == 1 else kinds.NUMBER


def _integral(value: Decimal, rounding: str) -> Decimal:
    return value.to_integral_value(rounding=rounding, context=DECIMAL_CONTEXT)


def _digits(value: Decimal | None) -> int:
    return 0 if value is None else integer_argument(value, "number of digits", 100)


def round_half_away(value: Decimal, digits: int, rounding: str = decimal.ROUND_HALF_UP) -> Decimal:
    """Quantise to ``digits`` decimals (negative: tens, hundreds...)."""
    if not value.is_finite():
        return value
    exponent = Decimal(1).scaleb(-digits)
    if value.adjusted() - (-digits) > 100:  # already far more precise than asked
        return value
    return value.quantize(exponent, rounding=rounding, context=decimal.Context(prec=200))


def _extreme_sql(function_name: str) -> Any:
    """MAX and MIN are blank when any argument is (PostgreSQL's greatest and least skip NULLs)."""

    def translate(compiler: Any, node: Any, args: list) -> Any:
        any_blank = or_(*[argument.is_(None) for argument in args])
        return case((any_blank, null()), else_=getattr(func, function_name)(*args))

    return translate


def register(registry: FunctionRegistry) -> None:
    """Register the math functions, one sub-family at a time."""
    _register_arithmetic(registry)
    _register_integer_rounding(registry)
    _register_digit_rounding(registry)
    _register_powers_and_logarithms(registry)


def _register_arithmetic(registry: FunctionRegistry) -> None:
    """ABS, MOD, MAX, MIN: magnitude, remainder and extremes."""

    @registry.function(
        "ABS",
        args=["number"],
        returns=_same_as_first,
        sql=simple(func.abs),
        description="Absolute value",
    )
    def absolute(value: Decimal) -> Decimal:
        return abs(value)

    @registry.function(
        "MOD",
        args=["number", "number"],
        returns=_same_as_first,
        sql=simple(func.mod),
        description="Remainder of number / divisor, with the sign of number",
    )
    def mod(value: Decimal, divisor: Decimal) -> Decimal:
        if not divisor:
            raise FormulaRuntimeError("division by zero in MOD")
        return DECIMAL_CONTEXT.remainder(value, divisor)

    @registry.function(
        "MAX",
        args=["*number"],
        returns=_common_number,
        sql=_extreme_sql("greatest"),
        description="The largest argument; blank if any is blank",
    )
    def maximum(*values: Decimal) -> Decimal:
        return max(values)

    @registry.function(
        "MIN",
        args=["*number"],
        returns=_common_number,
        sql=_extreme_sql("least"),
        description="The smallest argument; blank if any is blank",
    )
    def minimum(*values: Decimal) -> Decimal:
        return min(values)


def _register_integer_rounding(registry: FunctionRegistry) -> None:
    """CEILING, FLOOR, MCEILING, MFLOOR: rounding to a whole number."""

    @registry.function(
        "CEILING",
        args=["number"],
        returns=_same_as_first,
        sql=lambda c, n, a: func.sign(a[0]) * func.ceil(func.abs(a[0])),
        description="Round up to an integer, away from zero for negatives",
    )
    def ceiling(value: Decimal) -> Decimal:
        return _integral(value, decimal.ROUND_UP)

    @registry.function(
        "FLOOR",
        args=["number"],
        returns=_same_as_first,
        sql=lambda c, n, a: func.trunc(a[0]),
        description="Round down to an integer, towards zero for negatives",
    )
    def floor(value: Decimal) -> Decimal:
        return _integral(value, decimal.ROUND_DOWN)

    @registry.function(
        "MCEILING",
        args=["number"],
        returns=_same_as_first,
        sql=simple(func.ceil),
        description="Mathematical ceiling (towards +infinity)",
    )
    def math_ceiling(value: Decimal) -> Decimal:
        return _integral(value, decimal.ROUND_CEILING)

    @registry.function(
        "MFLOOR",
        args=["number"],
        returns=_same_as_first,
        sql=simple(func.floor),
        description="Mathematical floor (towards -infinity)",
    )
    def math_floor(value: Decimal) -> Decimal:
        return _integral(value, decimal.ROUND_FLOOR)


def _register_digit_rounding(registry: FunctionRegistry) -> None:
    """ROUND and TRUNC: rounding to a number of decimal digits."""

    @registry.function(
        "ROUND",
        args=["number", "number"],
        returns=_same_as_first,
        sql=lambda c, n, a: func.round(a[0], integer(a[1])),
        description="ROUND(number, digits): rounded to digits decimals, half away from zero",
    )
    def round_(value: Decimal, digits: Decimal) -> Decimal:
        return round_half_away(value, _digits(digits))

    @registry.function(
        "TRUNC",
        args=["number", "number?"],
        returns=_same_as_first,
        propagate_blank=False,
        sql=lambda c, n, a: func.trunc(a[0], integer(a[1]) if len(a) > 1 else 0),
        description="TRUNC(number[, digits]): drop the decimals past digits, towards zero",
    )
    def trunc(value: Decimal | None, digits: Decimal | None = None) -> Decimal | None:
        if value is None:
            return None
        return round_half_away(value, _digits(digits), decimal.ROUND_DOWN)


def _register_powers_and_logarithms(registry: FunctionRegistry) -> None:
    """SQRT, EXP, LN, LOG and PI."""

    @registry.function(
        "SQRT",
        args=["number"],
        returns="number",
        description="Square root; an error for negative numbers",
    )
    def square_root(value: Decimal) -> Decimal:
        if value < 0:
            raise FormulaRuntimeError("SQRT of a negative number")
        return DECIMAL_CONTEXT.sqrt(value)

    @registry.function("EXP", args=["number"], returns="number", description="e to the power")
    def exponential(value: Decimal) -> Decimal:
        if value > 2000:
            raise FormulaRuntimeError("EXP argument is too large")
        return DECIMAL_CONTEXT.exp(value)

    @registry.function(
        "LN",
        args=["number"],
        returns="number",
        description="Natural logarithm; an error for zero or negative numbers",
    )
    def natural_log(value: Decimal) -> Decimal:
        if value <= 0:
            raise FormulaRuntimeError("LN needs a number greater than zero")
        return DECIMAL_CONTEXT.ln(value)

    @registry.function(
        "LOG",
        args=["number"],
        returns="number",
        description="Base-10 logarithm; an error for zero or negative numbers",
    )
    def log10(value: Decimal) -> Decimal:
        if value <= 0:
            raise FormulaRuntimeError("LOG needs a number greater than zero")
        return DECIMAL_CONTEXT.log10(value)

    @registry.function("PI", args=[], returns="number", description="3.14159...")
    def pi() -> Decimal:
        return PI
