"""The User object: users as records that administrators extend with fields, read in
formulas as $User.<Field> and kept in step with the accounts."""

from __future__ import annotations

from access_helpers import member
from conftest import TenantFixture
from helpers import assert_envelope


def test_users_become_records_that_admins_extend(tenant: TenantFixture) -> None:
    manager = member(tenant, "manager")
    rep = member(tenant, "rep")
    tenant.api("PATCH", f"/api/v1/users/{rep.id}", json={"manager_id": str(manager.id)})
    record = tenant.api("GET", f"/api/v1/objects/User/records/{rep.id}").get_json()
    assert record["Email"] == f"rep@{tenant.slug}.test" and record["Active"] is True
    assert record["Manager"] == str(manager.id) and record["owner_id"] is None
    # An administrator adds a field and fills it in; the platform's fields stay its own.
    added = tenant.api(
        "POST",
        "/api/v1/meta/objects/User/fields",
        json={"api_name": "Region", "type": "picklist", "values": ["EMEA", "Americas"]},
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    path = f"/api/v1/objects/User/records/{rep.id}"
    assert tenant.api("PATCH", path, json={"Region": "EMEA"}).status_code == 200
    assert_envelope(
        tenant.api("PATCH", path, json={"Email": "x@y.test"}), 403, "field_not_editable"
    )
    assert_envelope(
        tenant.api("POST", "/api/v1/objects/User/records", json={"Name": "Ghost"}),
        403,
        "managed_records",
    )
    assert_envelope(tenant.api("DELETE", path), 403, "managed_records")
    # Users read each other's records, but only administrators change them.
    assert rep.api("GET", f"/api/v1/objects/User/records/{manager.id}").status_code == 200
    assert_envelope(rep.api("PATCH", path, json={"Region": "Americas"}), 403, "no_record_access")
    # Syncing again keeps the administrator's field.
    tenant.api("PATCH", f"/api/v1/users/{rep.id}", json={"manager_id": None})
    again = tenant.api("GET", path).get_json()
    assert again["Region"] == "EMEA" and again["Manager"] is None


def test_formulas_read_the_acting_users_fields(tenant: TenantFixture) -> None:
    emea, other = member(tenant, "emea"), member(tenant, "other")
    tenant.api(
        "POST",
        "/api/v1/meta/objects/User/fields",
        json={"api_name": "Region", "type": "text"},
    )
    tenant.api("PATCH", f"/api/v1/objects/User/records/{emea.id}", json={"Region": "EMEA"})
    deal = {
        "api_name": "Deal",
        "label": "Deal",
        "fields": [
            {"api_name": "Amount", "type": "number", "scale": 0},
            {"api_name": "Region", "type": "text", "default_formula": "$User.Region"},
        ],
        "validation_rules": [
            {
                "name": "emea_cap",
                "condition": 'AND($User.Region = "EMEA", Amount > 100)',
                "message": "EMEA deals above 100 need a manager.",
            }
        ],
    }
    created = tenant.api("POST", "/api/v1/meta/objects", json=deal)
    assert created.status_code == 201, created.get_data(as_text=True)
    refused = emea.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 500})
    assert_envelope(refused, 422)
    small = emea.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 50}).get_json()
    assert small["Region"] == "EMEA"
    theirs = other.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 500})
    assert theirs.status_code == 201 and theirs.get_json()["Region"] is None

    def check(expression: str) -> dict:
        return tenant.api(
            "POST",
            "/api/v1/meta/formulas/check",
            json={"object": "Deal", "expression": expression, "purpose": "formula_field"},
        ).get_json()

    assert check("$User.Region")["valid"] is True
    assert check("$User.Nope")["valid"] is False
