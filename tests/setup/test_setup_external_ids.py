"""Setup's field form offers External ID where the field's type may carry one; a field
saved with it is unique, and the object's page says which fields are external ids."""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
NEW_FIELD = "/setup/objects/Customer/fields/new"


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url, headers=HTML).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=HTML)


def test_the_field_form_offers_external_id_where_the_type_allows_it(
    client: Any, tenant: TenantFixture
) -> None:
    definition = {
        "api_name": "Customer",
        "label": "Customer",
        "fields": [{"api_name": "Name", "type": "text"}],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    for kind in ("text", "email", "number"):
        form = client.get(NEW_FIELD, query_string={"type": kind}).get_data(as_text=True)
        assert 'name="external_id"' in form, kind
    for kind in ("long_text", "checkbox", "date", "lookup", "formula", "auto_number"):
        form = client.get(NEW_FIELD, query_string={"type": kind}).get_data(as_text=True)
        assert 'name="external_id"' not in form, kind
    saved = _post(
        client,
        NEW_FIELD,
        {"label": "ERP code", "api_name": "ErpCode", "type": "text", "external_id": "on"},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    fields = {
        each["api_name"]: each
        for each in tenant.api("GET", "/api/v1/meta/objects/Customer").get_json()["fields"]
    }
    assert fields["ErpCode"]["external_id"] is True and fields["ErpCode"]["unique"] is True
    edit = client.get("/setup/objects/Customer/fields/ErpCode").get_data(as_text=True)
    assert 'id="field-external_id" name="external_id" checked' in edit
    detail = client.get("/setup/objects/Customer").get_data(as_text=True)
    assert "External ID" in detail
    # The upsert works by the field Setup made.
    created = tenant.api(
        "PUT", "/api/v1/objects/Customer/records/by/ErpCode/E-1", json={"Name": "A"}
    )
    assert created.status_code == 201
