"""Type checking: names, argument kinds, picklist rules, expected types, references."""

from __future__ import annotations

import pytest

from trellis.rule_engine import FormulaTypeError, check_formula, compile_formula

FIELDS = {
    "Amount": "currency",
    "StageName": "picklist",
    "Account.Name": "text",
    "Account.Owner.Email": "email",
    "CloseDate": "date",
    "Regions": "multi_picklist",
    "IsActive": "checkbox",
    "Discount": "percent",
    "Quantity": "number",
    "Due": "datetime",
    "Phone": "phone",
    "Website": "url",
    "Ref": "auto_number",
    "Parent": "lookup",
    "Notes": "long_text",
    "Body": "rich_text",
    "Starts": "time",
    "Total": "formula",
}


def check(source: str, **options) -> str:
    return check_formula(source, FIELDS, **options)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Amount", "currency"),
        ("Amount + 1", "currency"),
        ("Amount * 2", "currency"),
        ("Amount + Quantity", "currency"),
        ("Quantity / 2", "number"),
        ("Amount / Quantity", "currency"),
        ("Discount", "percent"),
        ("Discount + Discount", "percent"),
        ("Discount * Amount", "number"),
        ("ROUND(Amount, 2)", "currency"),
        ("ABS(Discount)", "percent"),
        ("MAX(Amount, 1)", "number"),
        ("Account.Name & Phone & Website & Ref & Parent & Notes & Body", "text"),
        ("Account.Owner.Email", "text"),
        ("TEXT(StageName)", "text"),
        ("IsActive", "checkbox"),
        ("CloseDate + 1", "date"),
        ("CloseDate - CloseDate", "number"),
        ("Due - 0.5", "datetime"),
        ("Due - Due", "number"),
        ("Starts + 1000", "time"),
        ("TODAY()", "date"),
        ("NOW()", "datetime"),
        ("IF(IsActive, Amount, NULL)", "currency"),
        ("IF(IsActive, Amount, Quantity)", "number"),
        ('CASE(StageName, "Won", 1, 0)', "number"),
        ("NULL", "text"),
        ('ISPICKVAL(StageName, "Won")', "checkbox"),
        ('INCLUDES(Regions, "EU")', "checkbox"),
        ("ISBLANK(Regions) || ISBLANK(StageName)", "checkbox"),
        ("PRIORVALUE(Amount)", "currency"),
        ("id & owner_id & created_by & updated_by", "text"),
        ("version + 1", "number"),
        ("created_at < updated_at", "checkbox"),
        ("Id & OwnerId & CreatedById & LastModifiedById", "text"),
        ("CreatedDate < LastModifiedDate", "checkbox"),
        ("$User.Id & $User.Email & $Profile.Name", "text"),
        ("$Organization.Name & $User.FirstName & $User.LastName & $Organization.Id", "text"),
        ("amount + QUANTITY", "currency"),
        ("account.owner.EMAIL", "text"),
    ],
)
def test_result_types(source, expected):
    assert check(source) == expected


def test_formula_type_field_uses_given_result_type():
    assert check_formula("Total * 2", {"Total": "currency"}) == "currency"


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("Amout > 1", 1, "unknown field 'Amout'; did you mean 'Amount'?"),
        ("Account.Nme", 1, "did you mean 'Account.Name'?"),
        ("Zzzz", 1, "unknown field 'Zzzz'"),
        ("TODAY", 1, "TODAY is a function"),
        ("IFF(TRUE, 1, 2)", 1, "unknown function IFF; did you mean IF?"),
        ('1 + LENN("a")', 5, "did you mean LEN?"),
        ("$User.Idd", 1, "did you mean '$User.Id'?"),
        ("IF(TRUE, 1)", 1, "incorrect number of arguments for IF: expected 3, received 2"),
        ('LEFT("a")', 1, "expected 2, received 1"),
        ("TODAY(1)", 1, "expected 0, received 1"),
        ("AND()", 1, "expected at least 1"),
        ("IF(1, 2, 3)", 4, "argument 1 must be"),
        ('IF(TRUE, 1, "x")', 13, "must all have the same type"),
        ("LEN(5)", 5, "argument 1 must be text"),
        ('StageName = "Won"', 1, "use ISPICKVAL"),
        ("LEFT(StageName, 1)", 6, "use ISPICKVAL"),
        ('StageName & "x"', 1, "use ISPICKVAL"),
        ("StageName", 1, "picklist value cannot be used as the result"),
        ("IF(TRUE, StageName, StageName)", 10, "picklist"),
        ("Regions", 1, "multi-select picklist can only be used in INCLUDES"),
        ('Regions = "EU"', 1, "multi-select picklist"),
        ('CONTAINS(Regions, "EU")', 10, "multi-select picklist"),
        ('ISPICKVAL(Account.Name, "x")', 11, "ISPICKVAL needs a picklist field"),
        ('INCLUDES(StageName, "x")', 10, "INCLUDES needs a multi-select picklist"),
        ('Amount & "x"', 1, "use TEXT() to convert"),
        ('Amount + "x"', 1, "cannot add Currency and Text"),
        ('Amount = "x"', 1, "cannot compare Currency with Text"),
        ("CloseDate = Due", 1, "cannot compare Date with Date/Time"),
        ("IsActive > FALSE", 1, "cannot be ordered"),
        ("CloseDate + CloseDate", 1, "incorrect types for operator '+'"),
        ('-"x"', 2, "expected Number"),
        ("NOT 1", 5, "expected Checkbox"),
        ("1 && TRUE", 1, "expected Checkbox"),
        ("YEAR(Due)", 6, "use DATEVALUE"),
        ("HOUR(Due)", 6, "use TIMEVALUE"),
        ("ISCHANGED(Amount + 1)", 11, "needs a field"),
        ("CASE(Amount, 1, 2)", 1, "expected at least 4, received 3"),
        ("CASE(Amount, 1, 2, 3, 4)", 1, "CASE needs"),
        ('CASE(Amount, "x", 2, 3)', 14, "CASE value 1 is Text"),
        ("TEXT(IsActive)", 6, "argument 1 must be"),
    ],
)
def test_type_errors(source, column, message):
    with pytest.raises(FormulaTypeError) as raised:
        check(source)
    assert message in raised.value.message
    assert raised.value.line == 1 and raised.value.column == column
    assert raised.value.snippet.splitlines()[0] == source
    assert raised.value.to_dict()["type"] == "type"


@pytest.mark.parametrize(
    ("source", "expected_type", "ok"),
    [
        ("Amount > 1", "checkbox", True),
        ("Amount", "checkbox", False),
        ("Quantity", "currency", True),
        ("Amount", "percent", True),
        ("Amount", "number", True),
        ("CloseDate", "datetime", False),
        ("Due", "date", False),
        ("CloseDate", "date", True),
        ('"x"', "email", True),
        ('"x"', "picklist", True),
        ("1", "text", False),
        ("NULL", "checkbox", True),
        ("TODAY()", "date", True),
    ],
)
def test_expected_type(source, expected_type, ok):
    if ok:
        compile_formula(source, FIELDS, expected_type=expected_type)
    else:
        with pytest.raises(FormulaTypeError, match="the formula must return"):
            compile_formula(source, FIELDS, expected_type=expected_type)


def test_null_result_takes_expected_type():
    assert compile_formula("NULL", FIELDS, expected_type="checkbox").return_type == "checkbox"


def test_references_use_canonical_case_and_trellis_system_names():
    formula = compile_formula(
        "AMOUNT > 1 && account.owner.email <> '' && CreatedDate < NOW() && OwnerId = $User.Id",
        FIELDS,
    )
    assert formula.references == frozenset(
        {"Amount", "Account.Owner.Email", "created_at", "owner_id"}
    )
    assert compile_formula("1 + 2", FIELDS).references == frozenset()


def test_prior_functions_can_be_disallowed():
    with pytest.raises(FormulaTypeError, match="only available where a prior version"):
        compile_formula("ISCHANGED(Amount)", FIELDS, allow_prior=False)
    assert compile_formula("ISCHANGED(Amount)", FIELDS).uses_prior is True


def test_global_types_can_be_extended():
    fields = {"Region": "text"}
    formula = compile_formula(
        "$User.Region = Region && $Setup.Limit > 10",
        fields,
        global_types={"$User.Region": "text", "$Setup.Limit": "number"},
    )
    assert formula.evaluate({"Region": "EU"}, globals={"$User.Region": "EU", "$setup.limit": 11})


def test_unsupported_field_type_is_reported():
    with pytest.raises(FormulaTypeError, match="type 'file'"):
        compile_formula("Attachment", {"Attachment": "file"})


def test_unknown_expected_type_and_blank_mode_are_programming_errors():
    with pytest.raises(ValueError):
        compile_formula("1", {}, expected_type="nonsense")
    with pytest.raises(ValueError):
        compile_formula("1", {}, blank_mode="nothing")
