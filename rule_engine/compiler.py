"""Compile a checked AST into nested Python closures.

No ``eval``/``exec`` and no attribute access on user data: a closure can only
read the record mapping by the field keys resolved at compile time. Common
shapes (a field compared with a constant, ISPICKVAL/ISBLANK on a field,
AND/OR of a few conditions) get specialised closures so that a compiled
validation rule runs close to a hand-written Python check.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.calls import eager_call, lazy_call
from trellis.rule_engine.junctions import Junction, combine, junction_operands
from trellis.rule_engine.operations import arithmetic_operation, joined, runtime_error
from trellis.rule_engine.readers import Closure, make_reader
from trellis.rule_engine.values import (
    CONVERTERS,
    MISSING,
    Environment,
    equal,
    lookup_case_insensitive,
)

if TYPE_CHECKING:
    from trellis.rule_engine.checker import CheckedFormula

_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MIRRORED = {
    operator.lt: operator.gt,
    operator.le: operator.ge,
    operator.gt: operator.lt,
    operator.ge: operator.le,
}
"""The comparison with its operands swapped: ``a < b`` is ``b > a``."""
_NEVER_BLANK_TESTS = frozenset(
    {"ISBLANK", "ISPICKVAL", "ISNULL", "ISCHANGED", "ISNEW", "AND", "OR"}
)
"""Functions whose result is TRUE or FALSE, never blank: ``NOT`` of them is a plain ``not``."""


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
                return joined(node, value, right(record, environment), environment)

            return concatenate_step
        calculate = arithmetic_operation(operator_text, left_kind, right_kind)

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
                return joined(
                    node, left(record, environment), right(record, environment), environment
                )

            return concatenate
        calculate = arithmetic_operation(operator_text, left_kind, right_kind)

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
        if spec.lazy:
            return lazy_call(node, spec, arguments)
        return eager_call(node, spec, arguments, self.checked.kinds[node])
