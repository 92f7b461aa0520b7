"""AST nodes of the formula language.

Small frozen dataclasses, each with the source span it came from so that the
type checker and the evaluator can point at the exact part of a formula.
``eq=False`` keeps identity hashing: the checker annotates nodes in dicts, and
value hashing would make that quadratic on deep trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class Span(NamedTuple):
    """Where a node sits in the source: 1-based line and column, end exclusive.

    A named tuple rather than a frozen dataclass: every node gets one, and a
    tuple is several times cheaper to create (parse time matters for the rule
    editor's live check and for ``where=`` requests)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, eq=False, slots=True)
class NumberLiteral:
    span: Span
    value: Decimal


@dataclass(frozen=True, eq=False, slots=True)
class TextLiteral:
    span: Span
    value: str


@dataclass(frozen=True, eq=False, slots=True)
class BooleanLiteral:
    span: Span
    value: bool


@dataclass(frozen=True, eq=False, slots=True)
class NullLiteral:
    span: Span


@dataclass(frozen=True, eq=False, slots=True)
class FieldReference:
    """A record field by API name; dotted for cross-object paths (``Account.Name``)."""

    span: Span
    path: str


@dataclass(frozen=True, eq=False, slots=True)
class GlobalReference:
    """A ``$``-global such as ``$User.Id``."""

    span: Span
    name: str


@dataclass(frozen=True, eq=False, slots=True)
class UnaryOperation:
    span: Span
    operator: str  # "-", "+", "NOT" ("!" is normalised to "NOT")
    operand: Node


@dataclass(frozen=True, eq=False, slots=True)
class BinaryOperation:
    span: Span
    operator: str  # normalised: "||" "&&" "=" "<>" "<" "<=" ">" ">=" "+" "-" "&" "*" "/" "^"
    left: Node
    right: Node


@dataclass(frozen=True, eq=False, slots=True)
class FunctionCall:
    span: Span
    name: str  # upper-cased
    arguments: tuple[Node, ...]
    name_span: Span


Node = (
    NumberLiteral
    | TextLiteral
    | BooleanLiteral
    | NullLiteral
    | FieldReference
    | GlobalReference
    | UnaryOperation
    | BinaryOperation
    | FunctionCall
)

LITERAL_TYPES = (NumberLiteral, TextLiteral, BooleanLiteral, NullLiteral)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(node, BinaryOperation):
        return (node.left, node.right)
    if isinstance(node, UnaryOperation):
        return (node.operand,)
    if isinstance(node, FunctionCall):
        return node.arguments
    return ()


def left_spine(node: BinaryOperation) -> tuple[Node, list[BinaryOperation]]:
    """A left-nested operator chain (``a + b - c …``) as its innermost left operand and
    its operations in evaluation order, so that passes can walk it in a loop rather than
    recurse (a long chain would exhaust Python's stack)."""
    spine: list[BinaryOperation] = []
    current: Node = node
    while isinstance(current, BinaryOperation):
        spine.append(current)
        current = current.left
    spine.reverse()
    return current, spine
