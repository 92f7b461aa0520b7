"""SQL compilation: PostgreSQL computes exactly what Python evaluation computes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Numeric,
    Text,
    Time,
    bindparam,
    cast,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from trellis.rule_engine import FormulaSqlError, compile_formula

UTC = dt.UTC
NOW = dt.datetime(2024, 5, 17, 22, 30, tzinfo=UTC)
FIELDS = {
    "Name": "text",
    "Amount": "currency",
    "Quantity": "number",
    "Rate": "percent",
    "Stage": "picklist",
    "Regions": "multi_picklist",
    "Active": "checkbox",
    "CloseDate": "date",
    "Due": "datetime",
    "Start": "time",
    "Account.Name": "text",
}
SQL_TYPES = {
    "text": Text,
    "currency": Numeric,
    "number": Numeric,
    "percent": Numeric,
    "picklist": Text,
    "checkbox": Boolean,
    "date": Date,
    "datetime": lambda: DateTime(timezone=True),
    "time": Time,
}
RECORDS = [
    {
        "Name": "Acme Corp",
        "Amount": "1250.50",
        "Quantity": 3,
        "Rate": 25,
        "Stage": "Closed Won",
        "Regions": ["EU", "APAC"],
        "Active": True,
        "CloseDate": "2024-01-31",
        "Due": "2024-02-29T12:00:00+00:00",
        "Account.Name": "Parent",
    },
    {
        "Name": "  beta  ",
        "Amount": "-7.5",
        "Quantity": 0,
        "Rate": 0,
        "Stage": "Prospecting",
        "Regions": [],
        "Active": False,
        "CloseDate": "2023-02-28",
        "Due": "2023-12-31T23:59:59+00:00",
    },
    {"Name": "", "Stage": ""},
    {},
]


def _python_record(document: dict) -> dict:
    record = dict(document)
    for key in ("Amount",):
        if key in record:
            record[key] = Decimal(record[key])
    if "CloseDate" in record:
        record["CloseDate"] = dt.date.fromisoformat(record["CloseDate"])
    if "Due" in record:
        record["Due"] = dt.datetime.fromisoformat(record["Due"])
    return record


def _run_sql(engine, formula, document: dict):
    source = select(
        cast(bindparam("document", json.dumps(document)), JSONB).label("data")
    ).subquery("r")

    def resolve(path: str):
        field_type = FIELDS[path]
        if field_type == "multi_picklist":
            return source.c.data[path]
        return cast(source.c.data[path].astext, SQL_TYPES[field_type]())

    expression = formula.to_sql(resolve, now=NOW, globals={"$User.Id": "u-1"})
    with engine.connect() as connection:
        # A session time zone far from UTC proves the SQL does not depend on it.
        connection.execute(text("SET LOCAL TIME ZONE 'Pacific/Auckland'"))
        return connection.execute(
            select(expression.label("value")).select_from(source)
        ).scalar_one()


def _same(python_value, sql_value) -> bool:
    if isinstance(python_value, Decimal) and isinstance(sql_value, Decimal):
        return round(python_value, 10) == round(sql_value, 10)
    if isinstance(python_value, dt.datetime) and isinstance(sql_value, dt.datetime):
        return abs(python_value - sql_value) < dt.timedelta(milliseconds=1)
    return (
        python_value == sql_value
        and type(python_value) is type(sql_value)
        or (isinstance(python_value, Decimal) and sql_value == python_value)
    )


FORMULAS = [
    # operators and precedence
    "Amount + Quantity * 2",
    "Amount - 1 - 2",
    "Amount / 4",
    "2 ^ 3 ^ 2 + Quantity",
    "-Amount",
    "Amount * Rate",
    "Rate",
    "Amount > 100",
    "Amount >= Quantity",
    'Name < "b"',
    "Amount = 1250.5",
    "Amount <> 1250.5",
    'Name = ""',
    'Name <> "Acme Corp"',
    "Active && Amount > 0",
    "Active || Quantity > 1",
    "!Active",
    "NOT(Amount > 0)",
    'Name & "-" & Account.Name',
    'Name + "!"',
    "Amount = NULL",
    "Active = TRUE",
    # logical
    "AND(Active, Amount > 1, NOT(ISBLANK(CloseDate)))",
    'OR(Amount > 1, ISPICKVAL(Stage, ""))',
    'IF(Amount > 1000, "big", IF(Amount > 0, "small", "none"))',
    'CASE(Stage, "Closed Won", 1, "Prospecting", 2, 0)',
    'CASE(Quantity, 3, "three", 0, "zero", "?")',
    "ISBLANK(Name)",
    "ISBLANK(Amount)",
    "ISBLANK(Regions)",
    "ISBLANK(Stage)",
    "ISNULL(Amount)",
    "ISNULL(Name)",
    'BLANKVALUE(Name, "none")',
    "BLANKVALUE(Amount, 0) + 1",
    "NULLVALUE(Quantity, -1)",
    'ISPICKVAL(Stage, "Closed Won")',
    'INCLUDES(Regions, "EU")',
    'INCLUDES(Regions, "US")',
    # text
    'BEGINS(Name, "Ac")',
    'CONTAINS(Name, "et")',
    'CONTAINS(Name, "")',
    "LEFT(Name, 4)",
    "RIGHT(Name, 3)",
    "LEFT(Name, -1)",
    "MID(Name, 2, 3)",
    "MID(Name, 0, 2)",
    "LEN(Name)",
    "LOWER(Name)",
    "UPPER(Name)",
    "TRIM(Name)",
    'SUBSTITUTE(Name, "c", "k")',
    'SUBSTITUTE(Name, "", "k")',
    "TEXT(Amount)",
    "TEXT(Quantity * 1.50)",
    "TEXT(CloseDate)",
    "TEXT(Due)",
    "TEXT(Stage)",
    "TEXT(Rate)",
    # math
    "ABS(Amount)",
    "ROUND(Amount, 0)",
    "ROUND(Amount / 3, 2)",
    "ROUND(Amount, -2)",
    "FLOOR(Amount)",
    "CEILING(Amount)",
    "MCEILING(Amount)",
    "MFLOOR(Amount)",
    "TRUNC(Amount)",
    "TRUNC(Amount, 1)",
    "MOD(Amount, 7)",
    "MAX(Amount, Quantity, 5)",
    "MIN(Amount, Quantity)",
    # dates
    "TODAY()",
    "NOW()",
    "TODAY() - CloseDate",
    "CloseDate + 30",
    "CloseDate - 1.5",
    "1 + CloseDate",
    "Due + 1.5",
    "Due - 0.25",
    "NOW() - Due",
    "YEAR(CloseDate)",
    "MONTH(CloseDate)",
    "DAY(CloseDate)",
    "WEEKDAY(CloseDate)",
    "DAYOFYEAR(CloseDate)",
    "DATE(2024, 2, 29)",
    "ADDMONTHS(CloseDate, 1)",
    "ADDMONTHS(CloseDate, 13)",
    "ADDMONTHS(CloseDate, -1)",
    "DATEVALUE(Due)",
    "CloseDate < DATE(2024, 1, 1)",
    "Due > NOW()",
    '$User.Id = "u-1"',
]


@pytest.mark.parametrize("source", FORMULAS)
@pytest.mark.parametrize("blank_mode", ["blank", "zero"])
def test_sql_matches_python(formula_sql_engine, source, blank_mode):
    formula = compile_formula(source, FIELDS, blank_mode=blank_mode)
    for document in RECORDS:
        expected = formula.evaluate(_python_record(document), now=NOW, globals={"$User.Id": "u-1"})
        actual = _run_sql(formula_sql_engine, formula, document)
        assert _same(expected, actual), (source, document, expected, actual)


@pytest.mark.parametrize(
    "source",
    [
        "ISCHANGED(Amount)",
        "PRIORVALUE(Amount) > 1",
        "ISNEW()",
        'REGEX(Name, "a.*")',
        "INITCAP(Name)",
        "HOUR(Start)",
        "Start + 1",
        "ADDMONTHS(Due, 1)",
        "VALUE(Name) > 1",
    ],
)
def test_untranslatable_formulas_raise_sql_errors(source):
    formula = compile_formula(source, FIELDS)
    with pytest.raises(FormulaSqlError) as raised:
        formula.to_sql(lambda path: None)
    assert raised.value.line == 1 and raised.value.column >= 1
    assert raised.value.snippet.startswith(source)


def test_literals_are_bound_parameters(formula_sql_engine):
    formula = compile_formula('Name = "x\'; DROP TABLE records; --"', FIELDS)
    expression = formula.to_sql(lambda path: cast(text("'a'"), Text))
    compiled = str(expression.compile())
    assert "DROP TABLE" not in compiled
    assert _run_sql(formula_sql_engine, formula, {"Name": "x'; DROP TABLE records; --"}) is True


def test_long_chain_compiles_to_sql(formula_sql_engine):
    formula = compile_formula(" + ".join(["Quantity"] * 120), FIELDS)
    assert _run_sql(formula_sql_engine, formula, {"Quantity": 2}) == 240


# --- conditions (where= filters): TRUE exactly where Python says TRUE ---------------------

CONDITIONS = [
    source for source in FORMULAS if compile_formula(source, FIELDS).return_type == "checkbox"
] + [
    'ISPICKVAL(Stage, "Prospecting")',
    'Name = "Acme Corp"',
    '"Acme Corp" = Name',
    "Amount = 1250.5",
    "-7.5 = Amount",
    "Quantity = 0",
    "Quantity = 3",
    "Active = FALSE",
    "Rate = 0.25",
    "CloseDate = DATE(2024, 1, 31)",
    'Name = ""',
    'Account.Name = "Parent"',
    'Name = "  beta  "',
    'AND(ISPICKVAL(Stage, "Closed Won"), Amount >= 1000)',
    'OR(Name = "  beta  ", Amount < 0)',
    'NOT(AND(Amount > 0, Name = "Acme Corp"))',
    'Amount > 0 && Name = "Acme Corp" || Quantity = 0',
    'IF(Name = "Acme Corp", TRUE, FALSE)',
    "Active",
    "Amount < 0",
    'CASE(Name, "Acme Corp", TRUE, FALSE)',
    "NULL",
    "AND(Active)",
    "(Amount > 0 || Quantity > 0) && (Active || Amount < 0)",
    "NOT(OR(Active, Amount = 1250.5))",
]


def _run_condition(engine, formula, document: dict) -> bool:
    source = select(
        cast(bindparam("document", json.dumps(document)), JSONB).label("data")
    ).subquery("r")

    def resolve(path: str):
        field_type = FIELDS[path]
        if field_type == "multi_picklist":
            return source.c.data[path]
        return cast(source.c.data[path].astext, SQL_TYPES[field_type]())

    condition = formula.to_sql_condition(resolve, now=NOW, globals={"$User.Id": "u-1"})
    with engine.connect() as connection:
        return connection.execute(select(source.c.data).where(condition)).first() is not None


@pytest.mark.parametrize("source", CONDITIONS)
@pytest.mark.parametrize("blank_mode", ["blank", "zero"])
def test_sql_condition_selects_what_python_accepts(formula_sql_engine, source, blank_mode):
    formula = compile_formula(source, FIELDS, blank_mode=blank_mode)
    for document in RECORDS:
        expected = (
            formula.evaluate(_python_record(document), now=NOW, globals={"$User.Id": "u-1"}) is True
        )
        assert _run_condition(formula_sql_engine, formula, document) is expected, (source, document)
        value = _run_sql(formula_sql_engine, formula, document)  # the value stays exact
        assert value is (
            None
            if formula.evaluate(_python_record(document), now=NOW, globals={"$User.Id": "u-1"})
            is None
            else expected
        ), (source, document, value)


def _stored(path: str):
    """What the records layer resolves a field to: the indexed expression."""
    sql_type = {
        "text": "",
        "picklist": "",
        "currency": "::numeric",
        "percent": "::numeric",
        "number": "::numeric",
        "date": "::date",
    }[FIELDS[path]]
    expression = f"(data->>'{path}')" if not sql_type else f"((data->>'{path}'){sql_type})"
    return literal_column(expression, SQL_TYPES[FIELDS[path]]())


def _render(expression) -> str:
    return str(
        expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def test_a_where_condition_compares_the_indexed_expressions_directly():
    """No COALESCE/NULLIF around the fields: PostgreSQL can match the expression indexes."""
    formula = compile_formula(
        'AND(ISPICKVAL(Stage, "Negotiation"), Amount >= 5000, Name = "Acme", 10 > Quantity)', FIELDS
    )
    assert _render(formula.to_sql_condition(_stored)) == (
        "(data->>'Stage') = 'Negotiation' AND ((data->>'Amount')::numeric) >= 5000 "
        "AND (data->>'Name') = 'Acme' AND 10 > ((data->>'Quantity')::numeric)"
    )
    # As a value the junction keeps one COALESCE: FALSE, never NULL.
    assert _render(formula.to_sql(_stored)).startswith("coalesce((data->>'Stage') = 'Negotiation'")
    # Where the plain comparison would differ, the blank rules stay.
    zero = compile_formula("Quantity = 0", FIELDS, blank_mode="zero")
    assert "coalesce" in _render(zero.to_sql_condition(_stored))
    assert "IS DISTINCT FROM" in _render(
        compile_formula("Amount <> 5", FIELDS).to_sql_condition(_stored)
    )


def test_without_a_fixed_now_the_clock_is_postgresqls(formula_sql_engine):
    """Statements are built once per metadata revision: TODAY() and NOW() must not be
    frozen into them as the moment they were built."""
    today = compile_formula("TODAY()", FIELDS).to_sql(_stored)
    now = compile_formula("NOW()", FIELDS).to_sql(_stored)
    assert "now()" in _render(today) and "now()" in _render(now)
    with formula_sql_engine.connect() as connection:
        expected = connection.execute(text("SELECT (now() AT TIME ZONE 'UTC')::date, now()")).one()
        assert connection.execute(select(today, now)).one() == tuple(expected)
    fixed = compile_formula("TODAY()", FIELDS).to_sql(_stored, now=NOW)
    assert _render(fixed) == "'2024-05-17'"


def test_only_checkbox_formulas_are_conditions():
    with pytest.raises(ValueError, match="checkbox"):
        compile_formula("Amount + 1", FIELDS).to_sql_condition(_stored)


@pytest.mark.parametrize(
    ("source", "name", "sql_type", "values"),
    [
        ('IF($User.Id = Name, "me", "not me")', "$User.Id", Text, ["Acme Corp", "x", "", None]),
        ("$User.Active", "$User.Active", Boolean, [True, False, None]),
        ("$User.Quota * 2", "$User.Quota", Numeric, [Decimal("2.5"), None]),
    ],
)
def test_globals_with_no_value_are_the_resolvers(
    formula_sql_engine, source, name, sql_type, values
):
    """A global ``globals`` gives no value for is asked of ``resolve``, so that a statement
    built once can read it from a parameter; it then equals Python evaluation given the
    parameter's value, blank included."""
    types = {"$User.Active": "checkbox", "$User.Quota": "number"}
    formula = compile_formula(source, FIELDS, global_types=types)
    assert formula.global_references == {name}

    def resolve(path: str):
        if path == name:
            return bindparam("who", type_=sql_type())
        return cast(literal_column("'Acme Corp'"), Text)

    expression = formula.to_sql(resolve)
    for value in values:
        expected = formula.evaluate({"Name": "Acme Corp"}, globals={name: value})
        with formula_sql_engine.connect() as connection:
            got = connection.execute(select(expression), {"who": value}).scalar_one()
        assert expected == got, (source, value, expected, got)


def test_a_global_the_resolver_cannot_give_is_a_sql_error():
    formula = compile_formula("$User.Email = Name", FIELDS)
    with pytest.raises(FormulaSqlError, match=r"global '\$User\.Email' is not available in SQL"):
        formula.to_sql(_stored)
    assert "u-1" in _render(formula.to_sql(_stored, globals={"$User.Email": "u-1"}))
