"""A workspace for the layout and list-view editors' tests: Accounts (a name, an
industry picklist, a phone, notes) and Contacts that look up to them, with one account
("Acme Corporation") and one contact of it ("Ada Lovelace")."""

from __future__ import annotations

from typing import Any

from access_helpers import create
from conftest import TenantFixture

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Industry", "type": "picklist", "values": ["Retail", "Energy"]},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Notes", "type": "long_text"},
    ],
}
CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "plural_label": "Contacts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Title", "type": "text"},
    ],
}


def build_world(tenant: TenantFixture) -> dict[str, str]:
    for definition in (ACCOUNT, CONTACT):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    acme = create(tenant, "Account", Name="Acme Corporation", Industry="Retail", Phone="555-0100")
    create(tenant, "Contact", Name="Ada Lovelace", Account=acme, Email="ada@acme.test")
    return {"acme": acme}


def two_sections() -> dict[str, Any]:
    return {
        "tabs": [
            {
                "name": "details",
                "label": "Details",
                "sections": [
                    {
                        "label": "Basics",
                        "columns": 2,
                        "fields": ["Name", {"field": "Industry", "required": True}],
                    },
                    {"label": "Contact details", "columns": 1, "fields": ["Phone", "created_at"]},
                ],
                "related_lists": [
                    {"object": "Contact", "lookup": "Account", "columns": ["Name", "Email"]}
                ],
            }
        ],
        "highlights": ["Industry"],
    }
