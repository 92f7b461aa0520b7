"""Every object names its records by one field (``name_field``), which the metadata API
always shows and screens read through lookups (``fields=Account.<name_field>``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from conftest import TenantFixture
from helpers import assert_envelope

OBJECTS = "/api/v1/meta/objects"


def define(tenant: TenantFixture, api_name: str, fields: list[dict], **extra: Any) -> dict:
    response = tenant.api(
        "POST", OBJECTS, json={"api_name": api_name, "label": api_name, "fields": fields, **extra}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def stored_name_field(tenant: TenantFixture, api_name: str) -> str | None:
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return connection.execute(
            sa.text("SELECT definition->>'name_field' FROM meta_objects WHERE api_name = :name"),
            {"name": api_name},
        ).scalar_one()


def test_the_name_field_is_chosen_when_none_is_named(tenant: TenantFixture) -> None:
    number = {"api_name": "Size", "type": "number"}
    named = define(tenant, "Named", [number, {"api_name": "name", "type": "text"}])
    assert named["name_field"] == "name" and stored_name_field(tenant, "Named") == "name"
    # Without a field called Name: the first text or auto-number field.
    task = define(
        tenant,
        "Task",
        [number, {"api_name": "Subject", "type": "text"}, {"api_name": "Note", "type": "text"}],
    )
    assert task["name_field"] == "Subject"
    # Chosen, not stored: the field stays the admin's to change, and the choice follows.
    assert stored_name_field(tenant, "Task") is None
    retyped = tenant.api("PATCH", f"{OBJECTS}/Task/fields/Subject", json={"type": "number"})
    assert retyped.status_code == 200, retyped.get_data(as_text=True)
    assert tenant.api("GET", f"{OBJECTS}/Task").get_json()["name_field"] == "Note"
    auto_number = {"api_name": "Number", "type": "auto_number", "format": "T-{00}"}
    ticket = define(tenant, "Ticket", [number, auto_number])
    assert ticket["name_field"] == "Number"
    # An auto-number named explicitly beats a text field.
    case = define(
        tenant,
        "Case",
        [
            {"api_name": "Name", "type": "text"},
            {"api_name": "Number", "type": "auto_number", "format": "C-{00}"},
        ],
        name_field="number",
    )
    assert case["name_field"] == "Number"
    refused = tenant.api(
        "POST",
        OBJECTS,
        json={"api_name": "Bad", "label": "Bad", "fields": [number], "name_field": "Size"},
    )
    assert "name_field" in assert_envelope(refused, 422)["errors"]


def test_an_object_without_a_text_field_is_named_by_id(tenant: TenantFixture) -> None:
    visit = define(tenant, "Visit", [{"api_name": "Minutes", "type": "number"}])
    assert visit["name_field"] == "id"
    listed = tenant.api("GET", OBJECTS).get_json()["data"]
    assert [obj["name_field"] for obj in listed] == ["id"]
    # Sent back as read ("id"), with a text field added, the new field names the records.
    definition = {key: value for key, value in visit.items() if key != "id"}
    definition["fields"] = [*visit["fields"], {"api_name": "Topic", "type": "text"}]
    changed = tenant.api("PUT", f"{OBJECTS}/Visit", json=definition)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["name_field"] == "Topic"


def test_the_name_field_cannot_be_deleted_until_another_is_chosen(tenant: TenantFixture) -> None:
    define(
        tenant,
        "Account",
        [{"api_name": "Name", "type": "text"}, {"api_name": "Code", "type": "text"}],
    )
    refused = tenant.api("DELETE", f"{OBJECTS}/Account/fields/Name")
    assert "name_field" in assert_envelope(refused, 422)["errors"]
    retyped = tenant.api("PATCH", f"{OBJECTS}/Account/fields/Name", json={"type": "number"})
    assert "name_field" in assert_envelope(retyped, 422)["errors"]
    account = tenant.api("GET", f"{OBJECTS}/Account").get_json()
    del account["id"]
    chosen = tenant.api("PUT", f"{OBJECTS}/Account", json={**account, "name_field": "Code"})
    assert chosen.status_code == 200 and chosen.get_json()["name_field"] == "Code"
    assert tenant.api("DELETE", f"{OBJECTS}/Account/fields/Name").status_code == 204


def test_screens_read_the_name_of_a_related_record(tenant: TenantFixture) -> None:
    ticket = define(
        tenant, "Ticket", [{"api_name": "Number", "type": "auto_number", "format": "T-{000}"}]
    )
    define(tenant, "Call", [{"api_name": "Ticket", "type": "lookup", "target": "Ticket"}])
    created = tenant.api("POST", "/api/v1/objects/Ticket/records", json={})
    assert created.status_code == 201, created.get_data(as_text=True)
    call = tenant.api(
        "POST", "/api/v1/objects/Call/records", json={"Ticket": created.get_json()["id"]}
    )
    assert call.status_code == 201, call.get_data(as_text=True)
    listed = tenant.api(
        "GET",
        "/api/v1/objects/Call/records",
        query_string={"fields": f"Ticket.{ticket['name_field']}"},
    ).get_json()["data"]
    assert listed[0]["Ticket"] == {"id": created.get_json()["id"], "Number": "T-001"}
