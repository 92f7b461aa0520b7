"""The sales CRM example: its package, its seed data and the demo that loads both."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from factories import load_sales_example, records_by_object
from flask import Flask

from trellis.examples.sales_crm import load_package, package_text
from trellis.examples.sales_crm.data import PRODUCTS

# A day well after the real one: seeded open deals must still close after it (a rule says so).
TODAY = dt.date.today() + dt.timedelta(days=400)


def test_package_imports_cleanly_into_a_fresh_tenant(tenant: TenantFixture) -> None:
    response = tenant.api(
        "POST", "/api/v1/meta/package", data=package_text(), content_type="application/yaml"
    )
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()["plan"]
    assert [(item["object"], item["action"]) for item in plan] == [
        ("Account", "create"),
        ("Contact", "create"),
        ("Product", "create"),
        ("Opportunity", "create"),
        ("OpportunityLineItem", "create"),
        ("Lead", "create"),
        ("Task", "create"),
    ]
    again = tenant.api(
        "POST", "/api/v1/meta/package", data=package_text(), content_type="application/yaml"
    )
    assert again.get_json()["changed"] is False
    exported = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/yaml"})
    back = tenant.api(
        "POST", "/api/v1/meta/package", data=exported.get_data(), content_type="application/yaml"
    )
    assert back.get_json()["changed"] is False

    opportunity = tenant.api("GET", "/api/v1/meta/objects/Opportunity").get_json()
    fields = {field["api_name"]: field for field in opportunity["fields"]}
    assert fields["Name"]["type"] == "text" and fields["Name"]["required"] is True
    assert fields["Name"]["max_length"] == 120
    assert fields["Amount"]["type"] == "currency" and fields["Amount"]["indexed"] is True
    assert fields["Stage"]["type"] == "picklist"
    assert {"Prospecting", "Negotiation", "Closed Won", "Closed Lost"} <= set(
        fields["Stage"]["values"]
    )
    assert fields["CloseDate"]["type"] == "date"
    assert fields["Account"]["type"] == "lookup"
    assert (fields["Account"]["target"], fields["Account"]["on_delete"]) == ("Account", "restrict")
    # Account and Contact look each other up: the cycle was closed after both existed.
    account = tenant.api("GET", "/api/v1/meta/objects/Account/fields/PrimaryContact")
    assert account.get_json()["target"] == "Contact"


def test_package_uses_every_field_type_and_property(app: Flask) -> None:
    fields = [field for obj in load_package()["objects"] for field in obj["fields"]]
    assert {field["type"] for field in fields} == set(app.extensions["trellis"].field_types.names())
    assert {field.get("on_delete") for field in fields if field["type"] == "lookup"} == {
        "restrict",
        "set_null",
        "cascade",
    }
    for property_name in (
        "label",
        "help_text",
        "required",
        "unique",
        "indexed",
        "default",
        "read_only",
    ):
        assert any(property_name in field for field in fields), property_name
    assert all("name_field" in obj for obj in load_package()["objects"])


def test_seed_creates_the_expected_records_with_valid_lookups(
    app: Flask, tenant: TenantFixture
) -> None:
    counts = load_sales_example(app, tenant, accounts=12)
    assert counts is not None
    assert counts["Account"] == 12 and counts["Product"] == len(PRODUCTS)
    assert set(counts) == {
        "Account",
        "Contact",
        "Product",
        "Opportunity",
        "OpportunityLineItem",
        "Lead",
        "Task",
    }
    data = records_by_object(app, tenant)
    assert {name: len(rows) for name, rows in data.items()} == counts
    assert counts["Contact"] >= counts["Account"]
    assert counts["Lead"] == 12 * 4 // 5

    ids = {name: {row["id"] for row in rows} for name, rows in data.items()}
    for account in data["Account"]:
        assert account["PrimaryContact"] in ids["Contact"]
        assert account["AccountNumber"].startswith("ACC-0")
        assert account["Website"].endswith(".example")
    for contact in data["Contact"]:
        assert contact["Account"] in ids["Account"]
        assert "@" in contact["Email"]
    for opportunity in data["Opportunity"]:
        assert opportunity["Account"] in ids["Account"]
        assert opportunity["PrimaryContact"] in ids["Contact"]
        assert opportunity["OpportunityNumber"].startswith("OPP-")
    for line in data["OpportunityLineItem"]:
        assert line["Opportunity"] in ids["Opportunity"] and line["Product"] in ids["Product"]
    for task in data["Task"]:
        related = [task.get(name) for name in ("Account", "Opportunity", "Lead")]
        assert any(related)
    # record_refs mirrors every lookup value, and every target is a live record.
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        dangling = connection.execute(
            sa.text(
                "SELECT count(*) FROM record_refs f LEFT JOIN records r "
                "ON r.tenant_id = f.tenant_id AND r.id = f.target_id AND r.deleted_at IS NULL "
                "WHERE r.id IS NULL"
            )
        ).scalar_one()
        refs = connection.execute(sa.text("SELECT count(*) FROM record_refs")).scalar_one()
    lookups = sum(
        1
        for rows in data.values()
        for row in rows
        for value in row.values()
        if isinstance(value, str) and _is_uuid(value)
    ) - sum(len(rows) for rows in data.values())  # minus each record's own id
    assert dangling == 0 and refs == lookups


def test_computed_fields_agree_with_the_seeded_amounts(app: Flask, tenant: TenantFixture) -> None:
    load_sales_example(app, tenant, accounts=6)

    def rows(object_name: str) -> list[dict[str, Any]]:
        response = tenant.api("GET", f"/api/v1/objects/{object_name}/records?limit=200")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    opportunities = rows("Opportunity")
    line_totals: dict[str, Decimal] = {}
    for line in rows("OpportunityLineItem"):
        expected = (
            Decimal(str(line["Quantity"]))
            * Decimal(str(line["UnitPrice"]))
            * (100 - Decimal(str(line["Discount"])))
            / 100
        )
        assert abs(Decimal(str(line["TotalPrice"])) - expected) < Decimal("0.01")
        line_totals[line["Opportunity"]] = line_totals.get(
            line["Opportunity"], Decimal(0)
        ) + Decimal(str(line["TotalPrice"]))
    assert line_totals
    for opportunity in opportunities:
        amount = Decimal(str(opportunity["Amount"]))
        if opportunity["id"] in line_totals:  # deals with products add up their lines
            assert amount == line_totals[opportunity["id"]]
        expected = (amount * Decimal(opportunity["Probability"]) / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert Decimal(str(opportunity["ExpectedRevenue"])) == expected
    for account in rows("Account"):
        own = [Decimal(str(o["Amount"])) for o in opportunities if o["Account"] == account["id"]]
        assert Decimal(str(account["TotalOpportunityAmount"] or 0)) == sum(own, Decimal(0))
        assert account["LargeDeals"] == sum(1 for amount in own if amount >= 100000)


def test_seed_is_deterministic(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    for each in (tenant, other_tenant):
        assert load_sales_example(app, each, accounts=5, random_seed=11) is not None

    def summary(each: TenantFixture) -> list[tuple]:
        data = records_by_object(app, each)
        return sorted(
            (
                name,
                row.get("Name") or row.get("Subject") or row.get("LineNumber"),
                row.get("Amount"),
                row.get("Email"),
                row.get("CloseDate"),
            )
            for name, rows in data.items()
            for row in rows
        )

    assert summary(tenant) == summary(other_tenant)


def test_seed_dates_follow_today(app: Flask, tenant: TenantFixture) -> None:
    counts = load_sales_example(app, tenant, accounts=8, today=TODAY)
    assert counts is not None and counts["Account"] == 8

    def opportunities(query: str) -> list[dict[str, Any]]:
        response = tenant.api("GET", f"/api/v1/objects/Opportunity/records?limit=200&{query}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    closed = opportunities("Stage__in=Closed Won,Closed Lost")
    assert closed and all(row["CloseDate"] < TODAY.isoformat() for row in closed)
    assert opportunities(f"Stage__in=Closed Won,Closed Lost&CloseDate__gte={TODAY}") == []
    assert opportunities(f"Stage__ne=Closed Won&Stage__ne=Closed Lost&CloseDate__lt={TODAY}") == []


def test_api_reads_and_filters_over_seeded_data(app: Flask, tenant: TenantFixture) -> None:
    load_sales_example(app, tenant, accounts=15)
    won = tenant.api(
        "GET",
        "/api/v1/objects/Opportunity/records?Stage=Closed Won&sort=-Amount&limit=200&count=true",
    )
    assert won.status_code == 200, won.get_json()
    body = won.get_json()
    amounts = [Decimal(str(row["Amount"])) for row in body["data"]]
    assert body["data"] and all(row["Stage"] == "Closed Won" for row in body["data"])
    assert amounts == sorted(amounts, reverse=True)
    assert body["total"] == len(body["data"])
    every = records_by_object(app, tenant)["Opportunity"]
    assert body["total"] == sum(1 for row in every if row["Stage"] == "Closed Won")

    large = tenant.api(
        "GET",
        f"/api/v1/objects/Opportunity/records?Amount__gte={amounts[len(amounts) // 2]}&limit=200",
    ).get_json()
    assert all(Decimal(str(row["Amount"])) >= amounts[len(amounts) // 2] for row in large["data"])

    account = tenant.api("GET", "/api/v1/objects/Account/records?sort=Name&limit=1").get_json()[
        "data"
    ][0]
    contacts = tenant.api(
        "GET", f"/api/v1/objects/Account/records/{account['id']}/related/Contacts"
    ).get_json()["data"]
    assert contacts and all(row["Account"] == account["id"] for row in contacts)
    by_email = tenant.api(
        "GET", "/api/v1/objects/Contact/records", query_string={"Email": contacts[0]["Email"]}
    ).get_json()["data"]
    assert [row["id"] for row in by_email] == [contacts[0]["id"]]
    software = tenant.api(
        "GET", "/api/v1/objects/Lead/records?Interests__contains=Software&limit=200"
    ).get_json()["data"]
    assert all("Software" in row["Interests"] for row in software)
    # An account with opportunities cannot be deleted (restrict).
    opportunity = next(row for row in every)
    refused = tenant.api("DELETE", f"/api/v1/objects/Account/records/{opportunity['Account']}")
    assert refused.status_code == 409


def test_load_example_runs_once(app: Flask, tenant: TenantFixture) -> None:
    assert load_sales_example(app, tenant, accounts=2) is not None
    before = records_by_object(app, tenant)
    assert load_sales_example(app, tenant, accounts=2) is None
    assert records_by_object(app, tenant) == before


def test_load_example_seeds_objects_imported_before(app: Flask, tenant: TenantFixture) -> None:
    imported = tenant.api(
        "POST", "/api/v1/meta/package", data=package_text(), content_type="application/yaml"
    )
    assert imported.status_code == 200
    counts = load_sales_example(app, tenant, accounts=2)
    assert counts is not None and counts["Account"] == 2
    assert load_sales_example(app, tenant, accounts=2) is None


def test_load_example_leaves_a_tenant_with_its_own_account_alone(
    tenant: TenantFixture, app: Flask
) -> None:
    created = tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Account",
            "label": "Customer",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
    )
    assert created.status_code == 201
    assert load_sales_example(app, tenant, accounts=2) is None
    names = [
        obj["api_name"] for obj in tenant.api("GET", "/api/v1/meta/objects").get_json()["data"]
    ]
    assert names == ["Account"]


def test_demo_loads_the_example_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from trellis.cli import demo_tenant as demo

    # A workspace of this test's own, whatever else this run did with "demo".
    monkeypatch.setattr(demo, "DEMO_SLUG", f"demo-{uuid.uuid4().hex[:8]}")
    load_demo = demo.load_demo
    first = list(load_demo(app))
    assert any(line.startswith("Loaded the sales CRM example") for line in first)
    assert "Account 50" in next(line for line in first if line.startswith("Loaded"))
    second = list(load_demo(app))
    assert any("already loaded" in line for line in second)
    token = second[-1].split()[-1]
    response = app.test_client().get(
        "/api/v1/objects/Opportunity/records?limit=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.get_json()["data"]
    assert response.get_json()["data"][0]["owner_id"] is not None


def test_seed_script_main(
    app: Flask,
    tenant: TenantFixture,
    test_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trellis.examples.sales_crm.__main__ import main

    for name, value in test_settings.items():
        monkeypatch.setenv(
            f"TRELLIS_{name.upper()}", str(value).lower() if isinstance(value, bool) else str(value)
        )
    main(["--tenant", tenant.slug, "--accounts", "3"])
    assert "Created 3 Account" in capsys.readouterr().out
    assert len(records_by_object(app, tenant)["Account"]) == 3
    with pytest.raises(SystemExit, match="already has"):
        main(["--tenant", tenant.slug])


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36
