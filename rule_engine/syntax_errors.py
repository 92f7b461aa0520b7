"""Turn Lark's parse exceptions into a ``FormulaSyntaxError`` whose message is aimed
at the person typing the formula (what is missing, where, and what would fix it)."""

from __future__ import annotations

import functools
from typing import cast

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from trellis.rule_engine.errors import FormulaSyntaxError

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


def friendly_syntax_error(source: str, error: UnexpectedInput) -> FormulaSyntaxError:
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
    """What went wrong at ``token`` (after ``previous``), in the typist's words."""
    previous_type = previous.type if previous is not None else None
    inside_call = bool(open_parentheses) and open_parentheses[-1][1]
    if at_end:
        return _message_at_end(previous, open_parentheses)
    # A lexed token has its position (Lark types it as optional).
    end = cast(int, token.end_pos)
    if token.type == "SLASH" and end < len(source) and source[end] == "*":
        return "unterminated comment: '/*' has no closing '*/'"
    message = (
        _message_at_closing(token, previous, open_parentheses)
        or _message_at_operator(token, previous)
        or _message_at_comma(token, previous, open_parentheses, inside_call)
        or _message_between_values(token, previous, inside_call)
    )
    if message is not None:
        return message
    if token.type == "LPAR" and previous_type == "GLOBAL_NAME":
        return f"'{previous}' is a global value, not a function"
    return f"unexpected {_describe(token)}"


def _message_at_end(previous: Token | None, open_parentheses: list[tuple[Token, bool]]) -> str:
    """The formula stops too early: after an operator or a comma, or with a '(' open."""
    previous_type = previous.type if previous is not None else None
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


def _message_at_closing(
    token: Token, previous: Token | None, open_parentheses: list[tuple[Token, bool]]
) -> str | None:
    """An unexpected ')': unmatched, or closing on nothing."""
    if token.type != "RPAR":
        return None
    previous_type = previous.type if previous is not None else None
    if not open_parentheses:
        return "extra closing parenthesis ')' without a matching '('"
    if previous_type == "COMMA":
        return "an argument is missing after ','"
    if previous_type == "LPAR":
        return "empty parentheses '()': put an expression inside"
    if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
        return f"a value is missing after '{previous}'"
    return None


def _message_at_operator(token: Token, previous: Token | None) -> str | None:
    """An unexpected operator: doubled, or with no value before it."""
    if not (token.type in _BINARY_OPERATORS or token.type in {"BANG", "NOT"}):
        return None
    previous_type = previous.type if previous is not None else None
    if previous_type == "EQUALITY_OPERATOR" and token.type == "EQUALITY_OPERATOR":
        return (
            f"'{previous} {token}' is not an operator: compare with '=' "
            "(or '==') and use '<>' (or '!=') for 'not equal'"
        )
    if previous_type in _BINARY_OPERATORS or previous_type in _PREFIX_OPERATORS:
        return f"'{token}' cannot follow '{previous}': a value is missing between them"
    if previous_type in (None, "LPAR", "COMMA"):
        return f"a value is missing before '{token}'"
    return None


def _message_at_comma(
    token: Token,
    previous: Token | None,
    open_parentheses: list[tuple[Token, bool]],
    inside_call: bool,
) -> str | None:
    """An unexpected ',': a missing argument, or a comma outside a function call."""
    if token.type != "COMMA":
        return None
    previous_type = previous.type if previous is not None else None
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
    return None


def _message_between_values(token: Token, previous: Token | None, inside_call: bool) -> str | None:
    """Two values side by side: a missing operator, or a missing comma in a call."""
    if not (token.type in _VALUE_START and previous is not None and previous.type in _VALUE_END):
        return None
    if token.type == "LPAR" and previous.type == "NAME":
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
