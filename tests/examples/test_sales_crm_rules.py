"""The sales CRM example's own rules, end to end through the REST API: validation
rules, formula fields, roll-ups, default formulas and conditional fields."""

from __future__ import annotations

import pytest
from conftest import TenantFixture
from helpers import assert_envelope

from trellis.examples.sales_crm import package_text


@pytest.fixture()
def crm(tenant: TenantFixture) -> TenantFixture:
    response = tenant.api(
        "POST", "/api/v1/meta/package", data=package_text(), content_type="application/yaml"
    )
    assert response.status_code == 200, response.get_json()
    return tenant


def create(crm: TenantFixture, obj: str, values: dict):
    return crm.api("POST", f"/api/v1/objects/{obj}/records", json=values)


def account(crm: TenantFixture, **values: object) -> dict:
    response = create(crm, "Account", {"Name": "Globex", **values})  # names are unique
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_opportunity_rules(crm: TenantFixture) -> None:
    acme = account(crm)
    base = {"Name": "Deal", "Account": acme["id"], "CloseDate": "2999-01-01"}
    body = assert_envelope(create(crm, "Opportunity", {**base, "Amount": -5}), 422)
    assert body["errors"] == {"Amount": ["The amount cannot be negative."]}
    past = assert_envelope(create(crm, "Opportunity", {**base, "CloseDate": "2001-01-01"}), 422)
    assert past["errors"] == {
        "CloseDate": ["An open opportunity needs a close date in the future."]
    }
    won = assert_envelope(create(crm, "Opportunity", {**base, "Stage": "Closed Won"}), 422)
    assert won["errors"] == {"Amount": ["A won opportunity needs an amount."]}
    lost = assert_envelope(create(crm, "Opportunity", {**base, "Stage": "Closed Lost"}), 422)
    assert lost["errors"] == {"LossReason": ["This field is required."]}
    hidden = assert_envelope(create(crm, "Opportunity", {**base, "LossReason": "Price"}), 422)
    assert hidden["errors"] == {"LossReason": ["This field is hidden here."]}
    deal = create(
        crm, "Opportunity", {**base, "Stage": "Closed Won", "Amount": 1000, "Probability": 100}
    )
    assert deal.status_code == 201, deal.get_json()
    reopen = crm.api(
        "PATCH",
        f"/api/v1/objects/Opportunity/records/{deal.get_json()['id']}",
        json={"Stage": "Negotiation"},
    )
    assert assert_envelope(reopen, 422)["errors"] == {
        "Stage": ["Closed opportunities cannot be reopened; create a new one."]
    }


def test_formula_fields_and_rollups(crm: TenantFixture) -> None:
    acme = account(crm)
    opportunity = create(
        crm,
        "Opportunity",
        {
            "Name": "Platform",
            "Account": acme["id"],
            "CloseDate": "2999-01-01",
            "Amount": 200000,
            "Probability": 25,
            "NextStep": "Demo",
        },
    ).get_json()
    assert opportunity["ExpectedRevenue"] == 50000
    assert opportunity["DaysToClose"] > 300
    assert opportunity["HealthScore"] == 35  # 0.25 * 60 + next step 20
    product = create(
        crm, "Product", {"Name": "Seat", "ProductCode": "S-1", "Family": None, "ListPrice": 100}
    )
    assert product.status_code == 201, product.get_json()
    line = create(
        crm,
        "OpportunityLineItem",
        {
            "Opportunity": opportunity["id"],
            "Product": product.get_json()["id"],
            "Quantity": 3,
            "UnitPrice": 100,
            "Discount": 10,
        },
    )
    assert line.status_code == 201, line.get_json()
    assert line.get_json()["TotalPrice"] == 270
    too_generous = create(
        crm,
        "OpportunityLineItem",
        {
            "Opportunity": opportunity["id"],
            "Product": product.get_json()["id"],
            "Quantity": 1,
            "UnitPrice": 100,
            "Discount": 40,
        },
    )
    assert assert_envelope(too_generous, 422)["errors"] == {
        "Discount": ["Discounts above 25% need a deal-desk approval."]
    }
    refreshed = crm.api("GET", f"/api/v1/objects/Account/records/{acme['id']}").get_json()
    assert refreshed["TotalOpportunityAmount"] == 200000 and refreshed["LargeDeals"] == 1


def test_account_and_lead_rules_and_defaults(crm: TenantFixture) -> None:
    bad = create(
        crm,
        "Account",
        {"Name": "Initech", "BillingCountry": "United States", "BillingPostalCode": "ABC"},
    )
    assert assert_envelope(bad, 422)["errors"] == {
        "BillingPostalCode": ["US postal codes look like 94105 or 94105-1234."]
    }
    account(crm, BillingCountry="United States", BillingPostalCode="94105-1234")
    account(crm, Name="Globex UK", BillingCountry="United Kingdom", BillingPostalCode="EC1A 1BB")
    unreachable = create(crm, "Lead", {"Name": "Ann Lee", "Company": "Umbrella"})
    assert assert_envelope(unreachable, 422)["errors"] == {
        "_record": ["A lead needs an email address or a phone number."]
    }
    lead = create(
        crm,
        "Lead",
        {
            "Name": "Ann Lee",
            "Company": "Umbrella",
            "Rating": "Hot",
            "Email": "ann@umbrella.example",
            "AnnualRevenue": 2000000,
        },
    )
    assert lead.status_code == 201, lead.get_json()
    assert lead.get_json()["Score"] == 80  # 50 hot + 15 email + 15 revenue
    scored = create(
        crm, "Lead", {"Name": "Bo", "Company": "X", "Phone": "+1 415 555 0100", "Score": 7}
    )
    assert scored.get_json()["Score"] == 7  # a value given is kept
