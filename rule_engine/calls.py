"""The general closures for a function call, used when no specialised form applies:
arguments evaluated, blanks propagated, failures located at the call, results normalised."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaError
from trellis.rule_engine.functions import FunctionSpec
from trellis.rule_engine.operations import built_text, runtime_error
from trellis.rule_engine.readers import Closure
from trellis.rule_engine.values import CONVERTERS, Environment


def lazy_call(
    node: ast.FunctionCall, spec: FunctionSpec, arguments: tuple[Closure, ...]
) -> Closure:
    """A lazy function's call: the implementation evaluates the argument closures itself."""
    implementation = spec.implementation

    def call_lazily(record: Any, environment: Environment) -> Any:
        try:
            return implementation(record, environment, arguments)
        except FormulaError as error:
            runtime_error(node, error)  # locates the error itself: re-raise it as it is
            raise
        except (ArithmeticError, ValueError, OverflowError, TypeError) as error:
            raise runtime_error(node, error) from None

    return call_lazily


def eager_call(
    node: ast.FunctionCall, spec: FunctionSpec, arguments: tuple[Closure, ...], result_kind: str
) -> Closure:
    """A plain function's call: the implementation gets the argument values."""
    implementation = spec.implementation
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
                return built_text(node, result, environment)
        elif numeric and result is not None and type(result) is not Decimal:
            result = CONVERTERS[kinds.NUMBER](result)
        return result

    return call
