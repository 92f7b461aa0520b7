"""Logical functions: AND OR NOT IF CASE ISBLANK ISNULL BLANKVALUE NULLVALUE
ISNUMBER ISNEW ISCHANGED PRIORVALUE ISPICKVAL INCLUDES.

IF, CASE, AND, OR, BLANKVALUE and NULLVALUE are lazy so that an unused
branch is never evaluated (``IF(FALSE, 1/0, 37)`` is 37).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.compiler import equal, lookup_case_insensitive
from trellis.rule_engine.errors import FormulaError
from trellis.rule_engine.functions.registry import CallCheck, FunctionRegistry
from trellis.rule_engine.values import MISSING, is_blank, parse_number

# A compile-time form of a call: a closure for the compiler to use, or None to fall back
# to the general call (receives the compiler and the call node).
Specialiser = Callable[[Any, ast.FunctionCall], Any]


def _specialise(
    implementation: Callable[..., Any],
    specialise: Specialiser,
    *,
    negated: Specialiser | None = None,
) -> None:
    """Attach the compile-time forms of a function to its implementation, where the
    compiler looks them up (``specialise``; ``specialise_negated`` for its NOT)."""
    implementation.__dict__["specialise"] = specialise
    if negated is not None:
        implementation.__dict__["specialise_negated"] = negated


def _unify(check: CallCheck, indexes: list[int], what: str) -> str:
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


def register(registry: FunctionRegistry) -> None:
    def check_checkboxes(check: CallCheck) -> str:
        for index in range(len(check.argument_kinds)):
            check.require(index, "checkbox")
        return kinds.CHECKBOX

    def logical_and(record: Any, environment: Any, thunks: tuple) -> bool:
        return all(thunk(record, environment) for thunk in thunks)

    def logical_or(record: Any, environment: Any, thunks: tuple) -> bool:
        return any(thunk(record, environment) for thunk in thunks)

    _specialise(logical_and, lambda compiler, node: compiler._logical("AND", list(node.arguments)))
    _specialise(logical_or, lambda compiler, node: compiler._logical("OR", list(node.arguments)))
    registry.register(
        "AND",
        logical_and,
        lazy=True,
        check=check_checkboxes,
        min_arguments=1,
        max_arguments=None,
        returns=kinds.CHECKBOX,
        sql=None,
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
        description="TRUE when any argument is TRUE (blank counts as FALSE)",
    )

    @registry.function(
        "NOT",
        args=["checkbox"],
        returns="checkbox",
        description="TRUE for FALSE and FALSE for TRUE (written NOT x or !x too)",
    )
    def logical_not(value: bool) -> bool:
        return not value

    # NOT(x) compiles exactly like the operator forms NOT x and !x.
    _specialise(logical_not, lambda compiler, node: compiler.negation(node.arguments[0]))

    def check_if(check: CallCheck) -> str:
        check.require(0, "checkbox")
        return _unify(check, [1, 2], "the two results")

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
        description="IF(condition, value_if_true, value_if_false)",
    )

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
        return _unify(check, list(range(2, count - 1, 2)) + [count - 1], "the results")

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
        description="CASE(expression, value1, result1, ..., else_result)",
    )

    def blank_test(compiler: Any, node: ast.FunctionCall) -> Any:
        """A direct blank test on a field's raw value (no conversion needed)."""
        argument = node.arguments[0]
        if not isinstance(argument, ast.FieldReference):
            return None
        kind = compiler.checked.kinds[argument]
        if kind == kinds.CHECKBOX or (kind in kinds.NUMBER_KINDS and compiler.blank_mode == "zero"):
            return "never"
        if kind == kinds.MULTI_PICKLIST:
            return None
        key = compiler.checked.fields[argument].path
        lowered = key.lower()

        def raw(record: Any) -> Any:
            value = record.get(key, MISSING)
            if value is MISSING:
                value = lookup_case_insensitive(record, lowered)
            return value

        return raw

    def specialise_isblank(compiler: Any, node: ast.FunctionCall) -> Any:
        raw = blank_test(compiler, node)
        if raw == "never":
            return lambda record, environment: False
        if raw is None:
            argument = node.arguments[0]
            if not isinstance(argument, ast.FieldReference):
                return None
            reader = compiler.node(argument)
            return lambda record, environment: is_blank(reader(record, environment))

        def isblank_field(record: Any, environment: Any) -> bool:
            value = raw(record)
            return value is None or value == ""

        return isblank_field

    def specialise_not_isblank(compiler: Any, node: ast.FunctionCall) -> Any:
        raw = blank_test(compiler, node)
        if raw == "never":
            return lambda record, environment: True
        if raw is None:
            return None
        argument = node.arguments[0]
        key = compiler.checked.fields[argument].path

        def is_filled(record: Any, environment: Any) -> bool:
            value = record.get(key, MISSING)
            if value is MISSING:
                value = raw(record)
            return value is not None and value != ""

        return is_filled

    def isblank(value: Any) -> bool:
        return is_blank(value)

    _specialise(isblank, specialise_isblank, negated=specialise_not_isblank)
    registry.register(
        "ISBLANK",
        isblank,
        args=["value"],
        returns="checkbox",
        propagate_blank=False,
        description='TRUE when the value is blank (text "" included)',
    )

    def check_isnull(check: CallCheck) -> str:
        check.notes["text"] = check.argument_kinds[0] == kinds.TEXT
        return kinds.CHECKBOX

    def isnull(record: Any, environment: Any, thunks: tuple) -> bool:
        return thunks[0](record, environment) is None

    def specialise_isnull(compiler: Any, node: ast.FunctionCall) -> Any:
        if compiler.checked.kinds[node.arguments[0]] == kinds.TEXT:
            # As in Salesforce: text is never null, so ISNULL(text) is always FALSE.
            return lambda record, environment: False
        return None

    _specialise(isnull, specialise_isnull)
    registry.register(
        "ISNULL",
        isnull,
        lazy=True,
        check=check_isnull,
        min_arguments=1,
        max_arguments=1,
        description="TRUE when a non-text value is blank; always FALSE for text (use ISBLANK)",
    )

    def check_blankvalue(check: CallCheck) -> str:
        return _unify(check, [0, 1], "the value and its substitute")

    def blankvalue(record: Any, environment: Any, thunks: tuple) -> Any:
        value = thunks[0](record, environment)
        return thunks[1](record, environment) if is_blank(value) else value

    registry.register(
        "BLANKVALUE",
        blankvalue,
        lazy=True,
        check=check_blankvalue,
        min_arguments=2,
        max_arguments=2,
        description="BLANKVALUE(value, substitute): the substitute when blank",
    )

    def nullvalue(record: Any, environment: Any, thunks: tuple) -> Any:
        value = thunks[0](record, environment)
        return thunks[1](record, environment) if value is None else value

    def specialise_nullvalue(compiler: Any, node: ast.FunctionCall) -> Any:
        if compiler.checked.kinds[node.arguments[0]] == kinds.TEXT:
            return compiler.node(node.arguments[0])  # text is never null (Salesforce)
        return None

    _specialise(nullvalue, specialise_nullvalue)
    registry.register(
        "NULLVALUE",
        nullvalue,
        lazy=True,
        check=check_blankvalue,
        min_arguments=2,
        max_arguments=2,
        description="NULLVALUE(value, substitute); text is "
        "returned unchanged as in Salesforce (use BLANKVALUE)",
    )

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
        description="The field's value before the current change",
    )

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

    _specialise(ispickval, specialise_ispickval)
    registry.register(
        "ISPICKVAL",
        ispickval,
        check=check_ispickval,
        min_arguments=2,
        max_arguments=2,
        propagate_blank=False,
        returns=kinds.CHECKBOX,
        description='ISPICKVAL(picklist_field, "value")',
    )

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
        description='INCLUDES(multi_picklist_field, "value")',
    )
