"""Evaluation semantics: decimals, blanks in both modes, dates, percent, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from trellis.rule_engine import FormulaRuntimeError, compile_formula

UTC = dt.UTC
FIELDS = {
    "Amount": "currency",
    "Quantity": "number",
    "Rate": "percent",
    "Name": "text",
    "Stage": "picklist",
    "Active": "checkbox",
    "CloseDate": "date",
    "Due": "datetime",
    "Start": "time",
    "Account.Name": "text",
    "Account.Owner.Email": "email",
}


def run(source: str, record: dict | None = None, **options):
    evaluate_options = {
        key: options.pop(key) for key in ("prior", "is_new", "now", "globals") if key in options
    }
    return compile_formula(source, FIELDS, **options).evaluate(record or {}, **evaluate_options)


def test_decimal_arithmetic_never_uses_binary_floats():
    assert run("0.1 + 0.2") == Decimal("0.3")
    assert run("Amount * 3", {"Amount": 0.1}) == Decimal("0.3")
    assert run("1 / 3 * 3") == Decimal("0.99999999999999999999999999999999999999")
    assert isinstance(run("Quantity", {"Quantity": 7}), Decimal)


@pytest.mark.parametrize(
    ("source", "blank", "zero"),
    [
        ("Amount + 1", None, Decimal(1)),
        ("Amount * 2", None, Decimal(0)),
        ("-Amount", None, Decimal(0)),
        ("Amount > 0", None, False),
        ("Amount = 0", False, True),
        ("Amount <> 0", True, False),
        ("Amount = NULL", True, False),
        ("ISBLANK(Amount)", True, False),
        ("BLANKVALUE(Amount, 5)", Decimal(5), Decimal(0)),
        ('Name & "!"', "!", "!"),
        ('Name = ""', True, True),
        ("ISBLANK(Name)", True, True),
        ("LEN(Name)", Decimal(0), Decimal(0)),
        ("UPPER(Name)", None, None),
        ("Active", False, False),
        ("NOT(Active)", True, True),
        ('IF(Amount > 10, "big", "small")', "small", "small"),
        ("AND(Amount > 10, TRUE)", False, False),
        ("OR(Amount > 10, FALSE)", False, False),
        ("Amount > 10 || TRUE", True, True),
        ("NOT(Amount > 10)", None, True),
        ("CloseDate + 1", None, None),
        ("MAX(Amount, 3)", None, Decimal(3)),
    ],
)
def test_blank_modes(source, blank, zero):
    assert run(source, {}, blank_mode="blank") == blank
    assert run(source, {}, blank_mode="zero") == zero


def test_blank_text_equals_empty_string_and_validation_does_not_fire_on_blank():
    rule = compile_formula("Amount > 100", FIELDS, expected_type="checkbox")
    assert rule.evaluate({"Amount": None}) is None  # callers test `is True`
    assert run('Name = ""', {"Name": ""}) is True
    assert run('Name <> ""', {"Name": None}) is False
    assert run('""') is None


def test_percent_fields_are_fractions_in_formulas():
    assert run("Rate", {"Rate": 25}) == Decimal("0.25")
    assert run("Amount * Rate", {"Amount": 200, "Rate": Decimal("12.5")}) == Decimal("25.000")
    assert run("Rate > 0.2", {"Rate": 25}) is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("CloseDate + 1", dt.date(2024, 3, 1)),
        ("1 + CloseDate", dt.date(2024, 3, 1)),
        ("CloseDate - 29", dt.date(2024, 1, 31)),
        ("CloseDate + 1.9", dt.date(2024, 3, 1)),
        ("CloseDate - DATE(2024, 1, 1)", Decimal(59)),
        ("Due + 1.5", dt.datetime(2024, 3, 2, 0, 0, tzinfo=UTC)),
        ("Due - 0.25", dt.datetime(2024, 2, 29, 6, 0, tzinfo=UTC)),
        ('Due - DATETIMEVALUE("2024-02-28 12:00:00")', Decimal(1)),
        ('Due - DATETIMEVALUE("2024-02-29 00:00:00")', Decimal("0.5")),
        ("Start + 1000", dt.time(9, 0, 1)),
        ('Start - TIMEVALUE("08:00:00")', Decimal(3600000)),
        ("CloseDate > DATE(2024, 1, 1)", True),
        ("Due < NOW()", True),
    ],
)
def test_date_arithmetic(source, expected):
    record = {
        "CloseDate": dt.date(2024, 2, 29),
        "Due": dt.datetime(2024, 2, 29, 12, tzinfo=UTC),
        "Start": dt.time(9, 0),
    }
    assert run(source, record, now=dt.datetime(2025, 1, 1, tzinfo=UTC)) == expected


def test_input_values_are_converted():
    naive = dt.datetime(2024, 1, 1, 12)
    assert run("Due", {"Due": naive}) == naive.replace(tzinfo=UTC)
    assert run("Due", {"Due": "2024-01-01T12:00:00Z"}) == dt.datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert run("CloseDate", {"CloseDate": "2024-01-31"}) == dt.date(2024, 1, 31)
    assert run("Amount", {"Amount": "12.50"}) == Decimal("12.50")
    assert run("Active", {"Active": None}) is False
    assert run("Active", {"Active": True}) is True


def test_record_keys_are_case_insensitive_and_cross_object_paths_are_flat_keys():
    assert run("amount + 1", {"Amount": 1}) == Decimal(2)
    assert run("Amount + 1", {"AMOUNT": 1}) == Decimal(2)
    record = {"Account.Name": "Acme", "Account.Owner.Email": "o@acme.test"}
    assert run('Account.Name & " <" & Account.Owner.Email & ">"', record) == "Acme <o@acme.test>"


def test_text_comparison_is_case_sensitive():
    assert run('Name = "acme"', {"Name": "Acme"}) is False
    assert run('Name = "Acme"', {"Name": "Acme"}) is True


def test_short_circuit_never_evaluates_unused_branches():
    assert run("IF(FALSE, 1/0, 37)") == Decimal(37)
    assert run("IF(TRUE, 37, 1/0)") == Decimal(37)
    assert run("CASE(1, 1, 2, 1/0)") == Decimal(2)
    assert run("AND(FALSE, 1/0 > 1)") is False
    assert run("OR(TRUE, 1/0 > 1)") is True
    assert run("FALSE && 1/0 > 1") is False
    assert run("TRUE || 1/0 > 1") is True
    assert run("BLANKVALUE(1, 1/0)") == Decimal(1)


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("1 + 10/0", 5, "division by zero"),
        ("IF(TRUE,\n  Amount / 0, 1)", None, "division by zero"),
        ('VALUE("12a")', 1, "is not a number"),
        ("DATE(2023, 2, 30)", 1, "invalid date"),
        ("10 ^ 100000000", 1, "exponent is too large"),
    ],
)
def test_runtime_errors_have_positions(source, column, message):
    with pytest.raises(FormulaRuntimeError) as raised:
        run(source, {"Amount": 5})
    error = raised.value
    assert message in error.message
    if column is not None:
        assert (error.line, error.column) == (1, column)
    else:
        assert (error.line, error.column) == (2, 3)
        assert error.snippet.splitlines()[0] == "  Amount / 0, 1)"
    assert error.to_dict()["type"] == "runtime"


def test_bad_record_values_raise_formula_errors():
    with pytest.raises(FormulaRuntimeError):
        run("Amount + 1", {"Amount": "lots"})
    with pytest.raises(FormulaRuntimeError):
        run("CloseDate + 1", {"CloseDate": 12})
    with pytest.raises(FormulaRuntimeError):
        run("Amount + 1", {"Amount": float("nan")})


def test_globals_and_now():
    now = dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert run("TODAY()", now=now) == dt.date(2025, 1, 1)  # TODAY is the UTC date
    assert (
        run(
            '$User.FirstName & " " & $User.LastName',
            globals={"$User.FirstName": "Ada", "$User.LastName": "Lovelace"},
        )
        == "Ada Lovelace"
    )
    assert run("ISBLANK($User.Email)") is True
    assert isinstance(run("NOW()"), dt.datetime)


def test_compiled_formula_is_reusable_and_stateless():
    formula = compile_formula("Quantity * 2", FIELDS)
    assert [formula.evaluate({"Quantity": n}) for n in range(3)] == [0, 2, 4]
    assert "Quantity * 2" in repr(formula)


# --- specialised evaluation paths agree with the general one ---------------------------

SPECIALISED_RECORDS = [
    {},
    {"Amount": Decimal("999.99"), "Stage": "Closed Won", "CloseDate": dt.date(2024, 1, 1)},
    {"Amount": 1000, "Stage": "Closed Won", "CloseDate": "2024-01-01"},
    {"Amount": 12.5, "Stage": "Prospecting", "Quantity": 0, "Rate": 25, "Active": True},
    {"amount": "5", "stage": "Closed Won", "closedate": "2024-02-02", "Name": ""},
    {"Amount": None, "Stage": None, "CloseDate": None, "Name": "Acme", "Rate": Decimal(150)},
]


@pytest.mark.parametrize(
    "source",
    [
        'AND(ISPICKVAL(Stage, "Closed Won"), Amount < 1000, NOT(ISBLANK(CloseDate)))',
        'AND(ISPICKVAL(Stage, "Closed Won"), Amount >= 1000)',
        "OR(Amount > 100, Active)",
        'OR(ISBLANK(Name), 1000 > Amount, NOT ISPICKVAL(Stage, "Prospecting"))',
        "Amount > 5 && Rate < 1 && !Active",
        "Amount > 5 || Rate >= 1.5 || Active || Quantity = 0",
        "(Amount > 5 && Active) || ISBLANK(CloseDate)",
        "AND(Active)",
        "OR(NULL, Amount < 0)",
        "AND(Amount > 1, Rate > 0.2, Quantity = 0, Active)",
        "NOT(Amount > 5)",
        "NOT(NULL)",
        "NOT(ISBLANK(Amount))",
        '!ISPICKVAL(Stage, "")',
        "Rate > 0.2",
        "2 <= Amount",
    ],
)
@pytest.mark.parametrize("blank_mode", ["blank", "zero"])
def test_specialised_evaluate_matches_the_general_method(source, blank_mode):
    """``evaluate`` may be a function made for the formula (AND/OR roots combined
    inline); the class's general method must give the very same results."""
    from trellis.rule_engine import CompiledFormula

    formula = compile_formula(source, FIELDS, blank_mode=blank_mode)
    for record in SPECIALISED_RECORDS:
        assert formula.evaluate(record) == CompiledFormula.evaluate(formula, record), record
        assert type(formula.evaluate(record)) is type(CompiledFormula.evaluate(formula, record))
    assert formula.evaluate(None) == formula.evaluate({})


@pytest.mark.parametrize(
    "source",
    [
        "AND(Amount / Quantity > 1, TRUE)",
        "OR(FALSE, Amount / Quantity > 1)",
        "AND(TRUE, TRUE, Amount / Quantity > 1)",
        "Amount / Quantity > 1 || FALSE",
    ],
)
def test_errors_in_an_and_or_root_keep_their_position(source):
    with pytest.raises(FormulaRuntimeError) as raised:
        run(source, {"Amount": 5, "Quantity": 0})
    error = raised.value
    assert error.message == "division by zero" and error.source == source
    assert source[error.column - 1 : error.end_column - 1] == "Amount / Quantity"
