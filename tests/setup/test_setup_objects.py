"""Setup → Objects through the Flask client: the objects list with its record counts,
creating an object (and a refused one that changes nothing), adding each kind of field,
a type change's preview and confirmation, a field's deletion, who may use the screens,
and the audit trail of what they change."""

from __future__ import annotations

import re
from typing import Any

from access_helpers import create
from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def _admin(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url, headers=HTML).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=HTML)


def _object(tenant: TenantFixture, api_name: str) -> dict[str, Any]:
    response = tenant.api("GET", f"/api/v1/meta/objects/{api_name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _fields(tenant: TenantFixture, api_name: str) -> dict[str, dict[str, Any]]:
    return {f["api_name"]: f for f in _object(tenant, api_name)["fields"]}


def _make(tenant: TenantFixture, api_name: str, *fields: dict[str, Any]) -> None:
    definition = {
        "api_name": api_name,
        "label": api_name,
        "fields": [{"api_name": "Name", "type": "text"}, *fields],
    }
    response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_list_shows_each_object_with_its_record_count(
    client: Any, tenant: TenantFixture
) -> None:
    _admin(client, tenant)
    empty = client.get("/setup/objects", headers=HTML).get_data(as_text=True)
    assert "No objects yet" not in empty or "New object" in empty
    _make(tenant, "Project")
    _make(tenant, "Invoice")
    for name in ("A", "B", "C"):
        create(tenant, "Project", Name=name)
    page = client.get("/setup/objects", headers=HTML).get_data(as_text=True)
    row = re.search(
        r'href="/setup/objects/Project">Project</a>.*?<td class="cell-number">(\d+)</td>',
        page,
        re.S,
    )
    assert row is not None and row.group(1) == "3"
    invoice = re.search(
        r'href="/setup/objects/Invoice">Invoice</a>.*?<td class="cell-number">(\d+)</td>',
        page,
        re.S,
    )
    assert invoice is not None and invoice.group(1) == "0"
    assert "Public read/write" in page


def test_an_object_is_created_with_its_name_field(client: Any, tenant: TenantFixture) -> None:
    _admin(client, tenant)
    created = _post(
        client,
        "/setup/objects/new",
        {
            "label": "Purchase order",
            "plural_label": "Purchase orders",
            "api_name": "",
            "name_label": "Order name",
            "name_type": "text",
            "sharing_model": "private",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/setup/objects/Purchase_order")
    definition = _object(tenant, "Purchase_order")
    assert definition["sharing_model"] == "private"
    assert definition["plural_label"] == "Purchase orders"
    assert definition["name_field"] == "Name"
    assert definition["fields"][0]["label"] == "Order name"
    detail = client.get("/setup/objects/Purchase_order", headers=HTML).get_data(as_text=True)
    assert "Created the object Purchase order." in detail
