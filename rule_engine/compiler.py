"""Compile a checked AST into nested Python closures.

No ``eval``/``exec`` and no attribute access on user data: a closure can only
read the record mapping by the field keys resolved at compile time. Common
shapes (a field compared with a constant, ISPICKVAL/ISBLANK on a field,
AND/OR of a few conditions) get specialised closures so that a compiled
validation rule runs close to a hand-written Python check.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaError, FormulaRuntimeError
from trellis.rule_engine.functions import is_builtin
from trellis.rule_engine.values import (
    CONVERTERS,
    DECIMAL_CONTEXT,
    MAX_TEXT_LENGTH,
    MISSING,
    SECONDS_PER_DAY,
    ZERO,
    Environment,
    equal,
    lookup_case_insensitive,
)

if TYPE_CHECKING:
    from trellis.rule_engine.checker import CheckedFormula

Closure = Callable[[Any, Environment], Any]

_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MIRRORED = {
    operator.lt: operator.gt,
    operator.le: operator.ge,
    operator.gt: operator.lt,
    operator.ge: operator.le,
}
"""The comparison with its operands swapped: ``a < b`` is ``b > a``."""
_ZERO_DEFAULTS = {kinds.NUMBER: ZERO, kinds.CURRENCY: ZERO, kinds.PERCENT: ZERO, kinds.TEXT: ""}
_NEVER_BLANK_TESTS = frozenset(
    {"ISBLANK", "ISPICKVAL", "ISNULL", "ISCHANGED", "ISNEW", "AND", "OR"}
)
"""Functions whose result is TRUE or FALSE, never blank: ``NOT`` of them is a plain ``not``."""


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


def junction_operands(checked: CheckedFormula, node: ast.Node) -> tuple[str, list[ast.Node]] | None:
    """``("AND" | "OR", operands)`` when ``node`` is the built-in AND()/OR() or a chain
    of ``&&`` or of ``||`` (which mean the same), else None.

    A chain is flattened along its left operands (``a && b && c`` has three); an
    operand that is another kind of junction stays one operand
    (``(a && b) || c`` is an OR of two).
    """
    if isinstance(node, ast.FunctionCall):
        spec = checked.functions.get(node)
        if spec is not None and spec.name in ("AND", "OR") and is_builtin(spec):
            return spec.name, list(node.arguments)
        return None
    if not isinstance(node, ast.BinaryOperation) or node.operator not in ("&&", "||"):
        return None
    operator_text, rights = node.operator, []
    current: ast.Node = node
    while isinstance(current, ast.BinaryOperation) and current.operator == operator_text:
        rights.append(current.right)
        current = current.left
    return ("AND" if operator_text == "&&" else "OR"), [current, *reversed(rights)]


class Junction(NamedTuple):
    """A formula's root AND/OR: ``"AND"`` or ``"OR"`` and its operand closures."""

    operator: str
    operands: tuple[Closure, ...]


def combine(operator_text: str, closures: tuple[Closure, ...]) -> Closure:
    """AND/OR (or && / ||) of condition closures: short-circuit, blank counts as
    FALSE, the result is never blank. Two and three operands (most rules) get an
    unrolled closure; ``True if ... else False`` is cheaper than ``bool(...)``."""
    if operator_text in ("&&", "AND"):
        if len(closures) == 2:
            first, second = closures
            return lambda record, environment: (
                True if first(record, environment) and second(record, environment) else False  # noqa: SIM210 - cheaper than bool() on the hot path
            )
        if len(closures) == 3:
            first, second, third = closures
            return lambda record, environment: (
                True  # noqa: SIM210 - cheaper than bool() on the hot path
                if first(record, environment)
                and second(record, environment)
                and third(record, environment)
                else False
            )

        def all_true(record: Any, environment: Environment) -> bool:
            # A plain loop: all() over a generator costs several times more per call.
            for closure in closures:  # noqa: SIM110 - see above
                if not closure(record, environment):
                    return False
            return True

        return all_true
    if len(closures) == 2:
        first, second = closures
        return lambda record, environment: (
            True if first(record, environment) or second(record, environment) else False  # noqa: SIM210 - cheaper than bool() on the hot path
        )

    def any_true(record: Any, environment: Environment) -> bool:
        # A plain loop: any() over a generator costs several times more per call.
        for closure in closures:  # noqa: SIM110 - see above
            if closure(record, environment):
                return True
        return False

    return any_true


class PythonCompiler:
    """Turns a :class:`CheckedFormula` into one closure ``(record, environment)``."""

    def __init__(self, checked: CheckedFormula, blank_mode: str) -> None:
        self.checked = checked
        self.blank_mode = blank_mode

    def compile(self) -> Closure:
        return self.compile_root()[0]

    def compile_root(self) -> tuple[Closure, Junction | None]:
        """The formula's closure and, when its root is an AND or OR of conditions
        (the usual validation rule), that junction's operand closures, so that
        ``evaluate`` can combine them itself: one Python call less per record."""
        found = junction_operands(self.checked, self.checked.root)
        if found is None:
            return self.node(self.checked.root), None
        operator_text, operands = found
        closures = tuple(self.node(operand) for operand in operands)
        return combine(operator_text, closures), Junction(operator_text, closures)

    def constant_value(self, node: ast.Node) -> tuple[bool, Any]:
        if isinstance(node, (ast.NumberLiteral, ast.TextLiteral, ast.BooleanLiteral)):
            return True, node.value
        if isinstance(node, ast.NullLiteral):
            return True, None
        if (
            isinstance(node, ast.UnaryOperation)
            and node.operator in "-+"
            and isinstance(node.operand, ast.NumberLiteral)
        ):
            return True, -node.operand.value if node.operator == "-" else node.operand.value
        return False, None

    def node(self, node: ast.Node) -> Closure:
        is_constant, value = self.constant_value(node)
        if is_constant:
            if value == "":
                value = None
            return lambda record, environment: value
        if isinstance(node, ast.FieldReference):
            info = self.checked.fields[node]
            return make_reader(info.path, info.kind, self.blank_mode)
        if isinstance(node, ast.GlobalReference):
            return self._global(node)
        if isinstance(node, ast.UnaryOperation):
            return self._unary(node)
        if isinstance(node, ast.BinaryOperation):
            return self._binary(node)
        assert isinstance(node, ast.FunctionCall)  # literals are constants, handled above
        return self._call(node)

    def _global(self, node: ast.GlobalReference) -> Closure:
        name = self.checked.globals[node]
        convert = CONVERTERS[self.checked.kinds[node]]

        def read_global(record: Any, environment: Environment) -> Any:
            value = environment.globals.get(name, MISSING)
            if value is MISSING:
                value = lookup_case_insensitive(environment.globals, name.lower())
            return convert(value) if value is not None and value != "" else None

        return read_global

    # --- operators -------------------------------------------------------------

    def _unary(self, node: ast.UnaryOperation) -> Closure:
        if node.operator == "NOT":
            return self.negation(node.operand)
        operand = self.node(node.operand)
        if node.operator == "+":
            return operand

        def minus(record: Any, environment: Environment) -> Any:
            value = operand(record, environment)
            return None if value is None else -value

        return minus

    def negation(self, inner: ast.Node) -> Closure:
        """``NOT x``, ``!x`` and ``NOT(x)``: blank stays blank, except for tests that
        are never blank (ISBLANK ...), whose negation is specialised or a plain ``not``."""
        spec = self.checked.functions.get(inner)
        negated = getattr(getattr(spec, "implementation", None), "specialise_negated", None)
        if negated is not None:
            closure = negated(self, inner)
            if closure is not None:
                return closure
        operand = self.node(inner)
        if spec is not None and spec.name in _NEVER_BLANK_TESTS:
            return lambda record, environment: not operand(record, environment)

        def negate(record: Any, environment: Environment) -> Any:
            value = operand(record, environment)
            return None if value is None else not value

        return negate

    def _binary(self, node: ast.BinaryOperation) -> Closure:
        if isinstance(node.left, ast.BinaryOperation):
            return self._chain(node)
        return self._single_binary(node)

    def _chain(self, node: ast.BinaryOperation) -> Closure:
        """A left-nested operator chain (``a + b - c & d ...``) evaluated in a loop,
        so that a long chain costs no Python recursion at all."""
        innermost, spine = ast.left_spine(node)
        first = self.node(innermost)
        steps = tuple(self._step(item) for item in spine)

        def chain(record: Any, environment: Environment) -> Any:
            value = first(record, environment)
            for step in steps:
                value = step(value, record, environment)
            return value

        return chain

    def _step(self, node: ast.BinaryOperation) -> Callable[[Any, Any, Environment], Any]:
        """One link of a chain: combine the value so far with the right operand."""
        right = self.node(node.right)
        operator_text = node.operator
        left_kind = self.checked.kinds[node.left]
        right_kind = self.checked.kinds[node.right]
        if operator_text == "&&":
            return lambda value, record, environment: bool(value and right(record, environment))
        if operator_text == "||":
            return lambda value, record, environment: bool(value or right(record, environment))
        if operator_text in ("=", "<>"):
            negated = operator_text == "<>"
            return lambda value, record, environment: (
                equal(value, right(record, environment)) is not negated
            )
        if operator_text in _COMPARISONS:
            compare = _COMPARISONS[operator_text]

            def ordering_step(value: Any, record: Any, environment: Environment) -> Any:
                second = right(record, environment)
                if value is None or second is None or value == "" or second == "":
                    return None
                return compare(value, second)

            return ordering_step
        if operator_text == "&" or (operator_text == "+" and kinds.TEXT in (left_kind, right_kind)):

            def concatenate_step(value: Any, record: Any, environment: Environment) -> Any:
                return _joined(node, value, right(record, environment), environment)

            return concatenate_step
        calculate = _arithmetic(operator_text, left_kind, right_kind)

        def arithmetic_step(value: Any, record: Any, environment: Environment) -> Any:
            second = right(record, environment)
            if value is None or second is None:
                return None
            try:
                return calculate(value, second)
            except Exception as error:  # noqa: BLE001 - any failure of user arithmetic is a located formula error
                raise runtime_error(node, error) from None

        return arithmetic_step

    def _single_binary(self, node: ast.BinaryOperation) -> Closure:
        operator_text = node.operator
        left_kind = self.checked.kinds[node.left]
        right_kind = self.checked.kinds[node.right]
        if operator_text in ("&&", "||"):
            return self._logical(operator_text, [node.left, node.right])
        if operator_text in _COMPARISONS:
            return self._ordering(node, _COMPARISONS[operator_text])
        left = self.node(node.left)
        right = self.node(node.right)
        if operator_text in ("=", "<>"):
            negated = operator_text == "<>"
            return lambda record, environment: (
                equal(left(record, environment), right(record, environment)) is not negated
            )
        if operator_text == "&" or (operator_text == "+" and kinds.TEXT in (left_kind, right_kind)):

            def concatenate(record: Any, environment: Environment) -> Any:
                return _joined(
                    node, left(record, environment), right(record, environment), environment
                )

            return concatenate
        calculate = _arithmetic(operator_text, left_kind, right_kind)

        def arithmetic(record: Any, environment: Environment) -> Any:
            first = left(record, environment)
            second = right(record, environment)
            if first is None or second is None:
                return None
            try:
                return calculate(first, second)
            except Exception as error:  # noqa: BLE001 - decimal, overflow, date range: located error
                raise runtime_error(node, error) from None

        return arithmetic

    def _ordering(self, node: ast.BinaryOperation, compare: Callable[[Any, Any], bool]) -> Closure:
        for field_side, constant_side, flipped in (
            (node.left, node.right, False),
            (node.right, node.left, True),
        ):
            is_constant, constant = self.constant_value(constant_side)
            if (
                isinstance(field_side, ast.FieldReference)
                and is_constant
                and constant is not None
                and self.checked.kinds[field_side] in kinds.NUMBER_KINDS
            ):
                return self._number_field_comparison(field_side, constant, compare, flipped)
            if (
                isinstance(field_side, ast.FieldReference)
                and is_constant
                and constant is not None
                and self.checked.kinds[field_side] != kinds.TEXT
            ):
                reader = self.node(field_side)
                if flipped:

                    def compare_constant_first(
                        record: Any,
                        environment: Environment,
                        reader: Closure = reader,
                        constant: Any = constant,
                    ) -> Any:
                        value = reader(record, environment)
                        return None if value is None else compare(constant, value)

                    return compare_constant_first

                def compare_with_constant(
                    record: Any,
                    environment: Environment,
                    reader: Closure = reader,
                    constant: Any = constant,
                ) -> Any:
                    value = reader(record, environment)
                    return None if value is None else compare(value, constant)

                return compare_with_constant
        left = self.node(node.left)
        right = self.node(node.right)

        def ordering(record: Any, environment: Environment) -> Any:
            first = left(record, environment)
            second = right(record, environment)
            if first is None or second is None or first == "" or second == "":
                return None
            return compare(first, second)

        return ordering

    def _logical(self, operator_text: str, operands: list[ast.Node]) -> Closure:
        """AND/OR/&&/||: short-circuit, blank counts as false, result never blank."""
        return combine(operator_text, tuple(self.node(operand) for operand in operands))

    def _number_field_comparison(
        self,
        field: ast.FieldReference,
        constant: Any,
        compare: Callable[[Any, Any], bool],
        flipped: bool,
    ) -> Closure:
        """``Amount < 1000``: the field read and the comparison in one closure.

        A ``Decimal`` (what the records layer hands over) is compared at once;
        anything else (blank, int, float, text, another spelling of the key) goes
        through the field's reader, which converts it.
        """
        info = self.checked.fields[field]
        key = info.path
        reader = make_reader(key, info.kind, self.blank_mode)
        if flipped:  # 1000 > Amount is Amount < 1000
            compare = _MIRRORED[compare]

        if info.kind == kinds.PERCENT:  # stored as shown (25), compared as a fraction

            def compare_percent_field(record: Any, environment: Environment) -> Any:
                value = reader(record, environment)
                return None if value is None else compare(value, constant)

            return compare_percent_field

        def compare_number_field(record: Any, environment: Environment) -> Any:
            value = record.get(key)
            if value.__class__ is Decimal:
                return compare(value, constant)
            value = reader(record, environment)
            return None if value is None else compare(value, constant)

        return compare_number_field

    # --- functions -------------------------------------------------------------

    def _call(self, node: ast.FunctionCall) -> Closure:
        spec = self.checked.functions[node]
        special = getattr(spec.implementation, "specialise", None)
        if special is not None:
            closure = special(self, node)
            if closure is not None:
                return closure
        arguments = tuple(self.node(argument) for argument in node.arguments)
        implementation = spec.implementation
        result_kind = self.checked.kinds[node]
        if spec.lazy:

            def lazy_call(record: Any, environment: Environment) -> Any:
                try:
                    return implementation(record, environment, arguments)
                except FormulaError as error:
                    runtime_error(node, error)  # locates the error itself: re-raise it as it is
                    raise
                except (ArithmeticError, ValueError, OverflowError, TypeError) as error:
                    raise runtime_error(node, error) from None

            return lazy_call
        propagate = spec.propagate_blank
        with_environment = spec.needs_environment
        textual = result_kind == kinds.TEXT
        numeric = result_kind in kinds.NUMBER_KINDS

        def call(record: Any, environment: Environment) -> Any:
            values = [argument(record, environment) for argument in arguments]
            if propagate and None in values:
                return None
            try:
                if with_environment:
                    result = implementation(environment, *values)
                else:
                    result = implementation(*values)
            except FormulaError as error:
                runtime_error(node, error)  # locates the error itself: re-raise it as it is
                raise
            except (ArithmeticError, ValueError, OverflowError, TypeError) as error:
                raise runtime_error(node, error) from None
            if textual:
                if type(result) is str:
                    return _built_text(node, result, environment)
            elif numeric and result is not None and type(result) is not Decimal:
                result = CONVERTERS[kinds.NUMBER](result)
            return result

        return call


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


def _joined(node: ast.Node, first: Any, second: Any, environment: Environment) -> Any:
    """``first & second``."""
    return _built_text(node, (first or "") + (second or ""), environment)


def _built_text(node: ast.Node, text: str, environment: Environment) -> str | None:
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


def _arithmetic(operator_text: str, left: str, right: str) -> Callable[[Any, Any], Any]:
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
