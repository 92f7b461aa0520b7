"""The rule language driving Trellis end to end: validation rules, formula fields,
roll-ups, default formulas, conditional fields, where= filters and the check endpoint."""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture
from helpers import assert_envelope
from list_worlds import build_list_world

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Country", "type": "text"},
        {"api_name": "Tier", "type": "picklist", "values": ["Gold", "Silver"]},
        {"api_name": "PostalCode", "type": "text", "required_when": 'Country = "US"'},
        {
            "api_name": "OpenPipeline",
            "type": "rollup",
            "summarized_object": "Opportunity",
            "relationship_field": "Account",
            "function": "SUM",
            "summarized_field": "Amount",
            "filter": 'NOT(ISPICKVAL(Stage, "Closed Lost"))',
        },
        {
            "api_name": "Deals",
            "type": "rollup",
            "summarized_object": "Opportunity",
            "relationship_field": "Account",
            "function": "count",
        },
        {
            "api_name": "LatestClose",
            "type": "rollup",
            "summarized_object": "Opportunity",
            "relationship_field": "Account",
            "function": "MAX",
            "summarized_field": "CloseDate",
        },
    ],
    "validation_rules": [
        {
            "name": "UsPostalFormat",
            "condition": (
                'AND(Country = "US", NOT(ISBLANK(PostalCode)), '
                'NOT(REGEX(PostalCode, "\\\\d{5}(-\\\\d{4})?")))'
            ),
            "message": "US postal codes look like 12345 or 12345-6789.",
            "error_field": "PostalCode",
        }
    ],
}
OPPORTUNITY = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "currency"},
        {"api_name": "Discount", "type": "percent"},
        {
            "api_name": "Stage",
            "type": "picklist",
            "values": ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"],
        },
        {"api_name": "CloseDate", "type": "date", "default_formula": "TODAY() + 30"},
        {
            "api_name": "LossReason",
            "type": "text",
            "visible_when": 'ISPICKVAL(Stage, "Closed Lost")',
            "required_when": 'ISPICKVAL(Stage, "Closed Lost")',
        },
        {"api_name": "Account", "type": "lookup", "target": "Account", "on_delete": "restrict"},
        {
            "api_name": "Net",
            "type": "formula",
            "return_type": "currency",
            "expression": "Amount * (1 - Discount)",
        },
        {
            "api_name": "Big",
            "type": "formula",
            "return_type": "checkbox",
            "expression": "Net >= 10000",
        },
        {
            "api_name": "AccountLabel",
            "type": "formula",
            "return_type": "text",
            "expression": 'Account.Name & " (" & TEXT(Account.Tier) & ")"',
        },
    ],
    "validation_rules": [
        {
            "name": "DiscountLimit",
            "condition": "Discount > 0.3",
            "message": "Discounts above 30% need approval.",
            "error_field": "Discount",
        },
        {
            "name": "WonNeedsAmount",
            "condition": 'AND(ISPICKVAL(Stage, "Closed Won"), OR(ISBLANK(Amount), Amount <= 0))',
            "message": "A won deal needs an amount.",
        },
        {
            "name": "NoReopen",
            "condition": 'AND(ISCHANGED(Stage), ISPICKVAL(PRIORVALUE(Stage), "Closed Won"))',
            "message": "Won deals cannot be reopened.",
            "error_field": "Stage",
        },
        {"name": "Inactive", "active": False, "condition": "TRUE", "message": "never"},
    ],
}


def setup(tenant: TenantFixture) -> None:
    # Account's roll-ups name Opportunity, so create Account without them first.
    plain_account = {**ACCOUNT, "fields": ACCOUNT["fields"][:4]}
    for definition in (plain_account, OPPORTUNITY):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()
    response = tenant.api("PUT", "/api/v1/meta/objects/Account", json=ACCOUNT)
    assert response.status_code == 200, response.get_json()


def create(tenant: TenantFixture, obj: str, values: dict):
    return tenant.api("POST", f"/api/v1/objects/{obj}/records", json=values)


def test_validation_rules_report_every_failure_together(tenant: TenantFixture) -> None:
    setup(tenant)
    response = create(tenant, "Opportunity", {"Name": "x", "Stage": "Closed Won", "Discount": 45})
    body = assert_envelope(response, 422, "validation_error")
    assert body["errors"] == {
        "Discount": ["Discounts above 30% need approval."],
        "_record": ["A won deal needs an amount."],
    }
    ok = create(
        tenant, "Opportunity", {"Name": "x", "Stage": "Closed Won", "Amount": 10, "Discount": 30}
    )
    assert ok.status_code == 201, ok.get_json()
    record = ok.get_json()
    reopen = tenant.api(
        "PATCH",
        f"/api/v1/objects/Opportunity/records/{record['id']}",
        json={"Stage": "Negotiation"},
    )
    assert assert_envelope(reopen, 422)["errors"] == {"Stage": ["Won deals cannot be reopened."]}
    # A blank condition does not fire: Discount blank is neither > 0.3 nor an error.
    assert create(tenant, "Opportunity", {"Name": "y"}).status_code == 201


def test_rules_with_regex_on_another_object(tenant: TenantFixture) -> None:
    setup(tenant)
    bad = create(tenant, "Account", {"Name": "A", "Country": "US", "PostalCode": "1234"})
    assert assert_envelope(bad, 422)["errors"] == {
        "PostalCode": ["US postal codes look like 12345 or 12345-6789."]
    }
    missing = create(tenant, "Account", {"Name": "A", "Country": "US"})
    assert assert_envelope(missing, 422)["errors"] == {"PostalCode": ["This field is required."]}
    assert (
        create(
            tenant, "Account", {"Name": "A", "Country": "US", "PostalCode": "12345-6789"}
        ).status_code
        == 201
    )
    assert create(tenant, "Account", {"Name": "B", "Country": "FR"}).status_code == 201


def test_formula_fields_are_computed_on_read_and_filterable(tenant: TenantFixture) -> None:
    setup(tenant)
    account = create(tenant, "Account", {"Name": "Acme", "Tier": "Gold"}).get_json()
    deal = create(
        tenant,
        "Opportunity",
        {"Name": "d", "Amount": 20000, "Discount": 25, "Account": account["id"]},
    ).get_json()
    assert deal["Net"] == 15000 and deal["Big"] is True
    assert deal["AccountLabel"] == "Acme (Gold)"
    small = create(tenant, "Opportunity", {"Name": "s", "Amount": 100}).get_json()
    assert small["Net"] is None and small["Big"] is None  # blank discount: blank result
    # Always current: change the account, the opportunity's formula follows.
    tenant.api(
        "PATCH", f"/api/v1/objects/Account/records/{account['id']}", json={"Name": "Acme Corp"}
    )
    read = tenant.api("GET", f"/api/v1/objects/Opportunity/records/{deal['id']}").get_json()
    assert read["AccountLabel"] == "Acme Corp (Gold)"
    listed = tenant.api("GET", "/api/v1/objects/Opportunity/records?Net__gt=1000&sort=-Net")
    assert [row["Name"] for row in listed.get_json()["data"]] == ["d"]
    assert_envelope(create(tenant, "Opportunity", {"Name": "z", "Net": 5}), 422)


def test_rollups_summarise_children_with_a_filter(tenant: TenantFixture) -> None:
    setup(tenant)
    account = create(tenant, "Account", {"Name": "Acme"}).get_json()
    assert account["OpenPipeline"] == 0 and account["Deals"] == 0
    for amount, stage, close in (
        (100, "Prospecting", "2026-05-01"),
        (250.5, "Negotiation", "2026-07-01"),
        (999, "Closed Lost", "2026-09-01"),
    ):
        created = create(
            tenant,
            "Opportunity",
            {
                "Name": "o",
                "Amount": amount,
                "Stage": stage,
                "CloseDate": close,
                "Account": account["id"],
                "LossReason": "price" if stage == "Closed Lost" else None,
            },
        )
        assert created.status_code == 201, created.get_json()
    read = tenant.api("GET", f"/api/v1/objects/Account/records/{account['id']}").get_json()
    assert read["OpenPipeline"] == 350.5 and read["Deals"] == 3
    assert read["LatestClose"] == "2026-09-01"
    listed = tenant.api("GET", "/api/v1/objects/Account/records?Deals__gte=1")
    assert [row["Name"] for row in listed.get_json()["data"]] == ["Acme"]


def test_default_formulas_and_conditional_fields(tenant: TenantFixture) -> None:
    setup(tenant)
    created = create(tenant, "Opportunity", {"Name": "d"}).get_json()
    assert created["CloseDate"] is not None
    hidden = create(tenant, "Opportunity", {"Name": "d", "LossReason": "price"})
    assert assert_envelope(hidden, 422)["errors"] == {"LossReason": ["This field is hidden here."]}
    lost = create(tenant, "Opportunity", {"Name": "d", "Stage": "Closed Lost"})
    assert assert_envelope(lost, 422)["errors"] == {"LossReason": ["This field is required."]}
    assert (
        create(
            tenant, "Opportunity", {"Name": "d", "Stage": "Closed Lost", "LossReason": "price"}
        ).status_code
        == 201
    )


def test_where_filters_run_in_sql(tenant: TenantFixture) -> None:
    setup(tenant)
    account = create(tenant, "Account", {"Name": "Acme", "Tier": "Gold"}).get_json()
    for name, amount in (("a", 500), ("b", 5000), ("c", 50000)):
        create(
            tenant,
            "Opportunity",
            {"Name": name, "Amount": amount, "Account": account["id"] if name != "a" else None},
        )
    url = "/api/v1/objects/Opportunity/records"
    where = 'AND(Amount > 1000, ISPICKVAL(Account.Tier, "Gold"))'
    names = [
        row["Name"]
        for row in tenant.api("GET", url, query_string={"where": where, "sort": "Name"}).get_json()[
            "data"
        ]
    ]
    assert names == ["b", "c"]
    bad = tenant.api("GET", url, query_string={"where": "Amount >"})
    body = assert_envelope(bad, 400, "bad_where")
    assert "line 1" in body["errors"]["where"][0]
    unsupported = tenant.api("GET", url, query_string={"where": 'REGEX(Name, "a.*")'})
    assert_envelope(unsupported, 400, "bad_where")
    not_boolean = tenant.api("GET", url, query_string={"where": "Amount + 1"})
    assert_envelope(not_boolean, 400, "bad_where")


def test_invalid_formulas_are_refused_at_definition_time(tenant: TenantFixture) -> None:
    setup(tenant)
    bad = {
        "api_name": "Quote",
        "label": "Quote",
        "fields": [
            {"api_name": "Total", "type": "number"},
            {
                "api_name": "Tax",
                "type": "formula",
                "return_type": "number",
                "expression": "Totl * 0.2",
            },
            {"api_name": "A", "type": "formula", "return_type": "number", "expression": "B + 1"},
            {"api_name": "B", "type": "formula", "return_type": "number", "expression": "A + 1"},
        ],
        "validation_rules": [{"name": "R", "condition": "Total + 1", "message": "m"}],
    }
    body = assert_envelope(
        tenant.api("POST", "/api/v1/meta/objects", json=bad), 422, "formula_error"
    )
    assert (
        "Did you mean" in body["errors"]["fields.Tax.expression"][0]
        or "did you mean" in body["errors"]["fields.Tax.expression"][0]
    )
    assert any(
        "circle" in " ".join(v) or "A" in k
        for k, v in body["errors"].items()
        if k.startswith(("fields.A", "fields.B"))
    )
    assert "validation_rules.R.condition" in body["errors"]
    # Deleting a field another object's formula reads is refused.
    breaking = tenant.api("DELETE", "/api/v1/meta/objects/Account/fields/Tier")
    errors = assert_envelope(breaking, 422, "formula_error")["errors"]
    assert any(key.startswith("objects.Opportunity.fields.AccountLabel") for key in errors)


def test_formula_check_endpoint(tenant: TenantFixture) -> None:
    setup(tenant)
    ok = tenant.api(
        "POST",
        "/api/v1/meta/formulas/check",
        json={"object": "Opportunity", "expression": "Amount * 2", "purpose": "formula_field"},
    )
    assert ok.get_json() == {"valid": True, "return_type": "currency", "references": ["Amount"]}
    wrong = tenant.api(
        "POST",
        "/api/v1/meta/formulas/check",
        json={
            "object": "Opportunity",
            "purpose": "validation_rule",
            "expression": 'AND(Amount > 1,\n  Stage = "Won")',
        },
    ).get_json()
    assert wrong["valid"] is False
    assert wrong["error"]["line"] == 2 and "ISPICKVAL" in wrong["error"]["message"]
    assert "^" in wrong["error"]["snippet"]
    assert_envelope(
        tenant.api(
            "POST", "/api/v1/meta/formulas/check", json={"object": "Nope", "expression": "1"}
        ),
        404,
    )
    assert_envelope(
        tenant.api(
            "POST", "/api/v1/meta/formulas/check", json={"object": "Opportunity", "expression": 1}
        ),
        400,
    )


def test_formula_check_takes_expression_and_the_type_its_purpose_needs(
    tenant: TenantFixture,
) -> None:
    setup(tenant)

    def check(**body: object) -> dict:
        response = tenant.api(
            "POST", "/api/v1/meta/formulas/check", json={"object": "Opportunity", **body}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # Without a purpose it is a validation rule, which must be true or false.
    assert check(expression="Amount * 2")["valid"] is False
    assert check(expression="Amount > 2") == {
        "valid": True,
        "return_type": "checkbox",
        "references": ["Amount"],
    }
    assert check(expression="Amount * 2", purpose="formula_field")["return_type"] == "currency"
    # return_type overrides the purpose's type, both ways.
    assert check(expression="Amount * 2", return_type="currency")["valid"] is True
    assert (
        check(expression="Amount * 2", purpose="formula_field", return_type="text")["valid"]
        is False
    )
    # The earlier name is refused with a pointer to the new one, not half-understood.
    renamed = tenant.api(
        "POST",
        "/api/v1/meta/formulas/check",
        json={"object": "Opportunity", "source": "Amount > 2", "expression": "Amount > 2"},
    )
    assert "source" in assert_envelope(renamed, 400)["errors"]
    missing = tenant.api(
        "POST", "/api/v1/meta/formulas/check", json={"object": "Opportunity", "source": "1"}
    )
    assert "expression" in assert_envelope(missing, 400)["error"]


def test_a_reader_checks_list_filters_only_and_never_learns_a_hidden_field(
    tenant: TenantFixture,
) -> None:
    world = build_list_world(tenant, deals=1)  # Deal.Margin is hidden from the rep
    check = "/api/v1/meta/formulas/check"

    def as_rep(expression: str, purpose: str = "filter") -> Any:
        body = {"object": "Deal", "expression": expression, "purpose": purpose}
        return world.rep.api("POST", check, json=body)

    assert_envelope(as_rep("Amount > 5", "validation_rule"), 403, "no_system_right")
    assert as_rep("Amount > 5").get_json()["valid"] is True
    for hidden in ("Margin > 5", "Margn > 5"):  # the field itself, and a near miss
        refused = as_rep(hidden)
        assert_envelope(refused, 400, "unknown_field")
        assert "Margin" not in refused.get_data(as_text=True)
    listed = world.rep.api(
        "GET", "/api/v1/objects/Deal/records", query_string={"where": "Margn > 5"}
    )
    assert_envelope(listed, 400, "unknown_field")
    assert "Margin" not in listed.get_data(as_text=True)
    # An administrator building formulas is told what was meant.
    admin = tenant.api("POST", check, json={"object": "Deal", "expression": "Margn > 5"})
    assert admin.get_json()["error"]["suggestion"] == "Margin"
