"""REGEX through the API: a rule with an invalid or too costly constant pattern is not
saved; a pattern read from a field fails that record write with a 422, never a 500."""

from __future__ import annotations

import pytest
from conftest import TenantFixture
from helpers import assert_envelope

CODES = {
    "api_name": "Code",
    "label": "Code",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Pattern", "type": "text"},
    ],
    "validation_rules": [
        {
            "name": "MatchesPattern",
            "condition": "AND(NOT(ISBLANK(Pattern)), NOT(REGEX(Name, Pattern)))",
            "message": "The name does not match the pattern.",
            "error_field": "Name",
        },
        {
            "name": "ProductCode",
            "condition": 'AND(BEGINS(Name, "P"), NOT(REGEX(Name, "^P[A-Z]-\\\\d{4}$")))',
            "message": "Product codes look like PA-1234.",
        },
    ],
}


def _with_rule(condition: str) -> dict:
    rule = {"name": "Bad", "condition": condition, "message": "m"}
    return {**CODES, "validation_rules": [*CODES["validation_rules"], rule]}


def _create(tenant: TenantFixture, values: dict):
    return tenant.api("POST", "/api/v1/objects/Code/records", json=values)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(", "invalid regular expression"), ("(?:a{1000}){3000}", "the limit is 1000")],
)
def test_a_rule_with_a_bad_constant_pattern_is_not_saved(
    tenant: TenantFixture, pattern: str, message: str
) -> None:
    condition = f'REGEX(Name, "{pattern}")'
    body = assert_envelope(
        tenant.api("POST", "/api/v1/meta/objects", json=_with_rule(condition)),
        422,
        "formula_error",
    )
    [error] = body["errors"]["validation_rules.Bad.condition"]
    assert message in error and "(line 1, column 13)" in error
    assert error.endswith(f"{condition}\n" + " " * 12 + "^" * (len(pattern) + 2))
    assert tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []
    # Nor can it be added to an object that exists.
    saved = tenant.api("POST", "/api/v1/meta/objects", json=CODES)
    assert saved.status_code == 201, saved.get_json()
    changed = tenant.api("PUT", "/api/v1/meta/objects/Code", json=_with_rule(condition))
    assert_envelope(changed, 422, "formula_error")
    rules = tenant.api("GET", "/api/v1/meta/objects/Code").get_json()["validation_rules"]
    assert [rule["name"] for rule in rules] == ["MatchesPattern", "ProductCode"]


def test_a_pattern_from_a_field_is_checked_on_each_write(tenant: TenantFixture) -> None:
    saved = tenant.api("POST", "/api/v1/meta/objects", json=CODES)
    assert saved.status_code == 201, saved.get_json()
    for pattern, problem in (
        ("(?:a{1000}){3000}", "3000 times; the limit is 1000"),
        ("(?:a{100}){100}", "multiply to 10000; the limit is 1000"),
        ("(", "invalid regular expression"),
    ):
        refused = _create(tenant, {"Name": "aaa", "Pattern": pattern})
        [error] = assert_envelope(refused, 422, "validation_error")["errors"]["Name"]
        assert error.startswith("Rule MatchesPattern could not be evaluated: ")
        assert problem in error
    listed = tenant.api("GET", "/api/v1/objects/Code/records").get_json()["data"]
    assert listed == []
    ok = _create(tenant, {"Name": "AB-1234", "Pattern": r"^[A-Z]{2}-\d{4}$"})
    assert ok.status_code == 201, ok.get_json()
    mismatch = _create(tenant, {"Name": "AB-12", "Pattern": r"\d{3,5}"})
    assert assert_envelope(mismatch, 422)["errors"] == {
        "Name": ["The name does not match the pattern."]
    }
    assert _create(tenant, {"Name": "12345", "Pattern": r"\d{3,5}"}).status_code == 201
    product = _create(tenant, {"Name": "PX-12"})
    assert assert_envelope(product, 422)["errors"] == {
        "_record": ["Product codes look like PA-1234."]
    }
    assert _create(tenant, {"Name": "PX-1234"}).status_code == 201
