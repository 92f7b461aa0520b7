"""Limits and robustness: nothing but FormulaError ever escapes, and nothing hangs."""

from __future__ import annotations

import contextlib
import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.rule_engine import (
    FormulaError,
    FormulaLimitError,
    FormulaRuntimeError,
    compile_formula,
)

FIELDS = {
    "Amount": "currency",
    "Name": "text",
    "Stage": "picklist",
    "CloseDate": "date",
    "Active": "checkbox",
    "Rate": "percent",
    "Due": "datetime",
    "Tags": "multi_picklist",
}
RECORD = {
    "Amount": 12.5,
    "Name": "Acme",
    "Stage": "Won",
    "CloseDate": dt.date(2024, 1, 31),
    "Active": True,
    "Rate": 10,
    "Due": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    "Tags": ["a", "b"],
}


@pytest.mark.parametrize(
    "source",
    [
        "(" * 10000,
        "(" * 65 + "1" + ")" * 65,
        "NOT(" * 70 + "TRUE" + ")" * 70,
        "-" * 4000 + "1",
        "1" + "^1" * 300,
        "1" + " + (1" * 210 + ")" * 210,
    ],
)
def test_deep_nesting_is_a_limit_error_not_recursion(source):
    with pytest.raises(FormulaLimitError) as raised:
        compile_formula(source, FIELDS)
    assert raised.value.line == 1 and raised.value.column >= 1


def test_nesting_within_limit_is_fine():
    source = "(" * 60 + "1" + ")" * 60
    assert compile_formula(source, FIELDS).evaluate({}) == 1
    nested_if = "IF(TRUE, " * 30 + "1" + ", 0)" * 30
    assert compile_formula(nested_if, FIELDS).evaluate({}) == 1
    chain = " + ".join(["Amount"] * 150)
    assert compile_formula(chain, FIELDS).evaluate({"Amount": 1}) == 150


def test_parenthesis_depth_ignores_strings_and_comments():
    source = '"' + "(" * 200 + '" & /* ' + "(" * 200 + ' */ "x"'
    assert compile_formula(source, FIELDS).evaluate({}) == "(" * 200 + "x"


def test_length_limit():
    long_ok = "1 " + "+ 1 " * 999 + "  "  # 4,000 characters, a 1,000-term chain
    assert len(long_ok) == 4000
    assert compile_formula(long_ok, FIELDS).evaluate({}) == 1000
    conditions = " && ".join(["Amount > 1"] * 280)
    assert len(conditions) > 3900 and compile_formula(conditions, FIELDS).evaluate({"Amount": 2})
    padded = "1 /*" + "x" * 3990 + "*/"
    assert len(padded) > 3900 and compile_formula(padded, FIELDS).evaluate({}) == 1
    with pytest.raises(FormulaLimitError, match="the limit is 5000"):
        compile_formula("1" + " " * 5000, FIELDS)
    with pytest.raises(FormulaLimitError, match="the limit is 3900"):
        compile_formula("1" + " " * 3900, FIELDS, max_length=3900)


def test_evaluation_budget():
    with pytest.raises(FormulaLimitError, match="evaluation budget"):
        compile_formula(" + ".join(["1"] * 50), FIELDS, max_steps=20)
    text = compile_formula('LEN(LPAD("x", 90000, "ab") & LPAD("y", 90000))', FIELDS, max_steps=1000)
    with pytest.raises(FormulaRuntimeError, match="evaluation budget"):
        text.evaluate({})
    assert compile_formula('LEN(LPAD("x", 90000, "ab"))', FIELDS).evaluate({}) == 90000


def test_text_results_are_capped():
    doubling = (
        'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(LPAD("a", 60000, "a"), "a", "aa"), "a", "aa"), "a", "aa")'
    )
    with pytest.raises(FormulaRuntimeError, match="longer than"):
        compile_formula(doubling, FIELDS).evaluate({})
    with pytest.raises(FormulaRuntimeError, match="longer than"):
        compile_formula('LPAD("a", 60000, "a") & LPAD("b", 60000, "b")', FIELDS).evaluate({})


def test_catastrophic_regex_is_stopped():
    formula = compile_formula('REGEX(Name, "(a|aa)+(b|bb)+(a|aa)+$x")', FIELDS, regex_timeout=0.05)
    try:
        assert formula.evaluate({"Name": "a" * 5000 + "c"}) is False
    except FormulaRuntimeError as error:
        assert "took too long" in error.message


VALID_FORMULAS = [
    'AND(ISPICKVAL(Stage, "Won"), Amount < 1000, NOT(ISBLANK(CloseDate)))',
    'IF(Amount > 10, TEXT(Amount * Rate), LEFT(Name, 2) & "-" & UPPER(Name))',
    'CASE(Stage, "Won", ADDMONTHS(CloseDate, 1), CloseDate + 7)',
    "ROUND(Amount / 3, 2) + MOD(Amount, 2) - ABS(-Amount) ^ 2",
    'Active && (Due < NOW() || INCLUDES(Tags, "a")) /* comment */',
    'REGEX(Name, "[A-Z][a-z]+") && LEN(SUBSTITUTE(Name, "c", "")) > 1',
    "BLANKVALUE(Name, 'none') & TEXT(DATEVALUE(Due)) & TEXT(WEEKDAY(CloseDate))",
]
ALPHABET = string.ascii_letters + string.digits + " ()\"',.&|=<>!+-*/^$_\n" + "ÀéΩ\t"


def _exercise(source: str) -> None:
    try:
        formula = compile_formula(source, FIELDS)
    except FormulaError as error:
        error.to_dict()
        return
    for blank_mode_record in (RECORD, {}):
        try:
            formula.evaluate(blank_mode_record, prior=RECORD, now=dt.datetime(2024, 1, 1))
        except FormulaError as error:
            error.to_dict()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_fuzz_random_text_only_raises_formula_errors(source):
    _exercise(source)


@st.composite
def mutated_formulas(draw):
    source = draw(st.sampled_from(VALID_FORMULAS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(source)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(
            st.sampled_from(
                list("()\",'&|=<>!+-*/^")
                + [
                    "NULL",
                    "1/0",
                    "TRUE",
                    "Amount",
                    "Name",
                    "Stage",
                    "Tags",
                    "IF(",
                    "CASE(",
                    "0",
                    ".5",
                    "/*",
                    "*/",
                    "$User.Id",
                    "TODAY()",
                    "-",
                    "99999999999999999999",
                ]
            )
        )
        if action == "insert":
            source = source[:position] + piece + source[position:]
        elif action == "delete":
            source = source[:position] + source[position + draw(st.integers(1, 5)) :]
        elif action == "replace":
            source = source[:position] + piece + source[position + len(piece) :]
        else:
            source = (
                source[:position] + source[position : position + 20] * 2 + source[position + 20 :]
            )
    return source


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_formulas())
def test_fuzz_mutated_formulas_only_raise_formula_errors(source):
    _exercise(source)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(FIELDS)),
        st.one_of(
            st.none(),
            st.text(max_size=10),
            st.integers(),
            st.floats(allow_nan=True),
            st.booleans(),
            st.dates(),
            st.lists(st.text(max_size=3), max_size=3),
        ),
    )
)
def test_fuzz_strange_record_values_only_raise_formula_errors(record):
    for source in VALID_FORMULAS:
        formula = compile_formula(source, FIELDS)
        with contextlib.suppress(FormulaError):
            formula.evaluate(record, now=dt.datetime(2024, 1, 1))
