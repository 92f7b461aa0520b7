"""The built-in field types: normalisation, messages, schemas, formulas and SQL checks.

Every table row is a documented behaviour; the SQL predicates run on the real
PostgreSQL of the test run, and are checked to agree with Python normalisation.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import jsonschema
import marshmallow
import pytest
import sqlalchemy as sa

from trellis.metadata.field_types import FieldTypeRegistry, FieldValueError
from trellis.plugins.field_types import format_auto_number, picklist_values, register_field_types

BUILT_IN = {
    "text",
    "long_text",
    "rich_text",
    "email",
    "phone",
    "url",
    "number",
    "currency",
    "percent",
    "checkbox",
    "date",
    "datetime",
    "time",
    "picklist",
    "multi_picklist",
    "lookup",
    "auto_number",
    "formula",
    "rollup",
}

PICK = {
    "values": [
        "Open",
        "Won",
        {"value": "Lost", "label": "Closed Lost"},
        {"value": "Legacy", "active": False},
    ]
}
COLORS = {"values": ["Red", "Green", "Blue", {"value": "Mauve", "active": False}]}
LOOKUP = {"target": "Account"}
AUTO = {"format": "OPP-{0000}"}
UUID_TEXT = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.fixture(scope="module")
def registry() -> FieldTypeRegistry:
    built = FieldTypeRegistry()
    register_field_types(built)
    return built


def normalize(
    registry: FieldTypeRegistry, type_name: str, value: Any, field: dict[str, Any] | None = None
) -> Any:
    return registry.get(type_name).normalize(value, {"type": type_name, **(field or {})})


def test_the_hook_registers_exactly_the_built_in_types(registry: FieldTypeRegistry) -> None:
    assert set(registry.names()) == BUILT_IN
    for field_type in registry.all():
        jsonschema.Draft202012Validator.check_schema(
            {"type": "object", "properties": field_type.properties}
        )
        assert set(field_type.required_properties) <= set(field_type.properties)


@pytest.mark.parametrize(
    ("type_name", "field", "value", "stored"),
    [
        ("text", {}, "  Acme Corp \n", "Acme Corp"),
        ("text", {}, "   ", None),
        ("text", {}, "", None),
        ("text", {"max_length": 3}, " abc ", "abc"),
        ("long_text", {}, "\n line one\r\nline two  \n", "line one\nline two"),
        (
            "rich_text",
            {},
            "<p>Hi <b>there</b></p><script>alert(1)</script>",
            "<p>Hi <b>there</b></p>",
        ),
        (
            "rich_text",
            {},
            '<a href="javascript:alert(1)" onclick="x()">link</a>',
            '<a rel="noopener noreferrer">link</a>',
        ),
        ("rich_text", {}, "<script>only</script>", None),
        ("email", {}, "  Ann.O'Neil+crm@Example.co.uk ", "Ann.O'Neil+crm@Example.co.uk"),
        ("phone", {}, "+1 (555) 010-0199 x123", "+1 (555) 010-0199 x123"),
        ("phone", {}, "020 7946 0018 ext. 12", "020 7946 0018 ext. 12"),
        ("phone", {}, "555.0100", "555.0100"),
        ("url", {}, "https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
        ("url", {}, "HTTP://localhost:8080", "HTTP://localhost:8080"),
        ("url", {}, "http://[::1]/", "http://[::1]/"),
        ("number", {}, "12.345", 12.35),
        ("number", {}, "12.344", 12.34),
        ("number", {}, 2.675, 2.68),  # the float 2.675 is 2.67499999…; repr rounds as typed
        ("number", {}, "-2.675", -2.68),  # half away from zero, not half even
        ("number", {}, Decimal("0.125"), 0.13),
        ("number", {}, "1e3", 1000),
        ("number", {}, " -3 ", -3),
        ("number", {}, 7, 7),
        ("number", {}, "12.50", 12.5),
        ("number", {}, "-0.001", 0),
        ("number", {}, "", None),
        ("number", {"precision": 15, "scale": 0}, "2.5", 3),
        ("number", {"precision": 15, "scale": 0}, "-2.5", -3),
        ("number", {"precision": 5, "scale": 2}, "999.994", 999.99),
        ("number", {"precision": 15, "scale": 2}, "9999999999999.99", 9999999999999.99),
        ("number", {"precision": 3, "scale": 3}, "0.9994", 0.999),
        ("currency", {}, "1234.5", 1234.5),
        ("currency", {}, 19.999, 20),
        ("percent", {}, "25", 25),
        ("percent", {}, 12.345, 12.35),
        ("checkbox", {}, True, True),
        ("checkbox", {}, False, False),
        ("checkbox", {}, None, False),
        ("checkbox", {}, "TRUE", True),
        ("checkbox", {}, "0", False),
        ("checkbox", {}, "", False),
        ("date", {}, "2026-01-31", "2026-01-31"),
        ("date", {}, " 2024-02-29 ", "2024-02-29"),
        ("date", {}, dt.date(2026, 3, 1), "2026-03-01"),
        ("date", {}, "", None),
        ("datetime", {}, "2026-01-31T09:00:00Z", "2026-01-31T09:00:00Z"),
        ("datetime", {}, "2026-01-31T09:00+05:30", "2026-01-31T03:30:00Z"),
        ("datetime", {}, "2026-01-31 23:30:00.25-0200", "2026-02-01T01:30:00.250000Z"),
        ("datetime", {}, "2026-01-31t09:00:00z", "2026-01-31T09:00:00Z"),
        (
            "datetime",
            {},
            dt.datetime(2026, 1, 31, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "2026-01-31T14:00:00Z",
        ),
        ("time", {}, "09:30", "09:30:00"),
        ("time", {}, "23:59:59.5", "23:59:59.500000"),
        ("time", {}, dt.time(7, 5), "07:05:00"),
        ("picklist", PICK, "Won", "Won"),
        ("picklist", PICK, " won ", "Won"),
        ("picklist", PICK, "Lost", "Lost"),
        ("picklist", PICK, "", None),
        ("multi_picklist", COLORS, ["Blue", "Red", "blue"], ["Red", "Blue"]),
        ("multi_picklist", COLORS, "Green; Red;;", ["Red", "Green"]),
        ("multi_picklist", COLORS, [], None),
        ("multi_picklist", COLORS, "", None),
        ("lookup", LOOKUP, UUID_TEXT.upper(), UUID_TEXT),
        ("lookup", LOOKUP, f" {UUID_TEXT} ", UUID_TEXT),
        ("auto_number", AUTO, None, None),
    ],
)
def test_good_values_normalise_to_the_stored_form(
    registry: FieldTypeRegistry, type_name: str, field: dict[str, Any], value: Any, stored: Any
) -> None:
    result = normalize(registry, type_name, value, field)
    assert result == stored
    assert type(result) is type(stored)
    # Stored values are plain JSON and normalising them again changes nothing.
    assert json.loads(json.dumps(result)) == result
    assert normalize(registry, type_name, result, field) == stored


@pytest.mark.parametrize(
    ("type_name", "field", "value", "message"),
    [
        ("text", {}, "x" * 256, "At most 255 characters."),
        ("text", {"max_length": 3}, "abcd", "At most 3 characters."),
        ("text", {}, 42, "Enter text, not a number."),
        ("text", {}, "a\x00b", "Text cannot contain the NUL character."),
        ("long_text", {}, "x" * 32769, "At most 32768 characters."),
        ("rich_text", {"max_length": 10}, "<b>0123456789</b>", "At most 10 characters."),
        ("email", {}, "ann@localhost", "Enter a valid email address, e.g. name@example.com."),
        ("email", {}, "ann..o@example.com", "Enter a valid email address, e.g. name@example.com."),
        ("email", {}, "ann o@example.com", "Enter a valid email address, e.g. name@example.com."),
        (
            "email",
            {},
            "a" * 65 + "@example.com",
            "Enter a valid email address, e.g. name@example.com.",
        ),
        ("email", {}, "a@" + "b" * 250 + ".com", "At most 254 characters."),
        (
            "phone",
            {},
            "call me",
            "Enter a phone number: digits, spaces and + - ( ) . "
            "with an optional extension such as x123.",
        ),
        (
            "phone",
            {},
            "12 x345",
            "Enter a phone number: digits, spaces and + - ( ) . "
            "with an optional extension such as x123.",
        ),
        ("phone", {}, "1" * 41, "At most 40 characters."),
        (
            "url",
            {},
            "javascript:alert(1)",
            "Enter a web address starting with http:// or https://, e.g. https://example.com.",
        ),
        (
            "url",
            {},
            "ftp://example.com",
            "Enter a web address starting with http:// or https://, e.g. https://example.com.",
        ),
        (
            "url",
            {},
            "https:///path",
            "Enter a web address starting with http:// or https://, e.g. https://example.com.",
        ),
        (
            "url",
            {},
            "https://example.com:70000",
            "Enter a web address starting with http:// or https://, e.g. https://example.com.",
        ),
        ("number", {}, True, "Enter a number, not true/false."),
        ("number", {}, float("nan"), "Enter a finite number."),
        ("number", {}, float("inf"), "Enter a finite number."),
        ("number", {}, Decimal("Infinity"), "Enter a finite number."),
        ("number", {}, "NaN", "Enter a number, such as 12.5 or -3 (got 'NaN')."),
        ("number", {}, "1,000", "Enter a number, such as 12.5 or -3 (got '1,000')."),
        ("number", {}, "twelve", "Enter a number, such as 12.5 or -3 (got 'twelve')."),
        ("number", {}, [1], "Enter a number, not a list."),
        ("number", {}, "1e400", "At most 13 digits before the decimal point."),
        ("number", {}, 10**13, "At most 13 digits before the decimal point."),
        ("number", {}, "9999999999999.995", "At most 13 digits before the decimal point."),
        (
            "number",
            {"precision": 5, "scale": 2},
            "999.995",
            "At most 3 digits before the decimal point.",
        ),
        ("number", {"precision": 2, "scale": 2}, "1", "Must be between -1 and 1."),
        (
            "currency",
            {"precision": 4, "scale": 0},
            -10000,
            "At most 4 digits before the decimal point.",
        ),
        ("checkbox", {}, "yes", "Enter true or false."),
        ("checkbox", {}, 1, "Enter true or false, not a number."),
        ("date", {}, "31/01/2026", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."),
        ("date", {}, "20260131", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."),
        ("date", {}, "2026-02-30", "2026-02-30 is not a real date."),
        ("date", {}, "2026-01-31T09:00:00Z", "Enter a date without a time, as YYYY-MM-DD."),
        ("date", {}, dt.datetime(2026, 1, 31, 9), "Enter a date without a time, as YYYY-MM-DD."),
        ("date", {}, 20260131, "Enter a date, not a number."),
        ("datetime", {}, "2026-01-31T09:00:00", "Include a time zone, e.g. 2026-01-31T09:00:00Z"),
        (
            "datetime",
            {},
            dt.datetime(2026, 1, 31, 9),
            "Include a time zone, e.g. 2026-01-31T09:00:00Z",
        ),
        (
            "datetime",
            {},
            "2026-01-31",
            "Enter a date and time in ISO 8601, e.g. 2026-01-31T09:00:00Z.",
        ),
        (
            "datetime",
            {},
            "tomorrow",
            "Enter a date and time in ISO 8601, e.g. 2026-01-31T09:00:00Z.",
        ),
        (
            "datetime",
            {},
            "2026-02-30T09:00:00Z",
            "2026-02-30T09:00:00Z is not a real date and time.",
        ),
        ("time", {}, "24:00", "Enter a time as HH:MM or HH:MM:SS, e.g. 09:30."),
        ("time", {}, "9:30", "Enter a time as HH:MM or HH:MM:SS, e.g. 09:30."),
        ("time", {}, "09:30:00Z", "Enter a time as HH:MM or HH:MM:SS, e.g. 09:30."),
        ("time", {}, dt.time(9, tzinfo=dt.UTC), "Enter a time of day without a time zone."),
        ("datetime", {}, "0001-01-01T00:00:00+05:00", "That date and time is out of range."),
        ("picklist", PICK, "Pending", "'Pending' is not allowed. Choose one of: Open, Won, Lost."),
        (
            "picklist",
            PICK,
            "Legacy",
            "'Legacy' is no longer in use. Choose one of: Open, Won, Lost.",
        ),
        ("picklist", PICK, 3, "Choose one of: Open, Won, Lost. (Got a number.)"),
        (
            "multi_picklist",
            COLORS,
            ["Red", "Pink"],
            "'Pink' is not allowed. Choose one of: Red, Green, Blue.",
        ),
        (
            "multi_picklist",
            COLORS,
            "Red;Mauve",
            "'Mauve' is no longer in use. Choose one of: Red, Green, Blue.",
        ),
        (
            "multi_picklist",
            COLORS,
            {"Red": True},
            "Enter a list of values, not an object. Choose one of: Red, Green, Blue.",
        ),
        ("lookup", LOOKUP, "not-an-id", "Not a record id."),
        ("lookup", LOOKUP, UUID_TEXT.replace("-", ""), "Not a record id."),
        ("lookup", LOOKUP, "{" + UUID_TEXT + "}", "Not a record id."),
        ("lookup", LOOKUP, 12, "Not a record id."),
        ("auto_number", AUTO, "OPP-0001", "Set by Trellis; leave it out."),
        ("auto_number", AUTO, "", "Set by Trellis; leave it out."),
    ],
)
def test_bad_values_get_a_clear_message(
    registry: FieldTypeRegistry, type_name: str, field: dict[str, Any], value: Any, message: str
) -> None:
    with pytest.raises(FieldValueError) as raised:
        normalize(registry, type_name, value, field)
    assert str(raised.value) == message


def test_blank_is_none_for_every_type_but_checkbox(registry: FieldTypeRegistry) -> None:
    fields = {"picklist": PICK, "multi_picklist": COLORS, "lookup": LOOKUP, "auto_number": AUTO}
    for field_type in registry.all():
        expected = False if field_type.name == "checkbox" else None
        assert normalize(registry, field_type.name, None, fields.get(field_type.name)) is expected


def test_numbers_round_trip_exactly_at_full_precision(registry: FieldTypeRegistry) -> None:
    field = {"precision": 15, "scale": 6}
    for text in ("123456789.123456", "-999999999.999999", "0.000001", "314159265.358979"):
        stored = normalize(registry, "number", text, field)
        assert registry.get("number").to_formula_value(
            json.loads(json.dumps(stored)), field
        ) == Decimal(text)


def test_marshmallow_fields_give_readable_messages(registry: FieldTypeRegistry) -> None:
    schema = marshmallow.Schema.from_dict(
        {
            "Amount": registry.get("currency").marshmallow_field({"type": "currency"}),
            "Stage": registry.get("picklist").marshmallow_field({"type": "picklist", **PICK}),
            "Active": registry.get("checkbox").marshmallow_field({"type": "checkbox"}),
            "Closes": registry.get("date").marshmallow_field({"type": "date"}),
        }
    )()
    assert schema.load({"Amount": "10.005", "Stage": "won", "Active": None, "Closes": None}) == {
        "Amount": 10.01,
        "Stage": "Won",
        "Active": False,
        "Closes": None,
    }
    with pytest.raises(marshmallow.ValidationError) as raised:
        schema.load({"Amount": "lots", "Stage": "Legacy", "Active": "maybe", "Closes": "soon"})
    assert raised.value.messages == {
        "Amount": ["Enter a number, such as 12.5 or -3 (got 'lots')."],
        "Stage": ["'Legacy' is no longer in use. Choose one of: Open, Won, Lost."],
        "Active": ["Enter true or false."],
        "Closes": ["Enter a date as YYYY-MM-DD, e.g. 2026-01-31."],
    }


@pytest.mark.parametrize(
    ("type_name", "field", "good", "bad"),
    [
        ("text", {"max_length": 5}, ["abc", None], ["", "abcdef", 3, True]),
        ("long_text", {}, ["a\nb"], [1, ["a"]]),
        ("email", {}, ["ann@example.com"], ["nope", 3]),
        ("url", {}, ["https://example.com"], [5, "x" * 2049]),
        ("number", {}, [12.35, -3, 0, None], ["12", True, 1e13]),
        ("number", {"precision": 4, "scale": 0}, [9999, -9999], [1.5, 10000, "1"]),
        ("currency", {"precision": 5, "scale": 2}, [999.99], [1000, "1"]),
        ("percent", {}, [25, 12.5], [True, "25%"]),
        ("checkbox", {}, [True, False], [None, "true", 1]),
        ("date", {}, ["2026-01-31", None], ["2026-02-30", "tomorrow", 20260131]),
        (
            "datetime",
            {},
            ["2026-01-31T09:00:00Z", "2026-01-31T09:00:00.250000Z"],
            ["2026-01-31", "noon", 5],
        ),
        ("time", {}, ["09:30:00", "23:59:59.500000"], ["9:30", "09:30", "25:00:00", 930]),
        ("picklist", PICK, ["Open", "Legacy", None], ["Pending", "open", ["Open"]]),
        (
            "multi_picklist",
            COLORS,
            [["Red", "Blue"], ["Mauve"], None],
            [[], ["Red", "Red"], ["Pink"], "Red;Blue"],
        ),
        ("lookup", LOOKUP, [UUID_TEXT, None], ["nope", 5]),
        ("auto_number", AUTO, ["OPP-0001", None], [1]),
    ],
)
def test_json_schema_describes_the_stored_value(
    registry: FieldTypeRegistry,
    type_name: str,
    field: dict[str, Any],
    good: list[Any],
    bad: list[Any],
) -> None:
    definition = {"type": type_name, **field}
    schema = registry.get(type_name).json_schema(definition)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for value in good:
        assert validator.is_valid(value), value
    for value in bad:
        assert not validator.is_valid(value), value


def test_json_schema_details(registry: FieldTypeRegistry) -> None:
    assert registry.get("auto_number").json_schema(AUTO)["readOnly"] is True
    assert registry.get("lookup").json_schema(LOOKUP)["format"] == "uuid"
    assert registry.get("email").json_schema({})["format"] == "email"
    assert registry.get("url").json_schema({})["format"] == "uri"
    assert registry.get("picklist").json_schema(PICK)["enum"] == [
        "Open",
        "Won",
        "Lost",
        "Legacy",
        None,
    ]
    assert registry.get("rich_text").json_schema({})["maxLength"] == 131072


@pytest.mark.parametrize(
    ("type_name", "field", "messages"),
    [
        ("text", {"max_length": 10, "default": "Hello"}, []),
        ("text", {"max_length": 3, "default": "Hello"}, ["default: At most 3 characters."]),
        ("number", {"precision": 5, "scale": 2}, []),
        ("number", {"precision": 5, "scale": 6}, ["scale (6) cannot be more than precision (5)."]),
        (
            "currency",
            {"scale": 2, "default": "abc"},
            ["default: Enter a number, such as 12.5 or -3 (got 'abc')."],
        ),
        ("checkbox", {"default": True}, []),
        ("checkbox", {"default": "perhaps"}, ["default: Enter true or false."]),
        ("date", {"default": "2026-02-30"}, ["default: 2026-02-30 is not a real date."]),
        ("picklist", {**PICK, "default": "Open"}, []),
        (
            "picklist",
            {**PICK, "default": "Legacy"},
            ["default: 'Legacy' is no longer in use. Choose one of: Open, Won, Lost."],
        ),
        ("picklist", {"values": ["Open", "open"]}, ["values: 'open' is listed more than once."]),
        ("picklist", {"values": []}, ["values: list at least one value."]),
        (
            "picklist",
            {"values": [" Open"]},
            ["values: ' Open' must be non-blank with no spaces around it."],
        ),
        (
            "picklist",
            {"values": [{"value": "A", "active": False}]},
            ["values: at least one value must be active."],
        ),
        (
            "picklist",
            {"values": ["A", 3]},
            ["values: each value must be text or an object with a text value."],
        ),
        ("picklist", {"values": ["A;B"]}, []),
        ("multi_picklist", {"values": ["A;B"]}, ["values: 'A;B' cannot contain ';'."]),
        ("multi_picklist", {**COLORS, "default": "Red;Blue"}, []),
        ("lookup", {"target": "Account", "required": True, "on_delete": "restrict"}, []),
        (
            "lookup",
            {"target": "Account", "required": True},
            [
                "on_delete: a required lookup cannot be set to blank when its target is deleted; "
                "use restrict or cascade."
            ],
        ),
        ("lookup", {"target": "Account", "default": "x"}, ["default: Not a record id."]),
        ("auto_number", {"format": "OPP-{0000}", "start": 100}, []),
        (
            "auto_number",
            {"format": "OPP"},
            ["format: use exactly one number placeholder of zeros in braces, e.g. OPP-{0000}."],
        ),
        (
            "auto_number",
            {"format": "{00}-{00}"},
            ["format: use exactly one number placeholder of zeros in braces, e.g. OPP-{0000}."],
        ),
        (
            "auto_number",
            {"format": "A{0}-{x}"},
            ["format: braces may only surround the number placeholder, e.g. OPP-{0000}."],
        ),
        (
            "auto_number",
            {"format": "A-{00000000000}"},
            ["format: the placeholder may pad to at most 10 digits."],
        ),
        (
            "auto_number",
            {"format": "OPP-{0000}", "default": "OPP-0001"},
            ["auto_number fields cannot have a default."],
        ),
    ],
)
def test_validate_definition(
    registry: FieldTypeRegistry, type_name: str, field: dict[str, Any], messages: list[str]
) -> None:
    assert registry.get(type_name).validate_definition({"type": type_name, **field}) == messages


@pytest.mark.parametrize(
    ("type_name", "definition", "valid"),
    [
        ("text", {"max_length": 131072}, True),
        ("text", {"max_length": 131073}, False),
        ("text", {"max_length": 0}, False),
        ("number", {"precision": 15, "scale": 15}, True),
        ("number", {"precision": 16}, False),
        ("picklist", {"values": ["A", {"value": "B", "label": "Bee", "active": False}]}, True),
        ("picklist", {}, False),
        ("picklist", {"values": [{"label": "no value"}]}, False),
        (
            "lookup",
            {"target": "Account", "on_delete": "cascade", "relationship_name": "Contacts"},
            True,
        ),
        ("lookup", {"target": "1Account"}, False),
        ("lookup", {"target": "Account", "on_delete": "ignore"}, False),
        ("auto_number", {"format": "OPP-{0000}", "start": 0}, True),
        ("auto_number", {"format": "OPP-{0000}", "start": -1}, False),
    ],
)
def test_properties_schemas(
    registry: FieldTypeRegistry, type_name: str, definition: dict[str, Any], valid: bool
) -> None:
    field_type = registry.get(type_name)
    schema = {
        "type": "object",
        "properties": field_type.properties,
        "required": list(field_type.required_properties),
    }
    assert jsonschema.Draft202012Validator(schema).is_valid(definition) is valid


@pytest.mark.parametrize(
    ("type_name", "field", "stored", "expected"),
    [
        ("number", {}, 12.35, Decimal("12.35")),
        ("currency", {}, 0.1, Decimal("0.1")),
        ("percent", {}, 25, Decimal("25")),  # the engine turns it into 0.25
        ("percent", {}, 12.5, Decimal("12.5")),
        ("number", {}, None, None),
        ("checkbox", {}, True, True),
        ("checkbox", {}, None, False),
        ("date", {}, "2026-01-31", dt.date(2026, 1, 31)),
        ("datetime", {}, "2026-01-31T09:00:00Z", dt.datetime(2026, 1, 31, 9, tzinfo=dt.UTC)),
        ("time", {}, "09:30:00", dt.time(9, 30)),
        ("picklist", PICK, "Won", "Won"),
        ("multi_picklist", COLORS, ["Red", "Blue"], ["Red", "Blue"]),
        ("multi_picklist", COLORS, None, None),
        ("lookup", LOOKUP, UUID_TEXT, UUID_TEXT),
        ("text", {}, "Acme", "Acme"),
    ],
)
def test_formula_values(
    registry: FieldTypeRegistry, type_name: str, field: dict[str, Any], stored: Any, expected: Any
) -> None:
    field_type = registry.get(type_name)
    value = field_type.to_formula_value(stored, {"type": type_name, **field})
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(value, dt.datetime):
        assert value.utcoffset() == dt.timedelta(0)
    assert field_type.formula_type({"type": type_name}) == type_name


@pytest.mark.parametrize(
    ("type_name", "field", "raw", "expected"),
    [
        ("number", {}, "10.555", Decimal("10.555")),  # filters are not rounded
        ("percent", {}, "25", Decimal("25")),
        ("checkbox", {}, "true", True),
        ("checkbox", {}, "0", False),
        ("date", {}, "2026-01-31", "2026-01-31"),
        ("datetime", {}, "2026-01-31T10:00:00+01:00", "2026-01-31T09:00:00Z"),
        ("picklist", PICK, "legacy", "Legacy"),  # old records stay findable
        ("multi_picklist", COLORS, "mauve", "Mauve"),
        ("lookup", LOOKUP, UUID_TEXT.upper(), UUID_TEXT),
        ("auto_number", AUTO, " OPP-0007 ", "OPP-0007"),
        ("email", {}, " example.com ", "example.com"),  # a fragment for contains/endswith
        ("text", {"max_length": 3}, "abcdef", "abcdef"),
    ],
)
def test_filter_values(
    registry: FieldTypeRegistry, type_name: str, field: dict[str, Any], raw: str, expected: Any
) -> None:
    parsed = registry.get(type_name).parse_filter_value(raw, {"type": type_name, **field})
    assert parsed == expected
    assert type(parsed) is type(expected)


def test_filter_values_are_checked(registry: FieldTypeRegistry) -> None:
    with pytest.raises(FieldValueError, match="Enter true or false."):
        registry.get("checkbox").parse_filter_value("maybe", {"type": "checkbox"})
    with pytest.raises(FieldValueError, match="is not allowed"):
        registry.get("multi_picklist").parse_filter_value(
            "Pink", {"type": "multi_picklist", **COLORS}
        )
    with pytest.raises(FieldValueError, match="Enter a number"):
        registry.get("number").parse_filter_value("NaN", {"type": "number"})


def test_type_capabilities(registry: FieldTypeRegistry) -> None:
    assert registry.get("auto_number").computed
    assert not registry.get("multi_picklist").sortable
    assert registry.get("multi_picklist").operators == ("contains", "isnull")
    assert {registry.get(name).sql_type for name in ("number", "currency", "percent")} == {
        "numeric"
    }
    assert [
        registry.get(name).sql_type
        for name in ("checkbox", "date", "datetime", "time", "multi_picklist", "lookup")
    ] == ["boolean", "date", "timestamptz", "time", "jsonb", "text"]
    assert "gte" in registry.get("date").operators
    assert "gte" not in registry.get("picklist").operators


def test_format_auto_number_and_picklist_values() -> None:
    assert format_auto_number(AUTO, 7) == "OPP-0007"
    assert format_auto_number(AUTO, 123456) == "OPP-123456"
    assert format_auto_number({"format": "{0}/X"}, 0) == "0/X"
    with pytest.raises(ValueError):
        format_auto_number(AUTO, -1)
    assert picklist_values(PICK) == [
        {"value": "Open", "label": "Open", "active": True},
        {"value": "Won", "label": "Won", "active": True},
        {"value": "Lost", "label": "Closed Lost", "active": True},
        {"value": "Legacy", "label": "Legacy", "active": False},
    ]


# --- sql_accepts on PostgreSQL -------------------------------------------------------------

QUOTED = {"values": ["O'Brien", "Stage:Won", "Plain", {"value": "Old", "active": False}]}
SQL_CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("text", {"max_length": 3}, "  abc  ", True),
    ("text", {"max_length": 3}, "abcd", False),
    ("long_text", {}, "x" * 32768, True),
    ("long_text", {}, "x" * 32769, False),
    ("email", {}, "ann@example.com", True),
    ("email", {}, "Ann.O'Neil+crm@Example.co.uk", True),
    ("email", {}, "ann@localhost", False),
    ("email", {}, "a" * 65 + "@example.com", False),
    ("phone", {}, "+1 (555) 010-0199 x123", True),
    ("phone", {}, "12 x345", False),
    ("phone", {}, "call me", False),
    ("url", {}, "https://example.com:65535/a b", False),
    ("url", {}, "https://example.com:65535/a", True),
    ("url", {}, "https://example.com:65536/a", False),
    ("url", {}, "mailto:ann@example.com", False),
    ("number", {}, "12.5", True),
    ("number", {}, " -3 ", True),
    ("number", {}, "1e3", True),
    ("number", {}, ".5", True),
    ("number", {}, "1e-999", True),
    ("number", {}, "1e999", False),
    ("number", {}, "1e9999", False),
    ("number", {}, "NaN", False),
    ("number", {}, "true", False),
    ("number", {}, "12 apples", False),
    ("number", {}, "9999999999999.99", True),
    ("number", {}, "9999999999999.995", False),
    ("number", {"precision": 5, "scale": 2}, "999.994", True),
    ("number", {"precision": 5, "scale": 2}, "999.995", False),
    ("currency", {"precision": 3, "scale": 0}, "-999.4", True),
    ("percent", {"precision": 3, "scale": 0}, "-999.5", False),
    ("checkbox", {}, "true", True),
    ("checkbox", {}, "FALSE", True),
    ("checkbox", {}, "1", True),
    ("checkbox", {}, "yes", False),
    ("date", {}, "2024-02-29", True),
    ("date", {}, "2023-02-29", False),
    ("date", {}, "2026-04-31", False),
    ("date", {}, "2026-12-31", True),
    ("date", {}, "0000-01-01", False),
    ("date", {}, "2026-13-01", False),
    ("date", {}, "2026-01-31T09:00:00Z", False),
    ("datetime", {}, "2026-01-31T09:00:00Z", True),
    ("datetime", {}, "2026-01-31 09:00+0530", True),
    ("datetime", {}, "2026-01-31T09:00:00.123456-02:00", True),
    ("datetime", {}, "2026-01-31T09:00:00", False),
    ("datetime", {}, "2026-02-29T09:00:00Z", False),
    ("datetime", {}, "2026-01-31", False),
    ("time", {}, "09:30", True),
    ("time", {}, "23:59:59.999999", True),
    ("time", {}, "24:00", False),
    ("time", {}, "09:30+01:00", False),
    ("picklist", QUOTED, "O'Brien", True),
    ("picklist", QUOTED, "stage:won", True),
    ("picklist", QUOTED, "Old", True),  # inactive values stay acceptable for existing data
    ("picklist", QUOTED, "Stage", False),
    ("picklist", QUOTED, "O'Brien', 'x", False),
    ("multi_picklist", COLORS, "Red;Blue", True),
    ("multi_picklist", COLORS, "Red;;", True),
    ("multi_picklist", COLORS, "Red;Pink", False),
    ("multi_picklist", COLORS, '["Red", "Mauve"]', True),
    ("multi_picklist", COLORS, '["Red","Pink"]', False),
    ("multi_picklist", COLORS, "[not json", False),
    ("multi_picklist", COLORS, '["\\u0000"]', False),
    ("multi_picklist", COLORS, "[1, 2]", False),
    ("lookup", LOOKUP, UUID_TEXT, True),
    ("lookup", LOOKUP, UUID_TEXT.upper(), True),
    ("lookup", LOOKUP, UUID_TEXT.replace("-", ""), False),
    ("lookup", LOOKUP, "12", False),
]
INACTIVE_CASES = {("picklist", "Old"), ("multi_picklist", '["Red", "Mauve"]')}


def run_predicate(connection: sa.Connection, predicate: str, text: str | None) -> Any:
    statement = sa.text(f"SELECT {predicate} FROM (SELECT CAST(:v AS text) AS t) AS stored")
    return connection.execute(statement, {"v": text}).scalar_one()


def test_sql_accepts_on_postgresql(registry: FieldTypeRegistry, database: Any) -> None:
    """Each predicate runs on PostgreSQL and agrees with Python where both apply.

    A NULL stored value is always acceptable (blank fits every type); callers skip
    it, and the predicates may return NULL for it.
    """
    with database.owner() as connection:
        for type_name, field, text, accepted in SQL_CASES:
            definition = {"type": type_name, **field}
            predicate = registry.get(type_name).sql_accepts("t", definition)
            assert predicate is not None
            # Safe to embed in sqlalchemy.text(): no ``:name`` is read as a bind parameter.
            assert sa.text(predicate).compile().params == {}, predicate
            assert run_predicate(connection, predicate, text) is accepted, (type_name, text)
            if (type_name, text) in INACTIVE_CASES:
                continue  # refused as new input, kept for existing data
            python_value: Any = text
            if type_name == "multi_picklist" and text.startswith("["):
                # JSON text is how a stored list reaches SQL; Python sees the list itself.
                try:
                    python_value = json.loads(text)
                except ValueError:
                    python_value = text
            try:
                registry.get(type_name).normalize(python_value, definition)
                python_accepts = True
            except FieldValueError:
                python_accepts = False
            assert python_accepts is accepted, (type_name, text)
        for type_name in ("text", "number", "picklist", "multi_picklist"):
            predicate = registry.get(type_name).sql_accepts("t", {"type": type_name, **COLORS})
            assert run_predicate(connection, predicate, None) is True


def test_types_without_restrictions(registry: FieldTypeRegistry) -> None:
    assert registry.get("auto_number").sql_accepts("t", AUTO) is None
