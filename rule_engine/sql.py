"""Compile a checked formula into a SQLAlchemy Core expression for PostgreSQL.

Formula fields become filterable and sortable, and ``where=`` filters run in
the database. ``resolve(path)`` (from the records layer) returns a typed
expression per field, and per ``$``-global that ``globals`` gives no value for
(so that the acting user can be a bind parameter of a statement built once for
every user); this module applies the formula's blank rules on top
(SQL NULL is blank, '' is blank text, AND/OR treat blank as FALSE) so that
the SQL result equals ``CompiledFormula.evaluate`` on the same record.
Literals always travel as bound parameters.

Two modes. A *value* (``compile()``, behind ``CompiledFormula.to_sql``) is
exactly what Python evaluation returns: a checkbox is TRUE or FALSE, never
NULL, so it can be selected, sorted or compared. A *condition*
(``compile(condition=True)``, behind ``to_sql_condition``) is only ever used
where SQL treats NULL as FALSE (``WHERE``, and inside the AND/OR of a
condition): it is TRUE exactly where the value is TRUE, and may be NULL instead
of FALSE. That freedom lets a field compared with a literal stay a plain
``expression = :param`` / ``expression >= :param`` that PostgreSQL can match
to the per-field expression indexes, instead of being wrapped in the
COALESCE/NULLIF the value rules need.
"""

from __future__ import annotations

import datetime as dt
import operator as operator_module
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Numeric,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
)
from sqlalchemy.dialects import postgresql

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaError, FormulaSqlError
from trellis.rule_engine.functions.sql_helpers import integer
from trellis.rule_engine.junctions import junction_operands
from trellis.rule_engine.values import CONVERTERS, ensure_aware

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

    from trellis.rule_engine.checker import CheckedFormula

# The SQL type of each kind's literals (a type class, or a factory of a configured one).
_SQL_TYPES: dict[str, Callable[[], TypeEngine[Any]]] = {
    kinds.TEXT: Text,
    kinds.PICKLIST: Text,
    kinds.NUMBER: Numeric,
    kinds.CURRENCY: Numeric,
    kinds.PERCENT: Numeric,
    kinds.CHECKBOX: Boolean,
    kinds.DATE: Date,
    kinds.DATETIME: lambda: DateTime(timezone=True),
}


_ORDERINGS = {
    "<": operator_module.lt,
    "<=": operator_module.le,
    ">": operator_module.gt,
    ">=": operator_module.ge,
}


class SqlCompiler:
    """One pass over the checked AST producing a ``ColumnElement``."""

    def __init__(
        self,
        checked: CheckedFormula,
        resolve: Callable[[str], Any],
        *,
        blank_mode: str,
        now: dt.datetime | None,
        globals_: Mapping[str, Any] | None,
    ):
        self.checked = checked
        self.resolve = resolve
        self.blank_mode = blank_mode
        # Without a fixed ``now``, TODAY() and NOW() read PostgreSQL's clock: statements
        # are built once per metadata revision and must stay right the next day.
        self.now = ensure_aware(now) if now is not None else None
        self.globals = dict(globals_ or {})

    def error(self, message: str, node: ast.Node) -> FormulaSqlError:
        span = node.span
        return FormulaSqlError(
            message,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )

    def kind(self, node: ast.Node) -> str:
        return self.checked.kinds[node]

    def compile(self, condition: bool = False) -> Any:
        """The formula's value, or (``condition``) a condition for a checkbox formula."""
        expression = self.node(self.checked.root, condition)
        if self.checked.kind == kinds.TEXT:
            expression = func.nullif(expression, "")
        if self.checked.node_count > 100:
            # SQLAlchemy renders expressions recursively: make sure this one renders.
            try:
                expression.compile(dialect=postgresql.dialect())
            except RecursionError:
                span = self.checked.root.span
                raise FormulaSqlError(
                    "the formula is too deeply nested to run in SQL",
                    line=span.line,
                    column=span.column,
                ) from None
        return expression

    def node(self, node: ast.Node, condition: bool = False) -> Any:
        """The SQL for ``node``: its value, or a condition (see the module docstring)."""
        junction = junction_operands(self.checked, node)
        if junction is not None:
            return self._junction(*junction, condition)
        if condition:
            comparison = self._index_friendly_comparison(node)
            if comparison is not None:
                return comparison
        if isinstance(node, ast.NumberLiteral):
            return literal(node.value, Numeric())
        if isinstance(node, ast.TextLiteral):
            return literal(node.value, Text()) if node.value else cast(null(), Text)
        if isinstance(node, ast.BooleanLiteral):
            return literal(node.value, Boolean())
        if isinstance(node, ast.NullLiteral):
            return null()
        if isinstance(node, ast.FieldReference):
            return self._field(node)
        if isinstance(node, ast.GlobalReference):
            return self._global(node)
        if isinstance(node, ast.UnaryOperation):
            operand = self.node(node.operand)
            if node.operator == "NOT":
                return not_(operand)
            return -operand if node.operator == "-" else operand
        if isinstance(node, ast.BinaryOperation):
            return self._binary(node)
        return self._call(node)

    def _junction(self, operator: str, operands: list[ast.Node], condition: bool) -> Any:
        """AND/OR (and ``&&``/``||``) of conditions: blank counts as FALSE.

        The operands are conditions in both modes: under AND/OR a NULL operand
        decides exactly what FALSE would (``NULL AND x`` is FALSE or NULL where
        ``FALSE AND x`` is FALSE; ``NULL OR x`` is TRUE where ``x`` is), so one
        COALESCE around the whole junction makes the exact value, and a condition
        needs none at all.
        """
        combine = and_ if operator == "AND" else or_
        expression = combine(*[self.node(operand, condition=True) for operand in operands])
        return expression if condition else func.coalesce(expression, false())

    def _index_friendly_comparison(self, node: ast.Node) -> Any | None:
        """``field = literal`` and ``ISPICKVAL(field, "literal")`` as a plain
        ``stored_expression = :param`` for a condition, or None.

        The value rules wrap the field (NULLIF for blank text, COALESCE for
        '=' so that blank = "x" is FALSE, not NULL); as a condition the plain
        comparison is NULL there instead, which selects the same rows. Only where
        the wrapping makes no other difference: the literal is not blank, and
        the field is not a checkbox (missing is FALSE), a percent (divided by
        100) or a number in zero blank mode (blank is 0).
        """
        pairs: tuple[tuple[ast.Node, ...], ...]
        if isinstance(node, ast.BinaryOperation) and node.operator == "=":
            pairs = ((node.left, node.right), (node.right, node.left))
        elif isinstance(node, ast.FunctionCall) and self.checked.functions[node].sql_equality:
            pairs = (tuple(node.arguments),)
        else:
            return None
        for field, constant in pairs:
            if (
                isinstance(field, ast.FieldReference)
                and self._plain_when_compared(field)
                and _is_filled_literal(constant)
            ):
                return self._resolved(field) == self.node(constant)
        return None

    def _plain_when_compared(self, field: ast.FieldReference) -> bool:
        """Whether the stored expression of ``field`` may stand for its value when
        compared with a literal (the only literals are numbers and text)."""
        kind = self.checked.fields[field].kind
        if kind in (kinds.TEXT, kinds.PICKLIST):
            return True
        return kind in (kinds.NUMBER, kinds.CURRENCY) and self.blank_mode == "blank"

    def _resolved(self, node: ast.FieldReference) -> Any:
        """The record layer's typed expression for a field, before any blank rule."""
        return self._resolve(self.checked.fields[node].path, "field", node)

    def _resolve(self, path: str, what: str, node: ast.Node) -> Any:
        try:
            return self.resolve(path)
        except FormulaError:
            raise
        except Exception as error:  # noqa: BLE001 - the caller's resolver may raise anything
            raise self.error(f"{what} '{path}' is not available in SQL ({error})", node) from None

    def _field(self, node: ast.FieldReference) -> Any:
        info = self.checked.fields[node]
        expression = self._resolved(node)
        kind = info.kind
        zero = self.blank_mode == "zero"
        if kind in (kinds.TEXT, kinds.PICKLIST):
            return (
                func.coalesce(expression, "")
                if zero and kind == kinds.TEXT
                else func.nullif(expression, "")
            )
        if kind in kinds.NUMBER_KINDS:
            if kind == kinds.PERCENT:
                expression = expression / literal(Decimal(100), Numeric())
            return func.coalesce(expression, literal(Decimal(0), Numeric())) if zero else expression
        if kind == kinds.CHECKBOX:
            return func.coalesce(expression, false())
        return expression

    def _global(self, node: ast.GlobalReference) -> Any:
        """A value ``globals`` gives, as a bound literal; otherwise the expression
        ``resolve`` gives for the name (a bind parameter, a subquery) standing for the
        value Python evaluation would be given, so only blank text needs a rule."""
        name = self.checked.globals[node]
        kind = self.kind(node)
        if kind not in _SQL_TYPES:
            raise self.error(f"{name} cannot be used in SQL", node)
        lowered = name.lower()
        given = next((k for k in self.globals if k.lower() == lowered), None)
        if given is None:
            expression = self._resolve(name, "global", node)
            return (
                func.nullif(expression, "") if kind in (kinds.TEXT, kinds.PICKLIST) else expression
            )
        value = self.globals[given]
        value = CONVERTERS[kind](value) if value not in (None, "") else None
        return literal(value, _SQL_TYPES[kind]()) if value is not None else null()

    def is_text(self, node: ast.Node) -> bool:
        return self.kind(node) in (kinds.TEXT, kinds.PICKLIST)

    def equal(self, left_node: ast.Node, right_node: ast.Node, left: Any, right: Any) -> Any:
        if self.is_text(left_node) or self.is_text(right_node):
            return func.coalesce(left, "") == func.coalesce(right, "")
        return left.is_not_distinct_from(right)

    def _binary(self, node: ast.BinaryOperation) -> Any:
        """Left operand chains are walked iteratively, like the other passes (chains
        of ``&&`` or ``||`` are junctions, flattened by :meth:`_junction`)."""
        spine = []
        current: ast.Node = node
        while isinstance(current, ast.BinaryOperation) and current.operator not in ("&&", "||"):
            spine.append(current)
            current = current.left
        expression = self.node(current)
        for item in reversed(spine):
            expression = self._binary_step(item, expression, self.node(item.right))
        return expression

    def _binary_step(self, node: ast.BinaryOperation, left: Any, right: Any) -> Any:
        operator = node.operator
        left_kind, right_kind = self.kind(node.left), self.kind(node.right)
        if operator == "=":
            return self.equal(node.left, node.right, left, right)
        if operator == "<>":
            return not_(self.equal(node.left, node.right, left, right))
        if operator in ("<", "<=", ">", ">="):
            if self.is_text(node.left) or self.is_text(node.right):
                left, right = func.nullif(left, ""), func.nullif(right, "")
            return _ORDERINGS[operator](left, right)
        if operator == "&" or (operator == "+" and kinds.TEXT in (left_kind, right_kind)):
            return func.concat(left, right)
        temporal = {kinds.DATE, kinds.DATETIME, kinds.TIME}
        if kinds.TIME in (left_kind, right_kind):
            raise self.error("time arithmetic is not available in SQL", node)
        if left_kind in temporal or right_kind in temporal:
            return self._date_arithmetic(node, operator, left, right, left_kind, right_kind)
        if operator == "^":
            return func.power(left, right)
        if operator == "/":
            return cast(left, Numeric) / cast(right, Numeric)
        return left.op(operator)(right)

    def _date_arithmetic(
        self,
        node: ast.BinaryOperation,
        operator: str,
        left: Any,
        right: Any,
        left_kind: str,
        right_kind: str,
    ) -> Any:
        if operator == "-" and left_kind == right_kind:
            if left_kind == kinds.DATE:
                return cast(left - right, Numeric)
            return func.extract("epoch", left - right) / literal(Decimal(86400), Numeric())
        if left_kind not in (kinds.DATE, kinds.DATETIME):  # number + date
            left, right, left_kind = right, left, right_kind
        if left_kind == kinds.DATE:
            days = integer(right)
            return left + days if operator == "+" else left - days
        seconds = cast(right * literal(Decimal(86400), Numeric()), Float)
        interval = func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        return left + interval if operator == "+" else left - interval

    def _call(self, node: ast.FunctionCall) -> Any:
        spec = self.checked.functions[node]
        translate = spec.sql  # given with the function's definition (FunctionSpec.sql)
        if translate is None:
            raise self.error(
                f"{spec.name} cannot be used in SQL (list view filters, sorting "
                "and where= queries)",
                node,
            )
        arguments = [self.node(argument) for argument in node.arguments]
        return translate(self, node, arguments)


def _is_filled_literal(node: ast.Node) -> bool:
    """A number or non-empty text literal (possibly negated): never blank."""
    if isinstance(node, ast.UnaryOperation) and node.operator in "-+":
        node = node.operand
    return isinstance(node, ast.NumberLiteral) or (
        isinstance(node, ast.TextLiteral) and node.value != ""
    )
