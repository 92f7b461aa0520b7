"""The metadata API: validation, revisions with diffs, rollback, data-loss protection."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import TenantFixture
from factories import SALES_ACCOUNT, SALES_OPPORTUNITY, setup_sales
from flask import Flask
from helpers import assert_envelope


def revision_count(tenant: TenantFixture) -> int:
    return len(tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"])


def test_create_and_read_an_object(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    body = tenant.api("GET", "/api/v1/meta/objects/opportunity").get_json()
    assert body["api_name"] == "Opportunity" and body["plural_label"] == "Opportunities"
    assert [f["api_name"] for f in body["fields"]] == [
        "Name",
        "Amount",
        "Stage",
        "CloseDate",
        "Account",
    ]
    assert body["name_field"] == "Name"
    listed = tenant.api("GET", "/api/v1/meta/objects").get_json()
    assert [o["api_name"] for o in listed["data"]] == ["Account", "Opportunity"]
    assert listed["revision"] == 2


def test_invalid_definitions_name_every_problem(tenant: TenantFixture) -> None:
    bad = {
        "api_name": "9Bad",
        "label": "",
        "fields": [
            {"api_name": "Amount", "type": "currency", "scale": 9, "precision": 4},
            {"api_name": "id", "type": "text"},
            {"api_name": "Stage", "type": "picklist"},
            {"api_name": "Owner", "type": "lookup", "target": "Nowhere"},
            {"api_name": "X", "type": "hologram"},
            {"api_name": "Y", "type": "text", "maxlength": 3},
        ],
    }
    body = assert_envelope(
        tenant.api("POST", "/api/v1/meta/objects", json=bad), 422, "validation_error"
    )
    assert "api_name" in body["errors"] and "label" in body["errors"]
    fixed = {**bad, "api_name": "Good", "label": "Good"}
    errors = assert_envelope(tenant.api("POST", "/api/v1/meta/objects", json=fixed), 422)["errors"]
    assert any(key.startswith("fields.Amount") for key in errors)
    assert "reserved" in errors["fields.id.api_name"][0]
    assert any(key.startswith("fields.Stage") for key in errors)
    assert "No object" in errors["fields.Owner.target"][0]
    assert "Unknown field type" in errors["fields.X.type"][0]
    assert "maxlength" in errors["fields.Y"][0]
    assert revision_count(tenant) == 0
    assert tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []


def test_duplicate_object_and_immutable_api_name(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    assert_envelope(tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT), 409)
    renamed = {**SALES_OPPORTUNITY, "api_name": "Deal"}
    assert_envelope(tenant.api("PUT", "/api/v1/meta/objects/Opportunity", json=renamed), 422)
    assert revision_count(tenant) == 2


def test_revisions_record_diffs_and_roll_back(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    added = tenant.api(
        "POST",
        "/api/v1/meta/objects/Opportunity/fields",
        json={"api_name": "Probability", "type": "percent"},
    )
    assert added.status_code == 201
    changed = tenant.api(
        "PATCH", "/api/v1/meta/objects/Opportunity/fields/Name", json={"label": "Deal name"}
    )
    assert changed.status_code == 200 and changed.get_json()["label"] == "Deal name"
    revisions = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    assert [r["revision"] for r in revisions] == [4, 3, 2, 1]
    assert revisions[0]["diff"] == [
        {
            "object": "Opportunity",
            "change": "field property",
            "field": "Name",
            "property": "label",
            "old": "Name",
            "new": "Deal name",
        }
    ]
    assert revisions[1]["diff"][0]["change"] == "field added"
    assert revisions[0]["author_id"] == str(tenant.admin_id)
    rolled = tenant.api("POST", "/api/v1/meta/revisions/2/rollback")
    assert rolled.get_json() == {"revision": 5, "rolled_back_to": 2}
    fields = tenant.api("GET", "/api/v1/meta/objects/Opportunity").get_json()["fields"]
    assert [f["api_name"] for f in fields] == ["Name", "Amount", "Stage", "CloseDate", "Account"]
    assert fields[0]["label"] == "Name"
    # Rolling back past an object's creation hides the object.
    tenant.api("POST", "/api/v1/meta/revisions/1/rollback")
    assert_envelope(tenant.api("GET", "/api/v1/meta/objects/Opportunity"), 404, "unknown_object")
    assert_envelope(tenant.api("POST", "/api/v1/meta/revisions/99/rollback"), 404)


def test_deleting_a_field_hides_it_and_keeps_values(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    record = tenant.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "Big", "Amount": 5000}
    ).get_json()
    assert tenant.api("DELETE", "/api/v1/meta/objects/Opportunity/fields/Amount").status_code == 204
    hidden = tenant.api("GET", f"/api/v1/objects/Opportunity/records/{record['id']}").get_json()
    assert "Amount" not in hidden
    assert_envelope(
        tenant.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "x", "Amount": 1}),
        422,
    )
    # Undeleting brings the kept value back.
    tenant.api("PATCH", "/api/v1/meta/objects/Opportunity/fields/Amount", json={"deleted": False})
    back = tenant.api("GET", f"/api/v1/objects/Opportunity/records/{record['id']}").get_json()
    assert back["Amount"] == 5000
    # Purging erases the values for good, and only for deleted fields.
    assert_envelope(
        tenant.api("POST", "/api/v1/meta/objects/Opportunity/fields/Amount/purge"),
        409,
        "not_deleted",
    )
    tenant.api("DELETE", "/api/v1/meta/objects/Opportunity/fields/Amount")
    purge = tenant.api("POST", "/api/v1/meta/objects/Opportunity/fields/Amount/purge")
    assert purge.get_json() == {"purged_records": 1}
    names = [
        f["api_name"]
        for f in tenant.api("GET", "/api/v1/meta/objects/Opportunity/fields").get_json()["data"]
    ]
    assert "Amount" not in names


def test_type_changes_that_lose_data_are_refused_unless_forced(tenant: TenantFixture) -> None:
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Item",
            "label": "Item",
            "fields": [{"api_name": "Code", "type": "text"}],
        },
    )
    ids = [
        tenant.api("POST", "/api/v1/objects/Item/records", json={"Code": code}).get_json()["id"]
        for code in ("12", "7.5", "abc")
    ]
    before = revision_count(tenant)
    refused = tenant.api(
        "PATCH", "/api/v1/meta/objects/Item/fields/Code", json={"type": "number", "scale": 1}
    )
    body = assert_envelope(refused, 422, "data_loss")
    assert (
        "1 record(s)" in body["errors"]["fields.Code"][0]
        and "abc" in body["errors"]["fields.Code"][0]
    )
    assert revision_count(tenant) == before
    forced = tenant.api(
        "PATCH",
        "/api/v1/meta/objects/Item/fields/Code?force=true",
        json={"type": "number", "scale": 1},
    )
    assert forced.status_code == 200, forced.get_json()
    values = [
        tenant.api("GET", f"/api/v1/objects/Item/records/{i}").get_json()["Code"] for i in ids
    ]
    assert values == [12, 7.5, None]
    history = tenant.api("GET", f"/api/v1/objects/Item/records/{ids[2]}/history").get_json()
    assert history["data"][0]["changes"] == {"Code": ["abc", None]}
    # Numeric filters work on the converted values.
    listed = tenant.api("GET", "/api/v1/objects/Item/records?Code__gt=8").get_json()["data"]
    assert [row["Code"] for row in listed] == [12]


def test_shrinking_a_picklist_or_max_length_is_checked(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/records",
        json={"Name": "A long deal name", "Stage": "Negotiation"},
    )
    shorter = tenant.api(
        "PATCH", "/api/v1/meta/objects/Opportunity/fields/Name", json={"max_length": 5}
    )
    assert_envelope(shorter, 422, "data_loss")
    fewer = tenant.api(
        "PATCH",
        "/api/v1/meta/objects/Opportunity/fields/Stage",
        json={"values": ["Prospecting", "Closed Won", "Closed Lost"]},
    )
    assert_envelope(fewer, 422, "data_loss")
    # Deactivating the value instead keeps old records valid.
    inactive = tenant.api(
        "PATCH",
        "/api/v1/meta/objects/Opportunity/fields/Stage",
        json={
            "values": [
                "Prospecting",
                {"value": "Negotiation", "active": False},
                "Closed Won",
                "Closed Lost",
            ]
        },
    )
    assert inactive.status_code == 200, inactive.get_json()


def test_unique_cannot_be_turned_on_over_duplicates(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    for _ in range(2):
        tenant.api("POST", "/api/v1/objects/Account/records", json={"Name": "Twin"})
    refused = tenant.api("PATCH", "/api/v1/meta/objects/Account/fields/Name", json={"unique": True})
    body = assert_envelope(refused, 422, "data_loss")
    assert "Twin" in body["errors"]["fields.Name.unique"][0]


def test_deleting_objects(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    assert_envelope(tenant.api("DELETE", "/api/v1/meta/objects/Account"), 409, "referenced")
    tenant.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "x"})
    assert_envelope(tenant.api("DELETE", "/api/v1/meta/objects/Opportunity"), 409, "has_records")
    assert tenant.api("DELETE", "/api/v1/meta/objects/Opportunity?force=true").status_code == 204
    assert tenant.api("DELETE", "/api/v1/meta/objects/Account").status_code == 204
    assert tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []


def test_metadata_writes_need_an_administrator(app: Flask, tenant: TenantFixture) -> None:
    from trellis.identity.tokens import create_token
    from trellis.identity.users import create_user

    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        user = create_user(connection, tenant.actor, email="rep@x.test", password=None)
        token, _ = create_token(connection, tenant.actor, user_id=user.id, name="rep")
    assert_envelope(
        tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT, token=token), 403
    )
    setup_sales(tenant)
    assert tenant.api("GET", "/api/v1/meta/objects", token=token).status_code == 200
    # An admin's read-only token cannot change metadata either.
    read_only = tenant.api(
        "POST", "/api/v1/tokens", json={"name": "ro", "scopes": ["read"]}
    ).get_json()["token"]
    assert_envelope(
        tenant.api(
            "PATCH",
            "/api/v1/meta/objects/Account/fields/Name",
            json={"label": "x"},
            token=read_only,
        ),
        403,
    )


def test_metadata_is_isolated_per_tenant(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    setup_sales(tenant)
    assert other_tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []
    assert_envelope(other_tenant.api("GET", "/api/v1/objects/Opportunity/records"), 404)
    setup_sales(other_tenant)  # the same names are free in another tenant


def test_metadata_changes_are_seen_by_other_processes(make_app, tenant: TenantFixture) -> None:
    """A second app (another process's cache) sees a change made through the first."""
    setup_sales(tenant)
    other = make_app().test_client()
    assert (
        other.get("/api/v1/meta/objects/Opportunity", headers=tenant.headers()).status_code == 200
    )
    tenant.api(
        "POST",
        "/api/v1/meta/objects/Opportunity/fields",
        json={"api_name": "Region", "type": "text"},
    )
    created = other.post(
        "/api/v1/objects/Opportunity/records",
        headers=tenant.headers(),
        json={"Name": "n", "Region": "EMEA"},
    )
    assert created.status_code == 201 and created.get_json()["Region"] == "EMEA"


def test_adding_a_field_never_rewrites_records(app: Flask, tenant: TenantFixture) -> None:
    setup_sales(tenant)
    record = tenant.api("POST", "/api/v1/objects/Account/records", json={"Name": "A"}).get_json()
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        before = connection.execute(
            sa.text("SELECT xmin::text FROM records WHERE id = :id"), {"id": record["id"]}
        ).scalar_one()
    tenant.api(
        "POST", "/api/v1/meta/objects/Account/fields", json={"api_name": "Website", "type": "url"}
    )
    with database.tenant(tenant.id) as connection:
        after = connection.execute(
            sa.text("SELECT xmin::text FROM records WHERE id = :id"), {"id": record["id"]}
        ).scalar_one()
    assert before == after
    read = tenant.api("GET", f"/api/v1/objects/Account/records/{record['id']}").get_json()
    assert read["Website"] is None
