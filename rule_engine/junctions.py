"""A formula's AND/OR of conditions: recognising one in the AST (for the Python and
the SQL compilers) and combining condition closures with short-circuit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from trellis.rule_engine import ast
from trellis.rule_engine.functions import is_builtin
from trellis.rule_engine.readers import Closure
from trellis.rule_engine.values import Environment

if TYPE_CHECKING:
    from trellis.rule_engine.checker import CheckedFormula


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
