"""What compiled operators do to values at run time: date and number arithmetic,
built text and its length cap, and locating a failure at the node that raised it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaError, FormulaRuntimeError
from trellis.rule_engine.values import (
    DECIMAL_CONTEXT,
    MAX_TEXT_LENGTH,
    SECONDS_PER_DAY,
    Environment,
)


def runtime_error(node: ast.Node, error: Exception) -> FormulaError:
    """Give an error the position of ``node`` (the innermost failing part); a formula
    error keeps its own class (a limit error stays one)."""
    span = node.span
    if isinstance(error, FormulaError):
        return error.located(span.line, span.column, span.end_line, span.end_column)
    if isinstance(error, ZeroDivisionError) or "DivisionByZero" in type(error).__name__:
        message = "division by zero"
    elif isinstance(error, (OverflowError, ArithmeticError)):
        message = "the result is out of range"
    else:
        message = f"cannot evaluate this part of the formula ({error})"
    return FormulaRuntimeError(
        message,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
    )


def _add_days_to_date(day: dt.date, days: Decimal) -> dt.date:
    return day + dt.timedelta(days=int(days))


def _add_days_to_datetime(moment: dt.datetime, days: Decimal) -> dt.datetime:
    microseconds = DECIMAL_CONTEXT.multiply(days, SECONDS_PER_DAY * 1_000_000)
    return moment + dt.timedelta(microseconds=int(microseconds.to_integral_value()))


def _add_milliseconds_to_time(moment: dt.time, milliseconds: Decimal) -> dt.time:
    base = dt.datetime.combine(dt.date(2000, 1, 1), moment)
    shifted = base + dt.timedelta(milliseconds=int(milliseconds % 86_400_000))
    return shifted.time()


def _days_between_datetimes(first: dt.datetime, second: dt.datetime) -> Decimal:
    delta = first - second
    microseconds = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return DECIMAL_CONTEXT.divide(Decimal(microseconds), SECONDS_PER_DAY * 1_000_000)


def _milliseconds_between_times(first: dt.time, second: dt.time) -> Decimal:
    def milliseconds(value: dt.time) -> int:
        seconds = (value.hour * 60 + value.minute) * 60 + value.second
        return seconds * 1000 + value.microsecond // 1000

    return Decimal(milliseconds(first) - milliseconds(second))


def _divide(first: Decimal, second: Decimal) -> Decimal:
    if not second:
        raise FormulaRuntimeError("division by zero")
    return DECIMAL_CONTEXT.divide(first, second)


def _power(first: Decimal, second: Decimal) -> Decimal:
    if abs(second) > 10_000 and abs(first) != 1:
        raise FormulaRuntimeError("the exponent is too large")
    return DECIMAL_CONTEXT.power(first, second)


def joined(node: ast.Node, first: Any, second: Any, environment: Environment) -> Any:
    """``first & second``."""
    return built_text(node, (first or "") + (second or ""), environment)


def built_text(node: ast.Node, text: str, environment: Environment) -> str | None:
    """Text a formula built (by ``&`` or a function): long results are charged to the step
    budget, and capped; the empty text is blank."""
    if len(text) > 1000:
        environment.charge(len(text) // 100)
        if len(text) > MAX_TEXT_LENGTH:
            raise runtime_error(
                node,
                FormulaRuntimeError(f"the text would be longer than {MAX_TEXT_LENGTH} characters"),
            )
    return text or None


def arithmetic_operation(operator_text: str, left: str, right: str) -> Callable[[Any, Any], Any]:
    """Pick the operation for + - * / ^ from the checked operand kinds."""
    temporal = (kinds.DATE, kinds.DATETIME, kinds.TIME)
    if operator_text == "+":
        if left == kinds.DATE or right == kinds.DATE:
            return (
                (lambda a, b: _add_days_to_date(a, b))
                if left == kinds.DATE
                else (lambda a, b: _add_days_to_date(b, a))
            )
        if left == kinds.DATETIME or right == kinds.DATETIME:
            return (
                (lambda a, b: _add_days_to_datetime(a, b))
                if left == kinds.DATETIME
                else (lambda a, b: _add_days_to_datetime(b, a))
            )
        if left == kinds.TIME or right == kinds.TIME:
            return (
                (lambda a, b: _add_milliseconds_to_time(a, b))
                if left == kinds.TIME
                else (lambda a, b: _add_milliseconds_to_time(b, a))
            )
        return DECIMAL_CONTEXT.add
    if operator_text == "-":
        if left in temporal and right in temporal:
            if left == kinds.DATE:
                return lambda a, b: Decimal((a - b).days)
            if left == kinds.DATETIME:
                return _days_between_datetimes
            return _milliseconds_between_times
        if left == kinds.DATE:
            return lambda a, b: _add_days_to_date(a, -b)
        if left == kinds.DATETIME:
            return lambda a, b: _add_days_to_datetime(a, -b)
        if left == kinds.TIME:
            return lambda a, b: _add_milliseconds_to_time(a, -b)
        return DECIMAL_CONTEXT.subtract
    if operator_text == "*":
        return DECIMAL_CONTEXT.multiply
    if operator_text == "/":
        return _divide
    return _power
