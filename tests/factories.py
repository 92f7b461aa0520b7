"""Test data shared across domains: object definitions and shortcuts through the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask

from trellis.examples.sales_crm import load_example

if TYPE_CHECKING:
    from conftest import TenantFixture


CRM_OPPORTUNITY = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "currency"},
        {
            "api_name": "Stage",
            "type": "picklist",
            "values": ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"],
        },
        {"api_name": "CloseDate", "type": "date"},
        {"api_name": "Segment", "type": "text"},
        {"api_name": "Touches", "type": "number", "scale": 0},
    ],
}
CRM_TASK = {
    "api_name": "Task",
    "label": "Task",
    "fields": [
        {"api_name": "Subject", "type": "text", "required": True},
        {"api_name": "DueDate", "type": "date"},
        {
            "api_name": "Opportunity",
            "type": "lookup",
            "target": "Opportunity",
            "on_delete": "cascade",
        },
    ],
}


SALES_OPPORTUNITY = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "plural_label": "Opportunities",
    "fields": [
        {"api_name": "Name", "label": "Name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "Amount", "label": "Amount", "type": "currency", "indexed": True},
        {
            "api_name": "Stage",
            "label": "Stage",
            "type": "picklist",
            "values": ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"],
        },
        {"api_name": "CloseDate", "label": "Close date", "type": "date"},
        {
            "api_name": "Account",
            "label": "Account",
            "type": "lookup",
            "target": "Account",
            "on_delete": "restrict",
        },
    ],
}
SALES_ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [{"api_name": "Name", "type": "text", "required": True}],
}


def setup_sales(tenant: TenantFixture) -> None:
    for definition in (SALES_ACCOUNT, SALES_OPPORTUNITY):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()


def add_automation(crm: TenantFixture, definition: dict) -> None:
    response = crm.api("POST", "/api/v1/meta/automations", json=definition)
    assert response.status_code == 201, response.get_json()


def runs(crm: TenantFixture, **filters: str) -> list[dict]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return crm.api("GET", f"/api/v1/automation-runs?{query}").get_json()["data"]


def records(crm: TenantFixture, obj: str, query: str = "") -> list[dict]:
    return crm.api("GET", f"/api/v1/objects/{obj}/records?{query}").get_json()["data"]


def load_sales_example(app: Flask, tenant: TenantFixture, **options: Any) -> dict[str, int] | None:
    state = app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        return load_example(connection, tenant.actor, state.metadata_cache, **options)


def records_by_object(app: Flask, tenant: TenantFixture) -> dict[str, list[dict[str, Any]]]:
    """Every live record's data, by object api_name."""
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        rows = connection.execute(
            sa.text(
                "SELECT o.api_name, r.id, r.data FROM records r JOIN meta_objects o "
                "ON o.tenant_id = r.tenant_id AND o.id = r.object_id "
                "WHERE r.deleted_at IS NULL ORDER BY r.created_at, r.data->>'Name'"
            )
        ).all()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.api_name, []).append({"id": str(row.id), **row.data})
    return grouped


# A small CRM for the privacy tests: a person's own record (a Contact), records that share
# their email address (a Lead, an Account's billing address) and records that point at
# them (an Opportunity, a Task).
PRIVACY_OBJECTS = (
    {
        "api_name": "Account",
        "label": "Account",
        "fields": [
            {"api_name": "Name", "type": "text", "required": True},
            {"api_name": "BillingEmail", "type": "email"},
        ],
    },
    {
        "api_name": "Contact",
        "label": "Contact",
        "fields": [
            {"api_name": "Name", "type": "text", "required": True},
            {"api_name": "FirstName", "type": "text"},
            {"api_name": "Email", "type": "email", "unique": True},
            {"api_name": "Phone", "type": "phone"},
            {"api_name": "Birthdate", "type": "date"},
            {"api_name": "Notes", "type": "long_text"},
            {"api_name": "LeadSource", "type": "picklist", "values": ["Web", "Referral"]},
            {"api_name": "Score", "type": "number", "scale": 0},
            {"api_name": "Account", "type": "lookup", "target": "Account"},
        ],
    },
    {
        "api_name": "Lead",
        "label": "Lead",
        "fields": [
            {"api_name": "Name", "type": "text", "required": True},
            {"api_name": "Email", "type": "email", "required": True},
        ],
    },
    {
        "api_name": "Opportunity",
        "label": "Opportunity",
        "fields": [
            {"api_name": "Name", "type": "text", "required": True},
            {"api_name": "Amount", "type": "currency"},
            {"api_name": "Contact", "type": "lookup", "target": "Contact", "on_delete": "set_null"},
        ],
    },
    {
        "api_name": "Task",
        "label": "Task",
        "fields": [
            {"api_name": "Subject", "type": "text", "required": True},
            {"api_name": "Contact", "type": "lookup", "target": "Contact", "on_delete": "cascade"},
        ],
    },
)
PERSON_EMAIL = "Jane.Doe@Example.com"


def setup_people(tenant: TenantFixture) -> dict[str, str]:
    """The privacy CRM with Jane Doe's records and some that are not hers, by name."""
    for definition in PRIVACY_OBJECTS:
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()

    def create(obj: str, **values: Any) -> str:
        response = tenant.api("POST", f"/api/v1/objects/{obj}/records", json=values)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    ids = {"acme": create("Account", Name="Acme", BillingEmail="JANE.DOE@EXAMPLE.COM")}
    ids["jane"] = create(
        "Contact",
        Name="Jane Doe",
        FirstName="Jane",
        Email=PERSON_EMAIL,
        Phone="+1 555 0100",
        Birthdate="1990-04-01",
        Notes="Met at the trade fair",
        LeadSource="Web",
        Score=42,
        Account=ids["acme"],
    )
    # Her history holds an older phone number and note.
    changed = tenant.api(
        "PATCH",
        f"/api/v1/objects/Contact/records/{ids['jane']}",
        json={"Phone": "+1 555 0199", "Notes": "Prefers mornings"},
    )
    assert changed.status_code == 200, changed.get_json()
    ids["bob"] = create("Contact", Name="Bob Roe", Email="bob@example.com", Account=ids["acme"])
    ids["lead"] = create("Lead", Name="J. Doe", Email="jane.doe@example.com")
    ids["binned_lead"] = create("Lead", Name="Doe, J.", Email="jane.doe@EXAMPLE.com")
    assert (
        tenant.api("DELETE", f"/api/v1/objects/Lead/records/{ids['binned_lead']}").status_code
        == 204
    )
    ids["similar_lead"] = create("Lead", Name="Janet", Email="jane.doe@example.co")
    ids["longer_lead"] = create("Lead", Name="Xavier", Email="xjane.doe@example.com")
    ids["deal"] = create("Opportunity", Name="Fair deal", Amount=500, Contact=ids["jane"])
    ids["other_deal"] = create("Opportunity", Name="Other deal", Contact=ids["bob"])
    ids["task"] = create("Task", Subject="Follow-up call", Contact=ids["jane"])
    return ids


# What an integrator's workspace has, for the generated client and the document lint: a
# lookup, a unique field, a validation rule, a roll-up, a formula and picklists.
INTEGRATION_ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Code", "type": "text", "unique": True},
        {"api_name": "ErpCode", "type": "text", "external_id": True},
        # Values whose member names need care: a leading digit, punctuation.
        {"api_name": "Tier", "type": "picklist", "values": ["Gold", "1st class", "A/B"]},
    ],
}
INTEGRATION_CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "plural_label": "Contacts",
    "fields": [
        {"api_name": "LastName", "type": "text", "required": True},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
    ],
    "validation_rules": [
        {
            "name": "LongEnough",
            "condition": "LEN(LastName) < 2",
            "message": "Give at least two letters.",
            "error_field": "LastName",
        }
    ],
}
INTEGRATION_FIELDS = [
    # Roll-up functions are accepted in any case: the document must still name them apart.
    {
        "api_name": "Contacts",
        "type": "rollup",
        "summarized_object": "Contact",
        "relationship_field": "Account",
        "function": "count",
    },
    {"api_name": "Label", "type": "formula", "expression": 'Name & "!"', "return_type": "text"},
]


def setup_integration_crm(tenant: TenantFixture) -> None:
    for definition in (INTEGRATION_ACCOUNT, INTEGRATION_CONTACT):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()
    for field in INTEGRATION_FIELDS:
        response = tenant.api("POST", "/api/v1/meta/objects/Account/fields", json=field)
        assert response.status_code == 201, response.get_json()
