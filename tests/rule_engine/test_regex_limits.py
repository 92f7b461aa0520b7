"""REGEX patterns are bounded before they are compiled: a constant pattern is refused
by the checker with its position, one read from a field fails that evaluation only."""

from __future__ import annotations

import pytest

from trellis.rule_engine import (
    FormulaError,
    FormulaLimitError,
    FormulaRuntimeError,
    FormulaTypeError,
    compile_formula,
)
from trellis.rule_engine.functions.patterns import bounded_pattern
from trellis.rule_engine.limits import REGEX_CACHE_SIZE, REGEX_MAX_PATTERN_LENGTH

FIELDS = {"Name": "text", "Pattern": "text"}

COSTLY = {
    "(?:a{1000}){3000}": "3000 times",  # the pattern from the report
    "(?:a{100}){100}": "nested repeats",
    "(?:(?:(?:a{10}){10}){10}){2}": "nested repeats",
    "(?:" * 11 + "a" + ")+" * 11: "unroll",  # each + compiles its body twice
    "x{,5000}": "5000 times",  # regex-only syntax: {,m} is a repeat
    "a{1001,}": "1001 times",
    "a{1000}" * 3: "unroll",  # siblings add up
    "(?:ab|cd|ef|gh){1000}": "unroll",
    "(?x)(?:a{1000} # )\n){1000}": "nested repeats",  # a verbose comment hides nothing
    "a" * (REGEX_MAX_PATTERN_LENGTH + 1): "characters long",
}


def test_invalid_constant_pattern_is_refused_by_the_checker():
    source = 'REGEX(Name, "(")'
    with pytest.raises(FormulaTypeError) as raised:
        compile_formula(source, FIELDS, expected_type="checkbox")
    error = raised.value
    assert "invalid regular expression" in error.message and "missing )" in error.message
    assert (error.line, error.column, error.end_column) == (1, 13, 16)
    assert error.snippet == f"{source}\n            ^^^"
    assert error.to_dict()["type"] == "type"


def test_costly_constant_pattern_is_refused_by_the_checker():
    source = 'AND(LEN(Name) > 1,\n  REGEX(Name, "(?:a{1000}){3000}"))'
    with pytest.raises(FormulaLimitError) as raised:
        compile_formula(source, FIELDS, expected_type="checkbox")
    error = raised.value
    assert "the limit is 1000" in error.message
    assert (error.line, error.column) == (2, 15)
    assert error.snippet.splitlines()[1] == " " * 14 + "^" * len('"(?:a{1000}){3000}"')


@pytest.mark.parametrize(("pattern", "message"), list(COSTLY.items()))
def test_costly_patterns_are_refused(pattern, message):
    literal = pattern.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    with pytest.raises(FormulaLimitError, match=message):
        compile_formula(f'REGEX(Name, "{literal}")', FIELDS)
    formula = compile_formula("REGEX(Name, Pattern)", FIELDS)
    with pytest.raises(FormulaRuntimeError, match=message) as raised:
        formula.evaluate({"Name": "a", "Pattern": pattern})
    assert raised.value.line == 1 and raised.value.column == 1


def test_nothing_after_a_stray_parenthesis_escapes_the_measure():
    formula = compile_formula("REGEX(Name, Pattern)", FIELDS)
    with pytest.raises(FormulaRuntimeError, match="unbalanced parenthesis at position 1"):
        formula.evaluate({"Name": "a", "Pattern": "a)(?:a{1000}){3000}"})


def test_invalid_pattern_from_a_field_is_a_runtime_error():
    formula = compile_formula("NOT(REGEX(Name, Pattern))", FIELDS)
    with pytest.raises(FormulaRuntimeError, match="invalid regular expression") as raised:
        formula.evaluate({"Name": "a", "Pattern": "("})
    assert (raised.value.line, raised.value.column) == (1, 5)
    assert formula.evaluate({"Name": "a", "Pattern": "[a-c]"}) is False


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"^[A-Z]{2}-\d{4}$", "AB-1234", True),
        (r"^[A-Z]{2}-\d{4}$", "ab-1234", False),
        (r"\d{3,5}", "1234", True),
        (r"\d{3,5}", "12", False),
        (r"(?:\d{1,3}\.){3}\d{1,3}", "192.168.0.1", True),
        (
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "0" * 8 + "-0000" * 3 + "-" + "0" * 12,
            True,
        ),
        ("a{1000}", "a" * 1000, True),
        ("(?:a{10}){90}", "a" * 900, True),
        # Escaped braces and braces in a class are text, not repeats.
        (r"a\{5000}", "a{5000}", True),
        ("[{5000}]+", "{50}", True),
        ("ABC(?i)DEF", "ABCdef", True),
        ("[a-z&&[^aeiou]]", "b", True),
    ],
)
def test_ordinary_patterns_still_work(pattern, text, expected):
    literal = pattern.replace("\\", "\\\\")
    constant = compile_formula(f'REGEX(Name, "{literal}")', FIELDS)
    assert constant.evaluate({"Name": text}) is expected
    from_field = compile_formula("REGEX(Name, Pattern)", FIELDS)
    assert from_field.evaluate({"Name": text, "Pattern": pattern}) is expected


def test_a_pattern_built_by_an_expression_is_checked_when_it_runs():
    formula = compile_formula('REGEX(Name, "(?:a{1000})" & "{3000}")', FIELDS)
    with pytest.raises(FormulaRuntimeError, match="3000 times"):
        formula.evaluate({"Name": "a"})


def test_the_compiled_pattern_cache_is_bounded():
    formula = compile_formula("REGEX(Name, Pattern)", FIELDS)
    for number in range(REGEX_CACHE_SIZE * 2):
        assert formula.evaluate({"Name": f"x{number}", "Pattern": f"x{number}"}) is True
        assert bounded_pattern.cache_info().currsize <= REGEX_CACHE_SIZE
    assert bounded_pattern.cache_info().currsize == REGEX_CACHE_SIZE
    with pytest.raises(FormulaError):
        formula.evaluate({"Name": "a", "Pattern": "("})
    assert bounded_pattern.cache_info().currsize == REGEX_CACHE_SIZE
