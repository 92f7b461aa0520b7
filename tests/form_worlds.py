"""A workspace for the record forms' tests: an object with a field of every type, a
conditional field, validation rules, and users whose rights differ.

- Gadget: every built-in type once (``Name`` required, an auto-number, long and rich
  text, email, phone, url, number, currency, percent, date, date/time, time, a checkbox
  defaulting to true, a picklist defaulting to "Idea", a multi-select picklist, a
  ``Maker`` lookup, a formula), ``RetiredWhy`` visible and required when Stage is
  "Retired", ``Serial`` read-only once Stage is "Retired" (as stored), ``Secret`` that
  the rep may not read and ``Audited`` that the rep may read but not edit. Rules: the
  price cannot be negative (on Price), and "test" is no name (on the record).
- Maker is private: the rep reads the makers they own ("Acme Works", "Acme Labs",
  "Globex"), not the administrator's ("Acme Hidden").
- Users: ``rep`` (read, create and edit Gadget and Maker) and ``viewer``
  (read Gadget only).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from access_helpers import PASSWORD, Member, create, member
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import sign_in

RETIRED = 'ISPICKVAL(Stage, "Retired")'
MAKER = {
    "api_name": "Maker",
    "label": "Maker",
    "plural_label": "Makers",
    "sharing_model": "private",
    "fields": [{"api_name": "Name", "type": "text", "required": True}],
}
GADGET: dict[str, Any] = {
    "api_name": "Gadget",
    "label": "Gadget",
    "plural_label": "Gadgets",
    "name_field": "Name",
    "fields": [
        {"api_name": "Name", "label": "Gadget name", "type": "text", "required": True},
        {"api_name": "Code", "type": "auto_number", "format": "G-{000}"},
        {"api_name": "Notes", "type": "long_text"},
        {"api_name": "Body", "label": "Description", "type": "rich_text"},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Site", "label": "Website", "type": "url"},
        {"api_name": "Units", "type": "number", "scale": 0},
        {"api_name": "Price", "type": "currency"},
        {"api_name": "Share", "type": "percent", "scale": 1},
        {"api_name": "Launch", "label": "Launch date", "type": "date"},
        {"api_name": "Seen", "label": "Last seen", "type": "datetime"},
        {"api_name": "Opens", "label": "Opens at", "type": "time"},
        {"api_name": "Active", "type": "checkbox", "default": True},
        {
            "api_name": "Stage",
            "type": "picklist",
            "values": ["Idea", "Built", "Retired"],
            "default": "Idea",
            "required": True,
        },
        {"api_name": "Colors", "type": "multi_picklist", "values": ["Red", "Green", "Blue"]},
        {"api_name": "Maker", "type": "lookup", "target": "Maker"},
        {
            "api_name": "Total",
            "type": "formula",
            "return_type": "currency",
            "expression": "Price * Units",
        },
        {
            "api_name": "RetiredWhy",
            "label": "Why retired",
            "type": "text",
            "visible_when": RETIRED,
            "required_when": RETIRED,
        },
        {"api_name": "Serial", "type": "text", "read_only_when": RETIRED},
        {"api_name": "Secret", "type": "text"},
        {"api_name": "Audited", "type": "text"},
    ],
    "validation_rules": [
        {
            "name": "PriceNotNegative",
            "condition": "Price < 0",
            "message": "The price cannot be negative.",
            "error_field": "Price",
        },
        {"name": "RealName", "condition": 'Name = "test"', "message": "Give it a real name."},
    ],
}
REP_RIGHTS = {
    "objects": {
        "Gadget": {"read": True, "create": True, "edit": True},
        "Maker": {"read": True, "create": True, "edit": True},
    },
    "fields": {"Gadget.Secret": {"read": False}, "Gadget.Audited": {"edit": False}},
}


@dataclasses.dataclass
class FormWorld:
    tenant: TenantFixture
    rep: Member
    viewer: Member
    password: str
    makers: dict[str, str]

    def email(self, name: str) -> str:
        return f"{name}@{self.tenant.slug}.test"

    def gadget(self, **values: Any) -> str:
        """A Gadget made by the administrator through the API."""
        return create(self.tenant, "Gadget", **values)

    def read(self, record_id: str) -> dict[str, Any]:
        response = self.tenant.api("GET", f"/api/v1/objects/Gadget/records/{record_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return dict(response.get_json())

    def gadgets(self) -> list[dict[str, Any]]:
        response = self.tenant.api("GET", "/api/v1/objects/Gadget/records?sort=created_at")
        return list(response.get_json()["data"])


def build_form_world(tenant: TenantFixture) -> FormWorld:
    for definition in (MAKER, GADGET):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(tenant, "gadgets", **REP_RIGHTS)
    permission_set(tenant, "looking", objects={"Gadget": {"read": True}})
    rep = member(tenant, "rep", permission_sets=["gadgets"])
    viewer = member(tenant, "viewer", permission_sets=["looking"])
    makers = {
        name: create(tenant, "Maker", token=rep.token, Name=name)
        for name in ("Acme Works", "Acme Labs", "Globex")
    }
    makers["Acme Hidden"] = create(tenant, "Maker", Name="Acme Hidden")
    return FormWorld(tenant, rep, viewer, PASSWORD, makers)


def signed_in(world: FormWorld, name: str | None = None) -> Any:
    """A test client signed in as the administrator (or the member ``name``)."""
    client = world.tenant.app.test_client()
    tenant = world.tenant
    if name is None:
        sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    else:
        sign_in(client, tenant, world.email(name), world.password)
    return client
