"""Compile a checked formula into a SQLAlchemy Core expression for PostgreSQL.

Formula fields become filterable and sortable, and ``where=`` filters run in
the database. ``resolve(path)`` (from the records layer) returns a typed
expression per field; this module applies the formula's blank rules on top
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
    Integer,
    Numeric,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.compiler import junction_operands
from trellis.rule_engine.errors import FormulaError, FormulaSqlError
from trellis.rule_engine.values import CONVERTERS, UTC, ensure_aware

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


def _integer(value: Any) -> Any:
    return cast(func.trunc(value), Integer)


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
        elif (
            isinstance(node, ast.FunctionCall)
            and node.name == "ISPICKVAL"
            and self._is_builtin_call(node)
        ):
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

    def _is_builtin_call(self, node: ast.FunctionCall) -> bool:
        from trellis.rule_engine.functions import is_builtin

        return is_builtin(self.checked.functions[node])

    def _plain_when_compared(self, field: ast.FieldReference) -> bool:
        """Whether the stored expression of ``field`` may stand for its value when
        compared with a literal (the only literals are numbers and text)."""
        kind = self.checked.fields[field].kind
        if kind in (kinds.TEXT, kinds.PICKLIST):
            return True
        return kind in (kinds.NUMBER, kinds.CURRENCY) and self.blank_mode == "blank"

    def _resolved(self, node: ast.FieldReference) -> Any:
        """The record layer's typed expression for a field, before any blank rule."""
        info = self.checked.fields[node]
        try:
            return self.resolve(info.path)
        except FormulaError:
            raise
        except Exception as error:
            raise self.error(
                f"field '{info.path}' is not available in SQL ({error})", node
            ) from None

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
        name = self.checked.globals[node]
        kind = self.kind(node)
        value = self.globals.get(name)
        if value is None:
            lowered = name.lower()
            value = next((v for k, v in self.globals.items() if k.lower() == lowered), None)
        if kind not in _SQL_TYPES:
            raise self.error(f"{name} cannot be used in SQL", node)
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
            days = _integer(right)
            return left + days if operator == "+" else left - days
        seconds = cast(right * literal(Decimal(86400), Numeric()), Float)
        interval = func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        return left + interval if operator == "+" else left - interval

    def _call(self, node: ast.FunctionCall) -> Any:
        spec = self.checked.functions[node]
        translate = spec.sql
        if translate is None:
            from trellis.rule_engine.functions import is_builtin

            if is_builtin(spec):
                translate = _BUILTIN.get(spec.name)
        if translate is None:
            raise self.error(
                f"{spec.name} cannot be used in SQL (list view filters, sorting "
                "and where= queries)",
                node,
            )
        arguments = [self.node(argument) for argument in node.arguments]
        return translate(self, node, arguments)


def _text_or_empty(value: Any) -> Any:
    return func.coalesce(value, "")


def _if(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    return case((func.coalesce(args[0], false()), args[1]), else_=args[2])


def _case(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    subject_node, subject = node.arguments[0], args[0]
    whens = [
        (compiler.equal(subject_node, node.arguments[index], subject, args[index]), args[index + 1])
        for index in range(1, len(args) - 1, 2)
    ]
    return case(*whens, else_=args[-1])


def _isblank(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    kind = compiler.kind(node.arguments[0])
    if kind in (kinds.TEXT, kinds.PICKLIST):
        return _text_or_empty(args[0]) == ""
    if kind == kinds.MULTI_PICKLIST:
        return func.coalesce(func.jsonb_array_length(args[0]), 0) == 0
    return args[0].is_(None)


def _isnull(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    if compiler.kind(node.arguments[0]) == kinds.TEXT:
        return false()
    return _isblank(compiler, node, args)


def _blankvalue(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    if compiler.is_text(node.arguments[0]):
        return func.coalesce(func.nullif(args[0], ""), args[1])
    return func.coalesce(args[0], args[1])


def _nullvalue(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    if compiler.kind(node.arguments[0]) == kinds.TEXT:
        return args[0]
    return func.coalesce(args[0], args[1])


def _includes(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    contained = func.coalesce(args[0], cast(literal("[]"), JSONB)).op("@>")(
        func.jsonb_build_array(args[1])
    )
    return func.coalesce(and_(args[1].is_not(None), contained), false())


def _text(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    kind = compiler.kind(node.arguments[0])
    value = args[0]
    if kind in kinds.NUMBER_KINDS:
        return cast(func.trim_scale(value), Text)
    if kind == kinds.DATE:
        return func.to_char(value, "YYYY-MM-DD")
    if kind == kinds.DATETIME:
        return func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD HH24:MI:SS"Z"')
    if kind in (kinds.TEXT, kinds.PICKLIST, kinds.NULL):
        return cast(value, Text)
    raise compiler.error(f"TEXT of {kinds.label(kind)} is not available in SQL", node)


def _min_max(function_name: str) -> Callable[..., Any]:
    def translate(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
        any_blank = or_(*[argument.is_(None) for argument in args])
        return case((any_blank, null()), else_=getattr(func, function_name)(*args))

    return translate


def _date_part(field: str, offset: int = 0) -> Callable[..., Any]:
    def translate(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
        part = cast(func.extract(field, args[0]), Numeric)
        return part + offset if offset else part

    return translate


def _addmonths(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    if compiler.kind(node.arguments[0]) != kinds.DATE:
        raise compiler.error("ADDMONTHS on a date/time is not available in SQL", node)
    day = args[0]
    months = _integer(args[1])
    month_start = func.date_trunc("month", cast(day, DateTime(timezone=False)))
    one_day = sql_text("interval '1 day'")
    month_end = cast(month_start + sql_text("interval '1 month'") - one_day, Date)
    keep_end = cast(month_start + func.make_interval(0, months + 1) - one_day, Date)
    shifted = cast(cast(day, DateTime(timezone=False)) + func.make_interval(0, months), Date)
    return case((day == month_end, keep_end), else_=shifted)


def _mid(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    return func.substr(
        args[0], func.greatest(_integer(args[1]), 1), func.greatest(_integer(args[2]), 0)
    )


def _substitute(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    text, old, new = args
    return case(
        (_text_or_empty(old) == "", text), else_=func.replace(text, old, _text_or_empty(new))
    )


def _datevalue(compiler: SqlCompiler, node: ast.FunctionCall, args: list) -> Any:
    kind = compiler.kind(node.arguments[0])
    if kind == kinds.DATETIME:
        return cast(func.timezone("UTC", args[0]), Date)
    return cast(args[0], Date)


def _simple(function: Callable[..., Any]) -> Callable[..., Any]:
    return lambda compiler, node, args: function(*args)


def _is_filled_literal(node: ast.Node) -> bool:
    """A number or non-empty text literal (possibly negated): never blank."""
    if isinstance(node, ast.UnaryOperation) and node.operator in "-+":
        node = node.operand
    return isinstance(node, ast.NumberLiteral) or (
        isinstance(node, ast.TextLiteral) and node.value != ""
    )


# AND and OR are not here: SqlCompiler._junction handles them (and && / ||).
_BUILTIN: dict[str, Callable[..., Any]] = {
    "NOT": lambda c, n, a: not_(a[0]),
    "IF": _if,
    "CASE": _case,
    "ISBLANK": _isblank,
    "ISNULL": _isnull,
    "BLANKVALUE": _blankvalue,
    "NULLVALUE": _nullvalue,
    "ISPICKVAL": lambda c, n, a: _text_or_empty(a[0]) == _text_or_empty(a[1]),
    "INCLUDES": _includes,
    "BEGINS": lambda c, n, a: func.starts_with(_text_or_empty(a[0]), _text_or_empty(a[1])),
    "CONTAINS": lambda c, n, a: func.strpos(_text_or_empty(a[0]), _text_or_empty(a[1])) > 0,
    "LEFT": lambda c, n, a: func.left(a[0], func.greatest(_integer(a[1]), 0)),
    "RIGHT": lambda c, n, a: func.right(a[0], func.greatest(_integer(a[1]), 0)),
    "MID": _mid,
    "LEN": lambda c, n, a: cast(func.char_length(_text_or_empty(a[0])), Numeric),
    "LOWER": lambda c, n, a: func.lower(a[0]),
    "UPPER": lambda c, n, a: func.upper(a[0]),
    "TRIM": lambda c, n, a: func.btrim(a[0], " \t"),
    "SUBSTITUTE": _substitute,
    "TEXT": _text,
    "ABS": _simple(func.abs),
    "ROUND": lambda c, n, a: func.round(a[0], _integer(a[1])),
    "FLOOR": lambda c, n, a: func.trunc(a[0]),
    "CEILING": lambda c, n, a: func.sign(a[0]) * func.ceil(func.abs(a[0])),
    "MCEILING": _simple(func.ceil),
    "MFLOOR": _simple(func.floor),
    "TRUNC": lambda c, n, a: func.trunc(a[0], _integer(a[1]) if len(a) > 1 else 0),
    "MOD": _simple(func.mod),
    "MAX": _min_max("greatest"),
    "MIN": _min_max("least"),
    "TODAY": lambda c, n, a: (
        cast(func.timezone("UTC", func.now()), Date())
        if c.now is None
        else literal(c.now.astimezone(UTC).date(), Date())
    ),
    "NOW": lambda c, n, a: (
        func.now(type_=DateTime(timezone=True))
        if c.now is None
        else literal(c.now, DateTime(timezone=True))
    ),
    "DATE": lambda c, n, a: func.make_date(*[_integer(x) for x in a]),
    "DATEVALUE": _datevalue,
    "YEAR": _date_part("year"),
    "MONTH": _date_part("month"),
    "DAY": _date_part("day"),
    "WEEKDAY": _date_part("dow", 1),
    "DAYOFYEAR": _date_part("doy"),
    "ADDMONTHS": _addmonths,
}
