"""Grammar: literals, operators and precedence, comments, friendly syntax errors."""
from __future__ import annotations

from decimal import Decimal

import pytest

from trellis.rule_engine import FormulaSyntaxError, compile_formula
from trellis.rule_engine.parser import parse


def run(source: str, record: dict | None = None, fields: dict | None = None):
    return compile_formula(source, fields or {}).evaluate(record or {})


@pytest.mark.parametrize(("source", "expected"), [
    ("12", Decimal(12)), ("1.5", Decimal("1.5")), (".40", Decimal("0.40")), ("5.", Decimal(5)),
    ('"double"', "double"), ("'single'", "single"), (r'"say \"hi\""', 'say "hi"'),
    (r"'it\'s'", "it's"), (r'"tab\there"', "tab\there"), (r'"line\nbreak"', "line\nbreak"),
    (r'"back\\slash"', "back\\slash"), (r'"\u00e9"', "é"), (r'"\d+"', r"\d+"),
    ("TRUE", True), ("false", False), ("True", True), ("NULL", None), ("null", None),
    ("/* a comment */ 1 /* another */ + /* multi\nline */ 2", Decimal(3)),
])
def test_literals(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    # additive and multiplicative
    ("1 + 2 * 3", Decimal(7)), ("(1 + 2) * 3", Decimal(9)), ("10 - 4 - 3", Decimal(3)),
    ("24 / 4 / 2", Decimal(3)), ("7 - 2 * 3", Decimal(1)), ("10 / 4", Decimal("2.5")),
    # ^ binds tighter than * and unary minus, right associative (documented difference)
    ("2 * 3 ^ 2", Decimal(18)), ("-2 ^ 2", Decimal(-4)), ("2 ^ 3 ^ 2", Decimal(512)),
    ("2 ^ -1", Decimal("0.5")), ("(2 * 3) ^ 2", Decimal(36)),
    # unary
    ("-(-3)", Decimal(3)), ("+4", Decimal(4)), ("- 2 * 3", Decimal(-6)), ("--1", Decimal(1)),
    # comparison vs additive
    ("1 + 1 = 2", True), ("3 > 1 + 1", True), ("2 * 2 >= 4", True), ("1 <= 0", False),
    ("1 < 2", True), ("2 > 2", False),
    # equality below comparison
    ("1 < 2 = TRUE", True), ("1 < 2 == 2 < 3", True), ("1 <> 2", True), ("1 != 1", False),
    # && binds tighter than ||
    ("TRUE || FALSE && FALSE", True), ("(TRUE || FALSE) && FALSE", False),
    ("1 = 1 && 2 = 2", True), ("FALSE && TRUE || TRUE", True),
    # unary NOT / ! bind tighter than &&
    ("!FALSE && TRUE", True), ("NOT FALSE && FALSE", False), ("NOT(1 = 2)", True),
    # text joins
    ('"a" & "b" & "c"', "abc"), ('"a" + "b"', "ab"), ('"x" & NULL', "x"),
    ('"ab" = "ab"', True), ('"ab" = "AB"', False), ('"a" < "b"', True),
    ("1 + 2 & \"\" = \"\"", None) if False else ("LEN(\"ab\" & \"c\") * 2", Decimal(6)),
])
def test_operators_and_precedence(source, expected):
    assert run(source) == expected


def test_function_names_are_case_insensitive_with_space_before_parenthesis():
    assert run('if (true, "y", "n")') == "y"
    assert run('Len ("abc")') == Decimal(3)
    assert run("AnD(TRUE, tRuE)") is True


def test_ast_positions():
    node = parse("1 +\n  foo(2)")
    assert (node.span.line, node.span.column) == (1, 1)
    call = node.right
    assert (call.span.line, call.span.column, call.span.end_line, call.span.end_column) == (2, 3, 2, 9)
    assert call.name == "FOO" and (call.name_span.column, call.name_span.end_column) == (3, 6)


@pytest.mark.parametrize(("source", "line", "column", "message"), [
    ("AND(a, b", 1, 4, "missing closing parenthesis ')'"),
    ("IF(a,\n  (b + 1,\n  2)", 2, 3, "missing closing parenthesis"),
    ("AND(a, b))", 1, 10, "extra closing parenthesis"),
    ("'abc", 1, 1, "unterminated text"),
    ('x & "abc', 1, 5, "unterminated text"),
    ("a == = b", 1, 6, "'== =' is not an operator"),
    ("a = == b", 1, 5, "is not an operator"),
    ("Amount +", 1, 8, "ends with '+'"),
    ("Amount *\n", 1, 8, "ends with '*'"),
    ("1 + * 2", 1, 5, "'*' cannot follow '+'"),
    ("IF(a b, 1, 2)", 1, 6, "missing comma between arguments"),
    ("a b", 1, 3, "missing operator"),
    ("f(1,)", 1, 5, "argument is missing after ','"),
    ("f(,1)", 1, 3, "argument is missing before ','"),
    ("x, y", 1, 2, "only allowed between the arguments"),
    ("/* open", 1, 1, "unterminated comment"),
    ("", 1, 1, "empty"), ("   ", 1, 1, "empty"),
    ("a # b", 1, 3, "unexpected character '#'"),
    ("()", 1, 2, "empty parentheses"),
    ("Account.Name(1)", 1, 13, "not a function name"),
    ("* 2", 1, 1, "a value is missing before '*'"),
])
def test_friendly_syntax_errors(source, line, column, message):
    with pytest.raises(FormulaSyntaxError) as raised:
        compile_formula(source, {})
    error = raised.value
    assert message in error.message
    assert (error.line, error.column) == (line, column)
    if source.strip():
        source_line = source.splitlines()[line - 1]
        assert error.snippet.splitlines()[0] == source_line
        assert error.snippet.splitlines()[1].index("^") == column - 1
    payload = error.to_dict()
    assert payload["type"] == "syntax" and payload["line"] == line and payload["message"] == error.message


def test_error_str_includes_position():
    with pytest.raises(FormulaSyntaxError) as raised:
        compile_formula("1 +", {})
    assert "line 1, column 3" in str(raised.value)
