"""Logical functions: AND OR NOT IF CASE ISNUMBER ISNEW ISCHANGED PRIORVALUE
ISPICKVAL INCLUDES (the blank tests are in :mod:`.blanks`).

IF, CASE, AND and OR are lazy so that an unused branch is never evaluated
(``IF(FALSE, 1/0, 37)`` is 37).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, cast, false, func, literal, not_
from sqlalchemy.dialects.postgresql import JSONB

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaError
from trellis.rule_engine.functions.registry import CallCheck, FunctionRegistry, specialise
from trellis.rule_engine.functions.sql_helpers import text_or_empty
from trellis.rule_engine.values import MISSING, equal, is_blank, parse_number


def unify_arguments(check: CallCheck, indexes: list[int], what: str) -> str:
    result = kinds.NULL
    for index in indexes:
        kind = check.argument_kinds[index]
        if kind in (kinds.PICKLIST, kinds.MULTI_PICKLIST):
            raise check.argument_error(index, "a value")
        unified = kinds.unify(result, kind)
        if unified is None:
            raise check.error(
                f"{check.spec.name}: {what} must all have the same type; argument "
                f"{index + 1} is {kinds.label(kind)} but an earlier one is {kinds.label(result)}",
                check.call.arguments[index],
            )
        result = unified
    return result


def _require_field(check: CallCheck) -> None:
    argument = check.call.arguments[0]
    if not isinstance(argument, ast.FieldReference):
        raise check.error(
            f"{check.spec.name} needs a field as its argument, for example "
            f"{check.spec.name}(Amount)",
            argument,
        )


def _if_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    return case((func.coalesce(args[0], false()), args[1]), else_=args[2])


def _case_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    subject_node, subject = node.arguments[0], args[0]
    whens = [
        (compiler.equal(subject_node, node.arguments[index], subject, args[index]), args[index + 1])
        for index in range(1, len(args) - 1, 2)
    ]
    return case(*whens, else_=args[-1])


def _includes_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    contained = func.coalesce(args[0], cast(literal("[]"), JSONB)).op("@>")(
        func.jsonb_build_array(args[1])
    )
    return func.coalesce(and_(args[1].is_not(None), contained), false())


def register(registry: FunctionRegistry) -> None:
    """Register the logical functions, one sub-family at a time."""
    _register_connectives(registry)
    _register_if(registry)
    _register_case(registry)
    _register_isnumber(registry)
    _register_record_state(registry)
    _register_ispickval(registry)
    _register_includes(registry)


def _register_connectives(registry: FunctionRegistry) -> None:
    """AND, OR, NOT: compiled like the operators &&, || and NOT."""

    def check_checkboxes(check: CallCheck) -> str:
        for index in range(len(check.argument_kinds)):
            check.require(index, "checkbox")
        return kinds.CHECKBOX

    def logical_and(record: Any, environment: Any, thunks: tuple) -> bool:
        return all(thunk(record, environment) for thunk in thunks)

    def logical_or(record: Any, environment: Any, thunks: tuple) -> bool:
        return any(thunk(record, environment) for thunk in thunks)

    specialise(logical_and, lambda compiler, node: compiler._logical("AND", list(node.arguments)))
    specialise(logical_or, lambda compiler, node: compiler._logical("OR", list(node.arguments)))
    registry.register(
        "AND",
        logical_and,
        lazy=True,
        check=check_checkboxes,
        min_arguments=1,
        max_arguments=None,
        returns=kinds.CHECKBOX,
        sql=None,
        signature="AND(condition, ...)",
        description="TRUE when every argument is TRUE (blank counts as FALSE)",
    )
    registry.register(
        "OR",
        logical_or,
        lazy=True,
        check=check_checkboxes,
        min_arguments=1,
        max_arguments=None,
        returns=kinds.CHECKBOX,
        signature="OR(condition, ...)",
        description="TRUE when any argument is TRUE (blank counts as FALSE)",
    )

    @registry.function(
        "NOT",
        args=["checkbox"],
        returns="checkbox",
        sql=lambda c, n, a: not_(a[0]),
        description="TRUE for FALSE and FALSE for TRUE (written NOT x or !x too)",
    )
    def logical_not(value: bool) -> bool:
        return not value

    # NOT(x) compiles exactly like the operator forms NOT x and !x.
    specialise(logical_not, lambda compiler, node: compiler.negation(node.arguments[0]))


def _register_if(registry: FunctionRegistry) -> None:
    """IF: only the chosen branch is evaluated."""

    def check_if(check: CallCheck) -> str:
        check.require(0, "checkbox")
        return unify_arguments(check, [1, 2], "the two results")

    def if_(record: Any, environment: Any, thunks: tuple) -> Any:
        branch = thunks[1] if thunks[0](record, environment) else thunks[2]
        return branch(record, environment)

    registry.register(
        "IF",
        if_,
        lazy=True,
        check=check_if,
        min_arguments=3,
        max_arguments=3,
        sql=_if_sql,
        signature="IF(condition, value_if_true, value_if_false)",
        description="value_if_true when the condition is TRUE, else value_if_false",
    )


def _register_case(registry: FunctionRegistry) -> None:
    """CASE: the result paired with the first value equal to the expression."""

    def check_case(check: CallCheck) -> str:
        count = len(check.argument_kinds)
        if count < 4 or count % 2:
            raise check.error(
                "CASE needs an expression, pairs of value and result, and a final "
                "else result: CASE(expression, value1, result1, ..., else_result)"
            )
        subject = check.argument_kinds[0]
        if subject == kinds.MULTI_PICKLIST:
            raise check.argument_error(0, "a single value")
        compare_as = kinds.TEXT if subject == kinds.PICKLIST else subject
        for index in range(1, count - 1, 2):
            kind = check.argument_kinds[index]
            if not kinds.compatible(compare_as, kind) or kind in (
                kinds.PICKLIST,
                kinds.MULTI_PICKLIST,
            ):
                raise check.error(
                    f"CASE value {index // 2 + 1} is {kinds.label(kind)} but the "
                    f"expression is {kinds.label(subject)}",
                    check.call.arguments[index],
                )
        return unify_arguments(check, list(range(2, count - 1, 2)) + [count - 1], "the results")

    def case(record: Any, environment: Any, thunks: tuple) -> Any:
        subject = thunks[0](record, environment)
        last = len(thunks) - 1
        for index in range(1, last, 2):
            if equal(subject, thunks[index](record, environment)):
                return thunks[index + 1](record, environment)
        return thunks[last](record, environment)

    registry.register(
        "CASE",
        case,
        lazy=True,
        check=check_case,
        min_arguments=4,
        max_arguments=None,
        sql=_case_sql,
        signature="CASE(expression, value1, result1, ..., else_result)",
        description="The result paired with the first value equal to the expression, "
        "else else_result",
    )


def _register_isnumber(registry: FunctionRegistry) -> None:
    """ISNUMBER: whether a text reads as a number."""

    @registry.function(
        "ISNUMBER",
        args=["text"],
        returns="checkbox",
        propagate_blank=False,
        description="TRUE when the text is a number",
    )
    def isnumber(text: str | None) -> bool:
        if text is None:
            return False
        try:
            parse_number(text)
        except FormulaError:
            return False
        return True


def _register_record_state(registry: FunctionRegistry) -> None:
    """ISNEW, ISCHANGED, PRIORVALUE: the record compared with its prior state."""

    @registry.function(
        "ISNEW",
        args=[],
        returns="checkbox",
        needs_environment=True,
        description="TRUE while the record is being created",
    )
    def isnew(environment: Any) -> bool:
        return bool(environment.is_new)

    def check_ischanged(check: CallCheck) -> str:
        _require_field(check)
        return kinds.CHECKBOX

    def ischanged(record: Any, environment: Any, thunks: tuple) -> bool:
        if environment.prior is None:
            return False
        return not equal(thunks[0](record, environment), thunks[0](environment.prior, environment))

    registry.register(
        "ISCHANGED",
        ischanged,
        lazy=True,
        check=check_ischanged,
        min_arguments=1,
        max_arguments=1,
        uses_prior=True,
        signature="ISCHANGED(field)",
        description="TRUE when the field differs from its prior value",
    )

    def check_priorvalue(check: CallCheck) -> str:
        _require_field(check)
        return check.argument_kinds[0]

    def priorvalue(record: Any, environment: Any, thunks: tuple) -> Any:
        if environment.prior is None:
            return None
        return thunks[0](environment.prior, environment)

    registry.register(
        "PRIORVALUE",
        priorvalue,
        lazy=True,
        check=check_priorvalue,
        min_arguments=1,
        max_arguments=1,
        uses_prior=True,
        signature="PRIORVALUE(field)",
        description="The field's value before the current change",
    )


def _register_ispickval(registry: FunctionRegistry) -> None:
    """ISPICKVAL: a picklist field tested against one value."""

    def check_ispickval(check: CallCheck) -> str:
        if check.argument_kinds[0] not in (kinds.PICKLIST, kinds.NULL):
            raise check.error(
                "ISPICKVAL needs a picklist field as its first argument "
                f"(received {kinds.label(check.argument_kinds[0])})",
                check.call.arguments[0],
            )
        check.require(1, "text")
        return kinds.CHECKBOX

    def ispickval(value: Any, literal: Any) -> bool:
        return equal(value, literal)

    def specialise_ispickval(compiler: Any, node: ast.FunctionCall) -> Any:
        field, literal = node.arguments
        if not (isinstance(field, ast.FieldReference) and isinstance(literal, ast.TextLiteral)):
            return None
        key = compiler.checked.fields[field].path
        expected = literal.value
        reader = compiler.node(field)
        if expected == "":
            return lambda record, environment: is_blank(reader(record, environment))

        def ispickval_field(record: Any, environment: Any) -> bool:
            value = record.get(key, MISSING)
            if value is MISSING:  # another spelling of the key
                return reader(record, environment) == expected
            return value == expected

        return ispickval_field

    specialise(ispickval, specialise_ispickval)
    registry.register(
        "ISPICKVAL",
        ispickval,
        check=check_ispickval,
        min_arguments=2,
        max_arguments=2,
        propagate_blank=False,
        returns=kinds.CHECKBOX,
        sql=lambda c, n, a: text_or_empty(a[0]) == text_or_empty(a[1]),
        sql_equality=True,
        signature='ISPICKVAL(picklist_field, "value")',
        description="TRUE when the picklist field has the value",
    )


def _register_includes(registry: FunctionRegistry) -> None:
    """INCLUDES: a multi-select picklist field tested for one value."""

    def check_includes(check: CallCheck) -> str:
        if check.argument_kinds[0] not in (kinds.MULTI_PICKLIST, kinds.NULL):
            raise check.error(
                "INCLUDES needs a multi-select picklist field as its first argument",
                check.call.arguments[0],
            )
        check.require(1, "text")
        return kinds.CHECKBOX

    def includes(values: Any, literal: Any) -> bool:
        return bool(values) and literal is not None and literal in values

    registry.register(
        "INCLUDES",
        includes,
        check=check_includes,
        min_arguments=2,
        max_arguments=2,
        propagate_blank=False,
        returns=kinds.CHECKBOX,
        sql=_includes_sql,
        signature='INCLUDES(multi_picklist_field, "value")',
        description="TRUE when the multi-select picklist field includes the value",
    )
