"""Build the formula AST during Lark's LALR reductions, one method per grammar rule,
enforcing the expression depth limit as nodes are made."""

from __future__ import annotations

import threading
from decimal import Decimal

from lark import Token, Transformer

from trellis.rule_engine import ast
from trellis.rule_engine.errors import FormulaLimitError
from trellis.rule_engine.limits import MAX_EXPRESSION_DEPTH

_NORMALISED_OPERATORS = {"==": "=", "!=": "<>", "!": "NOT"}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _span(first: Token, last: Token | None = None) -> ast.Span:
    """From the start of token ``first`` to the end of token ``last`` (or ``first``)."""
    last = first if last is None else last
    # Lark types positions as optional (a Token may be built by hand); lexed ones have them.
    return ast.Span(
        first.line,  # type: ignore[arg-type]
        first.column,  # type: ignore[arg-type]
        last.end_line,  # type: ignore[arg-type]
        last.end_column,  # type: ignore[arg-type]
    )


def unescape(body: str) -> str:
    """Resolve backslash escapes; unknown ones keep the backslash (regex-friendly)."""
    if "\\" not in body:
        return body
    result: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            if following in _ESCAPES:
                result.append(_ESCAPES[following])
                index += 2
                continue
            if following == "u" and index + 6 <= len(body):
                digits = body[index + 2 : index + 6]
                if all(d in "0123456789abcdefABCDEF" for d in digits):
                    result.append(chr(int(digits, 16)))
                    index += 6
                    continue
            result.append(char + following)
            index += 2
            continue
        result.append(char)
        index += 1
    return "".join(result)


_depths = threading.local()
"""Recursion depth per node id for the parse running on this thread."""


def reset_depths() -> None:
    """Forget the depths recorded by the previous parse on this thread: they are keyed
    by node id, and ids of freed nodes are reused."""
    _depths.values = {}


class AstBuilder(Transformer):
    """One method per grammar rule or alias; tracks depth to enforce the limit."""

    @staticmethod
    def _deep(node: ast.Node, *parts: ast.Node, left_spine: ast.Node | None = None) -> ast.Node:
        """Record the *recursion* depth of ``node``: every pass walks left operand
        chains (``a + b + c + ...``) iteratively, so only right operands, unary
        operands and function arguments add a level."""
        depths = _depths.values
        depth = 1
        for part in parts:
            depth = max(depth, depths.get(id(part), 1) + 1)
        if left_spine is not None:
            depth = max(depth, depths.get(id(left_spine), 1))
        if depth > MAX_EXPRESSION_DEPTH:
            span = node.span
            raise FormulaLimitError(
                f"the formula is nested too deeply (more than {MAX_EXPRESSION_DEPTH} "
                "operations inside one another); split it into smaller formulas",
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
            )
        depths[id(node)] = depth
        return node

    def number(self, children):
        return ast.NumberLiteral(_span(children[0]), Decimal(str(children[0])))

    def string(self, children):
        return ast.TextLiteral(_span(children[0]), unescape(str(children[0])[1:-1]))

    def true(self, children):
        return ast.BooleanLiteral(_span(children[0]), True)

    def false(self, children):
        return ast.BooleanLiteral(_span(children[0]), False)

    def null(self, children):
        return ast.NullLiteral(_span(children[0]))

    def global_reference(self, children):
        return ast.GlobalReference(_span(children[0]), str(children[0]))

    def field(self, children):
        return ast.FieldReference(
            _span(children[0], children[-1]), ".".join(str(part) for part in children)
        )

    def group(self, children):
        return children[1]

    def arguments(self, children):
        return tuple(children)

    def call(self, children):
        name, _, arguments, closing = children
        arguments = arguments or ()
        node = ast.FunctionCall(_span(name, closing), str(name).upper(), arguments, _span(name))
        return self._deep(node, *arguments)

    def unary(self, children):
        operator, operand = children
        text = str(operator).upper()
        end = operand.span
        node = ast.UnaryOperation(
            ast.Span(operator.line, operator.column, end.end_line, end.end_column),
            _NORMALISED_OPERATORS.get(text, text),
            operand,
        )
        return self._deep(node, operand)

    def binary(self, children):
        left, operator, right = children
        text = str(operator)
        start, end = left.span, right.span
        node = ast.BinaryOperation(
            ast.Span(start.line, start.column, end.end_line, end.end_column),
            _NORMALISED_OPERATORS.get(text, text),
            left,
            right,
        )
        return self._deep(node, right, left_spine=left)
