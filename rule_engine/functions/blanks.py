"""Blank tests: ISBLANK ISNULL BLANKVALUE NULLVALUE.

As in Salesforce, text is never null: ISNULL(text) is FALSE and NULLVALUE
returns text unchanged (ISBLANK and BLANKVALUE treat "" as blank). ISNULL,
BLANKVALUE and NULLVALUE are lazy so that an unused substitute is never
evaluated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, func

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.functions.logical import unify_arguments
from trellis.rule_engine.functions.registry import CallCheck, FunctionRegistry, specialise
from trellis.rule_engine.functions.sql_helpers import text_or_empty
from trellis.rule_engine.values import MISSING, is_blank, lookup_case_insensitive


def _isblank_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    kind = compiler.kind(node.arguments[0])
    if kind in (kinds.TEXT, kinds.PICKLIST):
        return text_or_empty(args[0]) == ""
    if kind == kinds.MULTI_PICKLIST:
        return func.coalesce(func.jsonb_array_length(args[0]), 0) == 0
    return args[0].is_(None)


def _isnull_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    if compiler.kind(node.arguments[0]) == kinds.TEXT:
        return false()
    return _isblank_sql(compiler, node, args)


def _blankvalue_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    if compiler.is_text(node.arguments[0]):
        return func.coalesce(func.nullif(args[0], ""), args[1])
    return func.coalesce(args[0], args[1])


def _nullvalue_sql(compiler: Any, node: ast.FunctionCall, args: list) -> Any:
    if compiler.kind(node.arguments[0]) == kinds.TEXT:
        return args[0]
    return func.coalesce(args[0], args[1])


def register(registry: FunctionRegistry) -> None:
    """Register the blank tests and the blank substitutes."""
    _register_isblank(registry)
    _register_isnull(registry)
    _register_substitutes(registry)


def _blank_test(compiler: Any, node: ast.FunctionCall) -> Any:
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


def _register_isblank(registry: FunctionRegistry) -> None:
    """ISBLANK: with direct tests on a field's raw value for it and for its NOT."""

    def specialise_isblank(compiler: Any, node: ast.FunctionCall) -> Any:
        raw = _blank_test(compiler, node)
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
        raw = _blank_test(compiler, node)
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

    specialise(isblank, specialise_isblank, negated=specialise_not_isblank)
    registry.register(
        "ISBLANK",
        isblank,
        args=["value"],
        returns="checkbox",
        propagate_blank=False,
        sql=_isblank_sql,
        description='TRUE when the value is blank (text "" included)',
    )


def _register_isnull(registry: FunctionRegistry) -> None:
    """ISNULL: as in Salesforce, text is never null."""

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

    specialise(isnull, specialise_isnull)
    registry.register(
        "ISNULL",
        isnull,
        lazy=True,
        check=check_isnull,
        min_arguments=1,
        max_arguments=1,
        sql=_isnull_sql,
        signature="ISNULL(value)",
        description="TRUE when a non-text value is blank; always FALSE for text (use ISBLANK)",
    )


def _register_substitutes(registry: FunctionRegistry) -> None:
    """BLANKVALUE and NULLVALUE: a substitute for a blank value."""

    def check_blankvalue(check: CallCheck) -> str:
        return unify_arguments(check, [0, 1], "the value and its substitute")

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
        sql=_blankvalue_sql,
        signature="BLANKVALUE(value, substitute)",
        description="The substitute when the value is blank, else the value",
    )

    def nullvalue(record: Any, environment: Any, thunks: tuple) -> Any:
        value = thunks[0](record, environment)
        return thunks[1](record, environment) if value is None else value

    def specialise_nullvalue(compiler: Any, node: ast.FunctionCall) -> Any:
        if compiler.checked.kinds[node.arguments[0]] == kinds.TEXT:
            return compiler.node(node.arguments[0])  # text is never null (Salesforce)
        return None

    specialise(nullvalue, specialise_nullvalue)
    registry.register(
        "NULLVALUE",
        nullvalue,
        lazy=True,
        check=check_blankvalue,
        min_arguments=2,
        max_arguments=2,
        sql=_nullvalue_sql,
        signature="NULLVALUE(value, substitute)",
        description="The substitute when a non-text value is blank; text is "
        "returned unchanged, as in Salesforce (use BLANKVALUE)",
    )
