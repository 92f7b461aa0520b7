"""Grammar: literals, operators and precedence, comments, friendly syntax errors."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest
from lark.exceptions import UnexpectedInput

from trellis.rule_engine import FormulaError, FormulaSyntaxError, ast, compile_formula
from trellis.rule_engine import parser as parser_module
from trellis.rule_engine.ast_builder import reset_depths
from trellis.rule_engine.lalr import NoParse
from trellis.rule_engine.parser import parse


def run(source: str, record: dict | None = None, fields: dict | None = None):
    return compile_formula(source, fields or {}).evaluate(record or {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("12", Decimal(12)),
        ("1.5", Decimal("1.5")),
        (".40", Decimal("0.40")),
        ("5.", Decimal(5)),
        ('"double"', "double"),
        ("'single'", "single"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"tab\there"', "tab\there"),
        (r'"line\nbreak"', "line\nbreak"),
        (r'"back\\slash"', "back\\slash"),
        (r'"\u00e9"', "é"),
        (r'"\d+"', r"\d+"),
        ("TRUE", True),
        ("false", False),
        ("True", True),
        ("NULL", None),
        ("null", None),
        ("/* a comment */ 1 /* another */ + /* multi\nline */ 2", Decimal(3)),
    ],
)
def test_literals(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # additive and multiplicative
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("24 / 4 / 2", Decimal(3)),
        ("7 - 2 * 3", Decimal(1)),
        ("10 / 4", Decimal("2.5")),
        # ^ binds tighter than * and unary minus, right associative (documented difference)
        ("2 * 3 ^ 2", Decimal(18)),
        ("-2 ^ 2", Decimal(-4)),
        ("2 ^ 3 ^ 2", Decimal(512)),
        ("2 ^ -1", Decimal("0.5")),
        ("(2 * 3) ^ 2", Decimal(36)),
        # unary
        ("-(-3)", Decimal(3)),
        ("+4", Decimal(4)),
        ("- 2 * 3", Decimal(-6)),
        ("--1", Decimal(1)),
        # comparison vs additive
        ("1 + 1 = 2", True),
        ("3 > 1 + 1", True),
        ("2 * 2 >= 4", True),
        ("1 <= 0", False),
        ("1 < 2", True),
        ("2 > 2", False),
        # equality below comparison
        ("1 < 2 = TRUE", True),
        ("1 < 2 == 2 < 3", True),
        ("1 <> 2", True),
        ("1 != 1", False),
        # && binds tighter than ||
        ("TRUE || FALSE && FALSE", True),
        ("(TRUE || FALSE) && FALSE", False),
        ("1 = 1 && 2 = 2", True),
        ("FALSE && TRUE || TRUE", True),
        # unary NOT / ! bind tighter than &&
        ("!FALSE && TRUE", True),
        ("NOT FALSE && FALSE", False),
        ("NOT(1 = 2)", True),
        # text joins
        ('"a" & "b" & "c"', "abc"),
        ('"a" + "b"', "ab"),
        ('"x" & NULL', "x"),
        ('"ab" = "ab"', True),
        ('"ab" = "AB"', False),
        ('"a" < "b"', True),
        ('1 + 2 & "" = ""', None) if False else ('LEN("ab" & "c") * 2', Decimal(6)),
    ],
)
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
    assert (call.span.line, call.span.column, call.span.end_line, call.span.end_column) == (
        2,
        3,
        2,
        9,
    )
    assert call.name == "FOO" and (call.name_span.column, call.name_span.end_column) == (3, 6)


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
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
        ("", 1, 1, "empty"),
        ("   ", 1, 1, "empty"),
        ("a # b", 1, 3, "unexpected character '#'"),
        ("()", 1, 2, "empty parentheses"),
        ("Account.Name(1)", 1, 13, "not a function name"),
        ("* 2", 1, 1, "a value is missing before '*'"),
    ],
)
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
    assert (
        payload["type"] == "syntax"
        and payload["line"] == line
        and payload["message"] == error.message
    )


def test_error_str_includes_position():
    with pytest.raises(FormulaSyntaxError) as raised:
        compile_formula("1 +", {})
    assert "line 1, column 3" in str(raised.value)


# --- the fast LALR runner builds exactly what Lark builds -------------------------


def _shape(node):
    """A comparable form of an AST (nodes compare by identity)."""
    if isinstance(node, tuple) and not isinstance(node, ast.Span):
        return tuple(_shape(item) for item in node)
    if not dataclasses.is_dataclass(node):
        return node
    return (type(node).__name__,) + tuple(
        (field.name, _shape(getattr(node, field.name))) for field in dataclasses.fields(node)
    )


def _both_parsers(source: str):
    """(runner result, Lark result): an AST shape, or the error each one stops with."""
    results = []
    for run_parser in (parser_module._runner().parse, parser_module._building_lark().parse):
        reset_depths()
        try:
            results.append(_shape(run_parser(source)))
        except (NoParse, UnexpectedInput):
            results.append("syntax error")
        except FormulaError as error:
            results.append((type(error).__name__, error.message, error.line, error.column))
    return results


_VALID = [
    "1",
    "1.5",
    ".40",
    "5.",
    '"double"',
    "'single'",
    r'"say \"hi\""',
    r"'it\'s'",
    r'"\u00e9"',
    "TRUE",
    "false",
    "Null",
    "Amount",
    "Account.Owner.Email",
    "$User.Id",
    "$Organization.Name",
    "TODAY()",
    "today ()",
    "f(1, 2, 3)",
    "AND(a, OR(b, NOT c), !d)",
    "NOT(x)",
    "not x && y",
    "1 + 2 * 3 - 4 / 5 ^ 6 ^ -7",
    "-2 ^ 2",
    "--+-1",
    "a & b + c",
    "a = b == c <> d != e",
    "a < b <= c > d >= e",
    "a || b && c || d",
    "(a || b) && c",
    "((((1))))",
    'IF(Amount > 1000, "big", IF(Amount > 0, "small", "none"))',
    "/* lead */ a /* mid\nline */ + /**/ b /* trail */",
    "1 +\n  foo(2)\n\t* 3\r\n- 4",
    "'multi\nline' & \"also\nmulti\"",
    'CASE(Stage, "A", 1, "B", 2, 0)',
    'AND(ISPICKVAL(Stage, "Closed Won"), Amount < 1000, NOT(ISBLANK(CloseDate)))',
    "notable + trueish - nullable + falsehood",
    "x" * 300,
    "1" + " + 1" * 250,
    "-" * 150 + "1",
    "a" + " || a" * 300,
    "/* why */ Amount > 0 /* done */",
]
_TOO_DEEP = ["-" * 250 + "1", "2" + " ^ 2" * 250, "1 + (" * 60 + "1" + ")" * 60 + " ^ -2" * 150]


@pytest.mark.parametrize("source", _VALID + _TOO_DEEP)
def test_runner_builds_what_lark_builds(source):
    fast, lark = _both_parsers(source)
    assert fast == lark
    assert fast != "syntax error"
    assert (fast[0] == "FormulaLimitError") is (source in _TOO_DEEP)


def test_runner_agrees_with_lark_on_random_input():
    """Random token soup (mostly invalid) and random well-formed expressions: the runner
    accepts exactly what Lark accepts, with the same tree, spans and depth errors."""
    generator = random.Random(20240517)
    tokens = [
        "Amount",
        "Account.Name",
        "$User.Id",
        "1",
        "2.5",
        ".5",
        '"a"',
        "'b\\'c'",
        "TRUE",
        "null",
        "NOT",
        "!",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "^",
        "&",
        "=",
        "==",
        "<>",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "IF(",
        "AND(",
        "LEN (",
        "/* c */",
        "\n",
        " ",
        "#",
        "'open",
        ".",
        "$",
    ]

    def expression(depth: int) -> str:
        choice = generator.random()
        if depth > 4 or choice < 0.3:
            return generator.choice(["Amount", "x.y", "1", '"t"', "TRUE", "NULL", "$User.Id"])
        if choice < 0.5:
            return (
                expression(depth + 1)
                + generator.choice([" + ", "*", " && ", "||", " = ", "<", " & ", "^", "\n- "])
                + expression(depth + 1)
            )
        if choice < 0.6:
            return generator.choice(["-", "NOT ", "!", "+"]) + expression(depth + 1)
        if choice < 0.7:
            return f"({expression(depth + 1)})"
        count = generator.randint(0, 3)
        return "F(" + ", ".join(expression(depth + 1) for _ in range(count)) + ")"

    accepted = 0
    for index in range(1500):
        if index % 2:
            source = expression(0)
        else:
            source = "".join(
                generator.choice(tokens) + generator.choice(["", " "])
                for _ in range(generator.randint(1, 12))
            )
        fast, lark = _both_parsers(source)
        assert fast == lark, source
        accepted += fast != "syntax error"
    assert accepted > 700  # the comparison covered valid formulas, not only errors


def test_valid_formulas_never_reach_lark(monkeypatch):
    """The fast runner is in use (a Lark upgrade that breaks it would only slow parsing)."""
    assert parser_module._runner() is not None

    def refuse(source):
        raise AssertionError(f"Lark parsed a valid formula: {source}")

    monkeypatch.setattr(parser_module, "_parse_with_lark", refuse)
    for source in _VALID:
        parse(source)


def test_a_formula_between_comments_is_not_empty():
    assert run("/* why */ 1 + 2 /* done */") == Decimal(3)
    with pytest.raises(FormulaSyntaxError, match="empty"):
        compile_formula("/* only */ /* comments */\n", {})
