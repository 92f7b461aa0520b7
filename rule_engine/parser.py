"""Parse formula source into AST nodes.

The grammar lives in ``grammar.lark`` and is loaded once per process; valid
formulas are parsed by :class:`~trellis.rule_engine.lalr.LalrRunner` straight
from Lark's tables (several times faster than Lark's own driver), invalid ones
by Lark, for its detailed errors. Limits are checked *before* parsing (length,
parenthesis depth) and while building the AST (expression depth), so that
neither the LALR parser nor any later recursive pass can ever hit
``RecursionError``. Lark's exceptions become
``FormulaSyntaxError`` with a message aimed at the person typing the formula.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from decimal import Decimal
from typing import cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from trellis.rule_engine import ast
from trellis.rule_engine.errors import FormulaError, FormulaLimitError, FormulaSyntaxError
from trellis.rule_engine.lalr import LalrRunner, NoParse
from trellis.rule_engine.limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, MAX_EXPRESSION_DEPTH

log = logging.getLogger(__name__)


_VALUE_END = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "GLOBAL_NAME", "RPAR"}
_VALUE_START = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "GLOBAL_NAME", "LPAR"}
_BINARY_OPERATORS = {
    "OR_OPERATOR",
    "AND_OPERATOR",
    "EQUALITY_OPERATOR",
    "COMPARISON_OPERATOR",
    "PLUS",
    "MINUS",
    "AMPERSAND",
    "STAR",
    "SLASH",
    "CARET",
}
_PREFIX_OPERATORS = {"MINUS", "PLUS", "BANG", "NOT"}
_NORMALISED_OPERATORS = {"==": "=", "!=": "<>", "!": "NOT"}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@functools.cache
def _lark() -> Lark:
    """The grammar, for lexing diagnostics (no tree building)."""
    return Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
    )


@functools.cache
def _building_lark() -> Lark:
    """The grammar with the AST builder applied during the LALR reductions
    (no intermediate parse tree: about twice as fast, and never recursive)."""
    return Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="basic",
        maybe_placeholders=True,
        transformer=_AstBuilder(),
    )


@functools.cache
def _runner() -> LalrRunner | None:
    """The fast path: the same tables and AST builder, run by :class:`LalrRunner`.

    It reads a few Lark internals (the scanner's terminals, the parse table): should
    a Lark release change them, formulas are still parsed, by Lark, only slower."""
    try:
        return LalrRunner(_building_lark())
    except Exception:  # pragma: no cover - depends on the installed Lark
        log.warning(
            "formula parser: Lark's tables are not usable directly; "
            "parsing with Lark itself (slower)",
            exc_info=True,
        )
        return None


# A comment body cannot contain "*/" (a lazy ".*?" would, to make fullmatch succeed:
# "/* a */ x /* b */" would then count as one comment, and the formula as empty).
_COMMENTS_AND_SPACE = re.compile(r"(?:/\*(?:[^*]|\*(?!/))*\*/|\s)*")


def parse(
    source: str, *, max_length: int = DEFAULT_MAX_LENGTH, max_depth: int = DEFAULT_MAX_DEPTH
) -> ast.Node:
    """Parse ``source`` into an AST, enforcing the size limits first."""
    if not isinstance(source, str):
        raise FormulaSyntaxError("the formula must be text")
    if len(source) > max_length:
        raise FormulaLimitError(
            f"the formula is {len(source)} characters long; the limit is {max_length}",
            line=1,
            column=1,
            source=source,
        )
    # Nesting deeper than max_depth needs more than max_depth '(' characters: most
    # formulas have far fewer, and then the character-by-character scan is skipped.
    if source.count("(") > max_depth:
        _check_parenthesis_depth(source, max_depth)
    if _COMMENTS_AND_SPACE.fullmatch(source):
        raise FormulaSyntaxError("the formula is empty", line=1, column=1, source=source)
    runner = _runner()
    if runner is not None:
        _depths.values = {}
        try:
            return runner.parse(source)
        except NoParse:
            pass  # not valid: Lark parses it again below and its exception says why
    return _parse_with_lark(source)


def _parse_with_lark(source: str) -> ast.Node:
    """Lark's own parse, for the friendly error (and the result, should it succeed)."""
    _depths.values = {}
    try:
        # With a transformer applied during parsing, Lark returns what it builds.
        return cast(ast.Node, _building_lark().parse(source))
    except UnexpectedInput as error:
        raise _friendly_syntax_error(source, error) from None
    except VisitError as error:
        original = error.orig_exc
        if isinstance(original, FormulaError):
            raise original.with_source(source) from None
        raise FormulaSyntaxError(f"invalid formula: {original}", source=source) from None
    except RecursionError:  # pragma: no cover - the limits above prevent it
        raise FormulaLimitError("the formula is nested too deeply", source=source) from None


def _check_parenthesis_depth(source: str, max_depth: int) -> None:
    """Cheap scan that rejects deep nesting before Lark sees it."""
    depth = 0
    line, column = 1, 1
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char in "\"'":  # skip string literals (escapes included)
            index += 1
            column += 1
            while index < length and source[index] != char:
                step = 2 if source[index] == "\\" else 1
                for consumed in source[index : index + step]:
                    line, column = (line + 1, 1) if consumed == "\n" else (line, column + 1)
                index += step
        elif char == "/" and source.startswith("/*", index):
            end = source.find("*/", index + 2)
            end = length if end < 0 else end + 2
            for consumed in source[index:end]:
                line, column = (line + 1, 1) if consumed == "\n" else (line, column + 1)
            index = end
            continue
        elif char == "(":
            depth += 1
            if depth > max_depth:
                raise FormulaLimitError(
                    f"the formula nests parentheses and function calls more than {max_depth} "
                    "levels deep",
                    line=line,
                    column=column,
                    end_line=line,
                    end_column=column + 1,
                    source=source,
                )
        elif char == ")":
            depth = max(0, depth - 1)
        if index < length:
            line, column = (line + 1, 1) if source[index] == "\n" else (line, column + 1)
        index += 1


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


class _AstBuilder(Transformer):
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


# --- friendly syntax errors -------------------------------------------------


def _tokens_before(source: str, stop: int | None) -> list[Token]:
    """Tokens that start before ``stop`` (all of them when ``stop`` is None)."""
    tokens: list[Token] = []
    try:
        for token in _lark().lex(source):
            # A lexed token has its position (Lark types it as optional).
            if stop is not None and token.start_pos >= stop:  # type: ignore[operator]
                break
            tokens.append(token)
    except UnexpectedInput:
        pass
    return tokens


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the formula"
    if token.type == "STRING":
        return "text " + (str(token) if len(token) < 30 else str(token)[:27] + "...")
    if token.type == "NUMBER":
        return f"number {token}"
    if token.type == "NAME":
        return f"name '{token}'"
    return f"'{token}'"


def _open_parentheses(tokens: list[Token]) -> list[tuple[Token, bool]]:
    """Stack of unclosed '(' tokens with whether each opens a function call."""
    stack: list[tuple[Token, bool]] = []
    previous: Token | None = None
    for token in tokens:
        if token.type == "LPAR":
            stack.append((token, previous is not None and previous.type == "NAME"))
        elif token.type == "RPAR" and stack:
            stack.pop()
        previous = token
    return stack


def _friendly_syntax_error(source: str, error: UnexpectedInput) -> FormulaSyntaxError:
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if isinstance(error, UnexpectedCharacters):
        # Lark declares pos_in_stream as None on the base class; this subclass always
        # sets it to the lexer's position.
        offset: int = error.pos_in_stream  # type: ignore[assignment]
        char = source[offset] if offset < len(source) else ""
        if char in "\"'":
            message = f"unterminated text: the text starting here has no closing {char}"
        elif source.startswith("/*", offset):
            message = "unterminated comment: '/*' has no closing '*/'"
        elif char == "$":
            message = "invalid global name after '$' (for example $User.Id)"
        else:
            message = f"unexpected character {char!r}"
        return FormulaSyntaxError(
            message,
            line=line,
            column=column,
            end_line=line,
            end_column=(column or 0) + 1,
            source=source,
        )
    if not isinstance(error, UnexpectedToken):  # pragma: no cover - LALR raises only these
        return FormulaSyntaxError("invalid formula", line=line, column=column, source=source)
    token = error.token
    at_end = token.type == "$END"
    tokens = _tokens_before(source, None if at_end else token.start_pos)
    previous = tokens[-1] if tokens else None
    open_parentheses = _open_parentheses(tokens)
    position = previous if at_end and previous is not None else token
    message = _message_for(source, token, previous, open_parentheses, at_end)
    if open_parentheses and "closing parenthesis ')' for" in message:
        position = open_parentheses[-1][0]
    return FormulaSyntaxError(
        message,
        line=position.line,
        column=position.column,
        end_line=position.end_line,
        end_column=position.end_column,
        source=source,
    )


def _message_for(
    source: str,
    token: Token,
    previous: Token | None,
    open_parentheses: list[tuple[Token, bool]],
    at_end: bool,
) -> str:
    previous_type = previous.type if previous is not None else None
    inside_call = bool(open_parentheses) and open_parentheses[-1][1]
    if at_end:
        if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
            return f"the formula ends with '{previous}': a value is missing after it"
        if previous_type == "COMMA":
            return "the formula ends with ',': an argument is missing after it"
        if open_parentheses:
            opened = open_parentheses[-1][0]
            return (
                f"missing closing parenthesis ')' for the '(' at line {opened.line}, "
                f"column {opened.column}"
            )
        return "unexpected end of the formula"
    # A lexed token has its position (Lark types it as optional).
    end = cast(int, token.end_pos)
    if token.type == "SLASH" and end < len(source) and source[end] == "*":
        return "unterminated comment: '/*' has no closing '*/'"
    if token.type == "RPAR":
        if not open_parentheses:
            return "extra closing parenthesis ')' without a matching '('"
        if previous_type == "COMMA":
            return "an argument is missing after ','"
        if previous_type == "LPAR":
            return "empty parentheses '()': put an expression inside"
        if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
            return f"a value is missing after '{previous}'"
    if token.type in _BINARY_OPERATORS or token.type in {"BANG", "NOT"}:
        if previous_type == "EQUALITY_OPERATOR" and token.type == "EQUALITY_OPERATOR":
            return (
                f"'{previous} {token}' is not an operator: compare with '=' "
                "(or '==') and use '<>' (or '!=') for 'not equal'"
            )
        if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
            return f"'{token}' cannot follow '{previous}': a value is missing between them"
        if previous_type in (None, "LPAR", "COMMA"):
            return f"a value is missing before '{token}'"
    if token.type == "COMMA":
        if previous_type in ("LPAR", "COMMA"):
            return "an argument is missing before ','"
        if open_parentheses and not inside_call:
            opened = open_parentheses[-1][0]
            return (
                f"missing closing parenthesis ')' for the '(' at line {opened.line}, "
                f"column {opened.column} before ','"
            )
        if not inside_call:
            return "',' is only allowed between the arguments of a function call"
        if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
            return f"a value is missing after '{previous}'"
    if token.type in _VALUE_START and previous is not None and previous.type in _VALUE_END:
        if token.type == "LPAR" and previous_type == "NAME":
            return f"'{previous}' is not a function name (function names have no '.')"
        if inside_call:
            return (
                f"missing comma between arguments: {_describe(previous)} is followed by "
                f"{_describe(token)}"
            )
        return (
            f"missing operator between {_describe(previous)} and {_describe(token)} "
            "(for example '&', '+' or '=')"
        )
    if token.type == "LPAR" and previous_type == "GLOBAL_NAME":
        return f"'{previous}' is a global value, not a function"
    return f"unexpected {_describe(token)}"
