"""Record page layouts as metadata: the layout generated for an object without one, a
defined layout's validation (clear errors at their place, names in their own spelling),
its life with the fields it names (a deleted field leaves it; a lookup another layout
lists cannot go) and its journey in a package."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import TenantFixture
from helpers import assert_envelope

from trellis.metadata.compiled import TenantSchema
from trellis.metadata.layouts import Layout, layout_of

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Notes", "type": "long_text"},
        {"api_name": "Industry", "type": "picklist", "values": ["Retail", "Energy"]},
        {"api_name": "Status", "type": "picklist", "values": ["New", "Active", "Gone"]},
        {"api_name": "Revenue", "type": "currency"},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Since", "type": "date"},
    ],
}
CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "plural_label": "Contacts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
        {"api_name": "Bio", "type": "rich_text"},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Title", "type": "text"},
        {"api_name": "City", "type": "text"},
    ],
}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "plural_label": "Deals",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Stage", "type": "picklist", "values": ["Open", "Won"]},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
        {"api_name": "Partner", "type": "lookup", "target": "Account"},
    ],
}
LAYOUT: dict[str, Any] = {
    "path": "status",
    "highlights": ["revenue", "Phone"],
    "tabs": [
        {
            "name": "overview",
            "label": "Overview",
            "sections": [
                {"label": "Key facts", "fields": ["name", {"field": "REVENUE", "required": True}]},
                {
                    "label": "More",
                    "columns": 1,
                    "collapsed": True,
                    "fields": [{"field": "Phone", "read_only": True}, "owner_id", "created_at"],
                },
            ],
            "related_lists": [
                {
                    "object": "contact",
                    "lookup": "account",
                    "columns": ["name", "EMAIL"],
                    "sort": "-NAME",
                    "limit": 3,
                }
            ],
        },
        {"name": "notes", "label": "Notes", "sections": [{"label": "Notes", "fields": ["Notes"]}]},
    ],
}
OBJECTS = "/api/v1/meta/objects"


def create(tenant: TenantFixture, *definitions: dict[str, Any]) -> None:
    for definition in definitions:
        response = tenant.api("POST", OBJECTS, json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)


def schema_of(tenant: TenantFixture) -> TenantSchema:
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        return state.metadata_cache.get(connection, tenant.id)


def layout(tenant: TenantFixture, api_name: str) -> Layout:
    schema = schema_of(tenant)
    return layout_of(schema, schema.object(api_name))


def put_layout(tenant: TenantFixture, api_name: str, value: Any) -> Any:
    current = tenant.api("GET", f"{OBJECTS}/{api_name}").get_json()
    current.pop("id", None)
    for field in current["fields"]:
        field.pop("index", None)
    return tenant.api("PUT", f"{OBJECTS}/{api_name}", json={**current, "layout": value})


def test_an_object_without_a_layout_gets_one_from_its_fields(tenant: TenantFixture) -> None:
    create(tenant, ACCOUNT, CONTACT, DEAL)
    generated = layout(tenant, "Account")
    assert not generated.defined
    assert [tab.name for tab in generated.tabs] == ["details"]
    details = generated.tabs[0]
    assert details.label == "Details"
    main, system = details.sections
    assert main.label == "Account information"
    assert [item.name for item in main.items] == [f["api_name"] for f in ACCOUNT["fields"]]
    assert (main.columns, main.collapsible, main.collapsed) == (2, True, False)
    assert system.label == "System information" and system.collapsed
    assert [item.name for item in system.items] == ["owner_id", "created_at", "updated_at"]
    assert all(item.read_only and item.field is None for item in system.items)
    # A related list for every lookup to Account; a child with two says which is which.
    assert [(r.object.api_name, r.lookup.api_name, r.label) for r in details.related_lists] == [
        ("Contact", "Account", "Contacts"),
        ("Deal", "Account", "Deals (Account)"),
        ("Deal", "Partner", "Deals (Partner)"),
    ]
    contacts = details.related_lists[0]
    # The name, then short fields other than the lookup to the page's record.
    assert [field.api_name for field in contacts.columns] == ["Name", "Email", "Phone", "Title"]
    assert (contacts.sort, contacts.limit) == ("-created_at", 5)
    # The path is the picklist called Status (Industry is a picklist too, not a stage).
    assert generated.path is not None and generated.path.api_name == "Status"
    assert [field.api_name for field in generated.highlights] == [
        "Industry",
        "Revenue",
        "Phone",
        "Since",
    ]
    assert layout(tenant, "Deal").path.api_name == "Stage"
    assert layout(tenant, "Contact").path is None
    assert layout(tenant, "Contact").tabs[0].related_lists == ()


def test_a_defined_layout_is_stored_in_the_fields_own_spelling(tenant: TenantFixture) -> None:
    create(tenant, ACCOUNT, CONTACT)
    response = put_layout(tenant, "Account", LAYOUT)
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = response.get_json()["layout"]
    assert stored["path"] == "Status"
    assert stored["highlights"] == ["Revenue", "Phone"]
    overview = stored["tabs"][0]
    assert overview["sections"][0]["fields"] == ["Name", {"field": "Revenue", "required": True}]
    assert overview["related_lists"][0] == {
        "object": "Contact",
        "lookup": "Account",
        "columns": ["Name", "Email"],
        "sort": "-Name",
        "limit": 3,
    }
    shown = layout(tenant, "Account")
    assert shown.defined
    assert [tab.name for tab in shown.tabs] == ["overview", "notes"]
    facts, more = shown.tabs[0].sections
    assert [(item.name, item.required) for item in facts.items] == [
        ("Name", False),
        ("Revenue", True),
    ]
    assert (more.columns, more.collapsed) == (1, True)
    assert [(item.name, item.read_only) for item in more.items] == [
        ("Phone", True),
        ("owner_id", True),
        ("created_at", True),
    ]
    contacts = shown.tabs[0].related_lists[0]
    assert [field.api_name for field in contacts.columns] == ["Name", "Email"]
    assert (contacts.sort, contacts.limit, contacts.label) == ("-Name", 3, "Contacts")


def _broken(change: Any) -> dict[str, Any]:
    broken = copy.deepcopy(LAYOUT)
    change(broken)
    return broken


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        (
            lambda doc: doc["tabs"][0]["sections"][0]["fields"].append("Nope"),
            "layout.tabs.overview.sections.0.fields.2",
            "No field 'Nope'.",
        ),
        (
            lambda doc: doc["tabs"][1]["sections"][0]["fields"].append("name"),
            "layout.tabs.notes.sections.0.fields.1",
            "Name is on the layout already.",
        ),
        (
            lambda doc: doc.update(path="Revenue"),
            "layout.path",
            "The path shows a picklist's values; Revenue is a currency.",
        ),
        (
            lambda doc: doc["tabs"][1].update(name="history"),
            "layout.tabs.history.name",
            "The History tab is part of every record page; name this tab otherwise.",
        ),
        (
            lambda doc: doc["tabs"][0]["sections"][0]["fields"].__setitem__(
                1, {"field": "Revenue", "required": True, "read_only": True}
            ),
            "layout.tabs.overview.sections.0.fields.1",
            "A field cannot be both required and read only.",
        ),
        (
            lambda doc: doc["tabs"][0]["related_lists"][0].update(lookup="Name"),
            "layout.tabs.overview.related_lists.0.lookup",
            "Name a lookup field of Contact that points at Account.",
        ),
        (
            lambda doc: doc["tabs"][0]["related_lists"][0].update(object="Invoice"),
            "layout.tabs.overview.related_lists.0.object",
            "No object 'Invoice'.",
        ),
        (
            lambda doc: doc["tabs"][0]["related_lists"][0].update(columns=["Name", "Salary"]),
            "layout.tabs.overview.related_lists.0.columns.1",
            "Contact has no field 'Salary'.",
        ),
        (
            lambda doc: doc["tabs"][0]["related_lists"][0].update(sort="Bio"),
            "layout.tabs.overview.related_lists.0.sort",
            "Sort by a sortable field of Contact or a system column (created_at, "
            "updated_at), with - for descending.",
        ),
    ],
)
def test_a_wrong_layout_is_refused_with_the_place_and_what_is_wrong(
    tenant: TenantFixture, change: Any, place: str, message: str
) -> None:
    create(tenant, ACCOUNT, CONTACT)
    before = tenant.api("GET", f"{OBJECTS}/Account").get_json()
    body = assert_envelope(put_layout(tenant, "Account", _broken(change)), 422)
    assert body["errors"] == {place: [message]}
    assert tenant.api("GET", f"{OBJECTS}/Account").get_json() == before


def test_a_layout_of_the_wrong_shape_is_refused_by_the_meta_schema(tenant: TenantFixture) -> None:
    create(tenant, ACCOUNT)
    body = assert_envelope(put_layout(tenant, "Account", {"tabs": [{"name": "A b"}]}), 422)
    assert set(body["errors"]) == {"layout.tabs.0", "layout.tabs.0.name"}
    body = assert_envelope(put_layout(tenant, "Account", {"tabs": [], "colour": "red"}), 422)
    assert set(body["errors"]) == {"layout", "layout.tabs"}


def test_a_deleted_field_leaves_its_layout_and_a_listed_lookup_cannot_go(
    tenant: TenantFixture,
) -> None:
    create(tenant, ACCOUNT, CONTACT)
    assert put_layout(tenant, "Account", LAYOUT).status_code == 200
    deleted = tenant.api("DELETE", f"{OBJECTS}/Account/fields/Revenue")
    assert deleted.status_code == 204, deleted.get_data(as_text=True)
    stored = tenant.api("GET", f"{OBJECTS}/Account").get_json()["layout"]
    assert stored["highlights"] == ["Phone"]
    assert stored["tabs"][0]["sections"][0]["fields"] == ["Name"]
    deleted = tenant.api("DELETE", f"{OBJECTS}/Account/fields/Status")
    assert deleted.status_code == 204
    assert "path" not in tenant.api("GET", f"{OBJECTS}/Account").get_json()["layout"]
    # Account's layout lists contacts by their Account lookup and shows their Email.
    for field in ("Account", "Email"):
        body = assert_envelope(tenant.api("DELETE", f"{OBJECTS}/Contact/fields/{field}"), 422)
        assert any(key.startswith("objects.Account.layout.tabs.overview") for key in body["errors"])
    assert tenant.api("DELETE", f"{OBJECTS}/Contact/fields/City").status_code == 204


def test_a_layout_travels_in_a_package_even_before_its_children_exist(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    create(tenant, ACCOUNT, CONTACT)
    assert put_layout(tenant, "Account", LAYOUT).status_code == 200
    package = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/json"})
    exported = package.get_json()
    account = next(obj for obj in exported["objects"] if obj["api_name"] == "Account")
    assert account["layout"]["tabs"][0]["related_lists"][0]["object"] == "Contact"
    # Account comes first, before the Contact object its related list names exists.
    imported = other_tenant.api("POST", "/api/v1/meta/package", json=exported)
    assert imported.status_code == 200, imported.get_data(as_text=True)
    again = other_tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/json"})
    assert again.get_json() == exported
    assert [tab.name for tab in layout(other_tenant, "Account").tabs] == ["overview", "notes"]
