"""What the records endpoints answer beyond the record: the new record's URL, a single
read narrowed by ``fields=``, and related records typed by their own object."""

from __future__ import annotations

from conftest import TenantFixture
from factories import setup_integration_crm
from helpers import assert_envelope

ACCOUNTS = "/api/v1/objects/Account/records"


def test_a_created_record_answers_with_its_url(tenant: TenantFixture) -> None:
    setup_integration_crm(tenant)
    # The URL names the object as defined, whatever case the request used.
    created = tenant.api("POST", "/api/v1/objects/account/records", json={"Name": "Acme"})
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    assert location == f"{ACCOUNTS}/{created.get_json()['id']}"
    read = tenant.api("GET", location)
    assert read.status_code == 200 and read.get_json() == created.get_json()
    refused = tenant.api("POST", ACCOUNTS, json={"Name": ""})
    assert_envelope(refused, 422)
    assert "Location" not in refused.headers


def test_a_single_read_honours_fields(tenant: TenantFixture) -> None:
    setup_integration_crm(tenant)
    acme = tenant.api("POST", ACCOUNTS, json={"Name": "Acme", "Code": "A1"}).get_json()
    person = tenant.api(
        "POST",
        "/api/v1/objects/Contact/records",
        json={"LastName": "Hopper", "Email": "grace@example.com", "Account": acme["id"]},
    ).get_json()
    one = f"/api/v1/objects/Contact/records/{person['id']}"
    narrow = tenant.api("GET", f"{one}?fields=LastName,Account.Name,Account.Code")
    assert narrow.status_code == 200
    body = narrow.get_json()
    assert body["LastName"] == "Hopper" and "Email" not in body
    assert body["Account"] == {"id": acme["id"], "Name": "Acme", "Code": "A1"}
    assert {"id", "version", "created_at"} <= set(body)
    assert narrow.headers["ETag"] == '"1"'
    assert_envelope(tenant.api("GET", f"{one}?fields=Nope"), 400)


def test_related_records_come_as_their_own_object(tenant: TenantFixture) -> None:
    setup_integration_crm(tenant)
    acme = tenant.api("POST", ACCOUNTS, json={"Name": "Acme"}).get_json()
    tenant.api(
        "POST",
        "/api/v1/objects/Contact/records",
        json={"LastName": "Hopper", "Email": "grace@example.com", "Account": acme["id"]},
    )
    spec = tenant.api("GET", "/api/v1/openapi.json").get_json()
    path = "/objects/Account/records/{record_id}/related/Contact.Account"
    page = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Contact"}
    # The described path is the route the API always had.
    related = tenant.api("GET", f"{ACCOUNTS}/{acme['id']}/related/Contact.Account")
    assert related.status_code == 200
    (contact,) = related.get_json()["data"]
    assert contact["LastName"] == "Hopper" and contact["Email"] == "grace@example.com"
    assert set(contact) <= set(spec["components"]["schemas"]["Contact"]["properties"])
