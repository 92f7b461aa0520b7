"""Every built-in function, with cases taken from Salesforce's function reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from trellis.rule_engine import FormulaRuntimeError, compile_formula

UTC = dt.UTC
NOW = dt.datetime(2024, 5, 17, 13, 45, 30, tzinfo=UTC)
FIELDS = {
    "Name": "text",
    "Amount": "currency",
    "Stage": "picklist",
    "Regions": "multi_picklist",
    "CloseDate": "date",
    "Due": "datetime",
    "Active": "checkbox",
    "Rate": "percent",
    "Count": "number",
    "Start": "time",
    "Code": "text",
}


def run(source: str, record: dict | None = None, **options):
    return compile_formula(source, FIELDS, **options).evaluate(record or {}, now=NOW)


CASES = [
    # logical
    ("AND(TRUE, TRUE, TRUE)", True),
    ("AND(TRUE, FALSE)", False),
    ("AND(TRUE)", True),
    ("OR(FALSE, FALSE)", False),
    ("OR(FALSE, TRUE, FALSE)", True),
    ("NOT(FALSE)", True),
    ("NOT TRUE", False),
    ("!TRUE", False),
    ('IF(1 > 2, "a", "b")', "b"),
    ("IF(TRUE, 1, NULL)", Decimal(1)),
    ('CASE(3, 1, "one", 3, "three", "other")', "three"),
    ('CASE(9, 1, "one", 3, "three", "other")', "other"),
    ('ISBLANK("")', True),
    ('ISBLANK(" ")', False),
    ("ISBLANK(NULL)", True),
    ("ISBLANK(Amount)", True),
    ("ISNULL(Amount)", True),
    ("ISNULL(Name)", False),
    ('BLANKVALUE(Name, "none")', "none"),
    ('BLANKVALUE("x", "none")', "x"),
    ("NULLVALUE(Amount, 5)", Decimal(5)),
    ('NULLVALUE(Name, "x")', None),
    ('ISNUMBER("12.5")', True),
    ('ISNUMBER("-3")', True),
    ('ISNUMBER("12a")', False),
    ('ISNUMBER("")', False),
    ('ISPICKVAL(Stage, "")', True),
    ('INCLUDES(Regions, "EU")', False),
    # text
    ('BEGINS("Salesforce", "Sales")', True),
    ('BEGINS("Salesforce", "sales")', False),
    ('CONTAINS("Product Type", "Type")', True),
    ('CONTAINS("abc", "")', True),
    ('CONTAINS(Name, "a")', False),
    ('FIND("b", "abcb")', Decimal(2)),
    ('FIND("b", "abcb", 3)', Decimal(4)),
    ('FIND("z", "abc")', Decimal(0)),
    ('FIND("", "abc")', Decimal(0)),
    ('FIND("a", "abc", 0)', Decimal(0)),
    ('LEFT("Salesforce", 5)', "Sales"),
    ('LEFT("abc", -1)', None),
    ('LEFT("abc", 9)', "abc"),
    ('RIGHT("Salesforce", 5)', "force"),
    ('RIGHT("abc", 0)', None),
    ('MID("Salesforce", 6, 3)', "for"),
    ('MID("abc", 0, 2)', "ab"),
    ('MID("abc", 5, 2)', None),
    ('LEN("hello")', Decimal(5)),
    ("LEN(Name)", Decimal(0)),
    ('LOWER("MyName")', "myname"),
    ('UPPER("MyName", "en_US")', "MYNAME"),
    ('LPAD("my_company.com", 20, "z")', "zzzzzzmy_company.com"),
    ('LPAD("my_company.com", 14, "z")', "my_company.com"),
    ('LPAD("my_company.com", 2)', "my"),
    ('RPAD("my_company.com", 16, "z")', "my_company.comzz"),
    ('RPAD("abc", 5)', "abc  "),
    ('LPAD("7", 3, "0")', "007"),
    ('SUBSTITUTE("Coupon: Old", "Old", "New")', "Coupon: New"),
    ('SUBSTITUTE("aaa", "a", "")', None),
    ('SUBSTITUTE("abc", "", "x")', "abc"),
    ('TRIM("  padded \t")', "padded"),
    ("TEXT(12.50)", "12.5"),
    ("TEXT(100)", "100"),
    ("TEXT(-0.0)", "0"),
    ("TEXT(1/4)", "0.25"),
    ("TEXT(DATE(2024, 2, 9))", "2024-02-09"),
    ("TEXT(NOW())", "2024-05-17 13:45:30Z"),
    ('TEXT(TIMEVALUE("17:30:45.125"))', "17:30:45.125"),
    ('TEXT("x")', "x"),
    ('VALUE(" 12.5 ")', Decimal("12.5")),
    ('VALUE("-3")', Decimal(-3)),
    ('REGEX("999-99-9999", "[0-9]{3}-[0-9]{2}-[0-9]{4}")', True),
    ('REGEX("x999-99-9999", "[0-9]{3}-[0-9]{2}-[0-9]{4}")', False),
    ('REGEX("ABCdef", "ABC(?i)DEF")', True),
    ('REGEX("abcdef", "ABC(?i)DEF")', False),
    ('REGEX("b", "[a-z&&[^aeiou]]")', True),
    ('REGEX("", "a*")', True),
    ('REVERSE("abc")', "cba"),
    ('INITCAP("mY nAME is")', "My Name Is"),
    (
        'HYPERLINK("https://x.test/?a=1&b=2", "Go <now>")',
        '<a href="https://x.test/?a=1&amp;b=2">Go &lt;now&gt;</a>',
    ),
    ('HYPERLINK("javascript:alert(1)", "x", "_blank")', '<a href="#" target="_blank">x</a>'),
    ('"a" & BR() & "b"', "a<br>b"),
    # math
    ("ABS(-5.5)", Decimal("5.5")),
    ("CEILING(2.1)", Decimal(3)),
    ("CEILING(-2.5)", Decimal(-3)),
    ("FLOOR(2.9)", Decimal(2)),
    ("FLOOR(-2.5)", Decimal(-2)),
    ("MCEILING(-2.5)", Decimal(-2)),
    ("MCEILING(2.1)", Decimal(3)),
    ("MFLOOR(-2.5)", Decimal(-3)),
    ("MFLOOR(2.9)", Decimal(2)),
    ("ROUND(1.5, 0)", Decimal(2)),
    ("ROUND(-1.5, 0)", Decimal(-2)),
    ("ROUND(2.345, 2)", Decimal("2.35")),
    ("ROUND(1234.5678, -2)", Decimal(1200)),
    ("ROUND(-2.5, 0)", Decimal(-3)),
    ("TRUNC(-1.9)", Decimal(-1)),
    ("TRUNC(12.3456, 2)", Decimal("12.34")),
    ("MOD(5, 3)", Decimal(2)),
    ("MOD(-5, 3)", Decimal(-2)),
    ("MOD(5.5, 2)", Decimal("1.5")),
    ("MAX(1, 5, 3)", Decimal(5)),
    ("MIN(4, -1, 3)", Decimal(-1)),
    ("MAX(1, Amount)", None),
    ("SQRT(16)", Decimal(4)),
    ("EXP(0)", Decimal(1)),
    ("LN(1)", Decimal(0)),
    ("LOG(1000)", Decimal(3)),
    ("ROUND(PI(), 5)", Decimal("3.14159")),
    ("ROUND(EXP(1), 4)", Decimal("2.7183")),
    # date and time
    ("TODAY()", dt.date(2024, 5, 17)),
    ("NOW()", NOW),
    ("DATE(2005, 1, 2)", dt.date(2005, 1, 2)),
    ('DATEVALUE("2005-11-15")', dt.date(2005, 11, 15)),
    ('DATEVALUE(DATETIMEVALUE("2005-11-15 23:00:00"))', dt.date(2005, 11, 15)),
    ('DATETIMEVALUE("2005-11-15 17:00:00")', dt.datetime(2005, 11, 15, 17, tzinfo=UTC)),
    ("DATETIMEVALUE(DATE(2005, 11, 15))", dt.datetime(2005, 11, 15, tzinfo=UTC)),
    ('TIMEVALUE("17:30:45.125")', dt.time(17, 30, 45, 125000)),
    ("TIMEVALUE(NOW())", dt.time(13, 45, 30)),
    ("YEAR(DATE(2024, 5, 17))", Decimal(2024)),
    ("MONTH(DATE(2024, 5, 17))", Decimal(5)),
    ("DAY(DATE(2024, 5, 17))", Decimal(17)),
    ('HOUR(TIMEVALUE("17:30:45"))', Decimal(17)),
    ('MINUTE(TIMEVALUE("17:30:45"))', Decimal(30)),
    ('SECOND(TIMEVALUE("17:30:45"))', Decimal(45)),
    ("WEEKDAY(DATE(2024, 5, 19))", Decimal(1)),
    ("WEEKDAY(DATE(2024, 5, 18))", Decimal(7)),
    ("DAYOFYEAR(DATE(2024, 12, 31))", Decimal(366)),
    ("ISOWEEK(DATE(2021, 1, 3))", Decimal(53)),
    ("ISOYEAR(DATE(2021, 1, 3))", Decimal(2020)),
    ("ADDMONTHS(DATE(2024, 1, 31), 1)", dt.date(2024, 2, 29)),
    ("ADDMONTHS(DATE(2023, 1, 31), 1)", dt.date(2023, 2, 28)),
    ("ADDMONTHS(DATE(2023, 2, 28), 1)", dt.date(2023, 3, 31)),
    ("ADDMONTHS(DATE(2024, 1, 15), 13)", dt.date(2025, 2, 15)),
    ("ADDMONTHS(DATE(2024, 3, 31), -1)", dt.date(2024, 2, 29)),
    (
        'ADDMONTHS(DATETIMEVALUE("2024-01-31 10:00:00"), 1)',
        dt.datetime(2024, 2, 29, 10, tzinfo=UTC),
    ),
    ("UNIXTIMESTAMP(DATE(1970, 1, 2))", Decimal(86400)),
    ('UNIXTIMESTAMP(DATETIMEVALUE("1970-01-01 00:01:40"))', Decimal(100)),
    ("FROMUNIXTIME(86400)", dt.datetime(1970, 1, 2, tzinfo=UTC)),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[case[0][:50] for case in CASES])
def test_function(source, expected):
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


def test_every_builtin_function_is_covered():
    from trellis.rule_engine import builtin_registry

    covered = " ".join(source for source, _ in CASES).upper()
    missing = [
        name
        for name in builtin_registry()
        if f"{name}(" not in covered and name not in ("ISNEW", "ISCHANGED", "PRIORVALUE")
    ]
    assert missing == []


@pytest.mark.parametrize(
    "source",
    [
        'VALUE("abc")',
        "SQRT(-1)",
        "LN(0)",
        "LOG(-1)",
        "MOD(1, 0)",
        "DATE(2023, 2, 29)",
        'DATEVALUE("2023-13-01")',
        'TIMEVALUE("25:00")',
        'DATETIMEVALUE("nope")',
        'REGEX("a", "(" & "")',  # a constant "(" is refused by the checker
        "EXP(5000)",
        "FROMUNIXTIME(1e20)" if False else "FROMUNIXTIME(99999999999999)",
        'LPAD("a", 200000, "x")',
    ],
)
def test_function_runtime_errors(source):
    with pytest.raises(FormulaRuntimeError) as raised:
        run(source)
    assert raised.value.line == 1 and raised.value.column >= 1
    assert raised.value.snippet.startswith(source)


def test_record_values_in_functions():
    record = {
        "Name": "Acme Corp",
        "Stage": "Closed Won",
        "Regions": ["EU", "APAC"],
        "Amount": 1250.5,
        "Rate": 25,
        "Start": dt.time(9, 30),
    }
    assert run('ISPICKVAL(Stage, "Closed Won")', record) is True
    assert run('ISPICKVAL(Stage, "closed won")', record) is False
    assert run('TEXT(Stage) & "!"', record) == "Closed Won!"
    assert run('INCLUDES(Regions, "APAC") && NOT(INCLUDES(Regions, "US"))', record) is True
    assert run("ISBLANK(Regions)", {"Regions": []}) is True
    assert run('CASE(Stage, "Closed Won", 1, "Prospecting", 2, 0)', record) == Decimal(1)
    assert run("Amount * Rate", record) == Decimal("312.625")
    assert run("HOUR(Start) * 60 + MINUTE(Start)", record) == Decimal(570)
    assert run("UPPER(LEFT(Name, 4))", record) == "ACME"


def test_prior_value_functions():
    formula = compile_formula("AND(ISCHANGED(Amount), PRIORVALUE(Amount) > Amount)", FIELDS)
    assert formula.uses_prior is True
    assert formula.evaluate({"Amount": 5}, prior={"Amount": 10}) is True
    assert formula.evaluate({"Amount": 10}, prior={"Amount": 10}) is False
    assert formula.evaluate({"Amount": 10}, prior=None, is_new=True) is False
    prior = compile_formula("PRIORVALUE(Amount)", FIELDS)
    assert prior.evaluate({"Amount": 1}, prior=None, is_new=True) is None
    assert prior.evaluate({"Amount": 1}, prior={"Amount": 3}) == Decimal(3)
    picklist = compile_formula('ISPICKVAL(PRIORVALUE(Stage), "New") && ISCHANGED(Stage)', FIELDS)
    assert picklist.evaluate({"Stage": "Won"}, prior={"Stage": "New"}) is True
    assert compile_formula("ISCHANGED(Name)", FIELDS).evaluate({"Name": ""}, prior={}) is False
    isnew = compile_formula("ISNEW()", FIELDS)
    assert isnew.evaluate({}, is_new=True) is True and isnew.evaluate({}) is False
    assert compile_formula("ISNEW()", FIELDS).uses_prior is False
