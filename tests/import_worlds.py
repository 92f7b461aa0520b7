"""Test data for CSV import: accounts with a unique code, contacts that look them up, and
a few shortcuts through the imports API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import TenantFixture

IMPORT_ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "label": "Account name", "type": "text", "required": True},
        {"api_name": "Code", "label": "Code", "type": "text", "unique": True},
    ],
}
IMPORT_CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "plural_label": "Contacts",
    "fields": [
        {"api_name": "Name", "label": "Full name", "type": "text", "required": True},
        {"api_name": "Email", "label": "Email", "type": "email", "unique": True},
        {"api_name": "Age", "label": "Age", "type": "number", "scale": 0},
        {"api_name": "Vip", "label": "VIP", "type": "checkbox"},
        {
            "api_name": "Account",
            "label": "Account",
            "type": "lookup",
            "target": "Account",
            "on_delete": "set_null",
        },
        {
            "api_name": "Score",
            "label": "Score",
            "type": "formula",
            "expression": "Age * 2",
            "return_type": "number",
        },
    ],
    "validation_rules": [
        {
            "name": "Adult",
            "condition": "AND(NOT(ISBLANK(Age)), Age < 18)",
            "message": "Contacts are adults.",
            "error_field": "Age",
        },
    ],
}


def setup_contacts(tenant: TenantFixture) -> dict[str, str]:
    """The two objects and two accounts; their ids by name."""
    for definition in (IMPORT_ACCOUNT, IMPORT_CONTACT):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()
    ids = {}
    for name, code in (("Acme", "AC-1"), ("Globex", "GX-1")):
        response = tenant.api(
            "POST", "/api/v1/objects/Account/records", json={"Name": name, "Code": code}
        )
        assert response.status_code == 201, response.get_json()
        ids[name] = response.get_json()["id"]
    return ids


def new_import(tenant: TenantFixture, csv_text: str, **body: Any) -> str:
    """An import job of Contacts with ``csv_text`` uploaded; its id."""
    response = tenant.api("POST", "/api/v1/imports", json={"object": "Contact", **body})
    assert response.status_code == 201, response.get_json()
    job_id = response.get_json()["id"]
    uploaded = upload(tenant, job_id, csv_text)
    assert uploaded.status_code == 200, uploaded.get_json()
    return job_id


def upload(
    tenant: TenantFixture, job_id: str, csv_text: str | bytes, token: str | None = None
) -> Any:
    """PUT the file (as ``token``'s user, by default the administrator)."""
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    return tenant.api(
        "PUT",
        f"/api/v1/imports/{job_id}/file?name=contacts.csv",
        data=data,
        headers={"Content-Type": "text/csv"},
        token=token,
    )


def set_mapping(
    tenant: TenantFixture, job_id: str, mapping: list[dict[str, Any]], token: str | None = None
) -> Any:
    return tenant.api(
        "PUT", f"/api/v1/imports/{job_id}/mapping", json={"mapping": mapping}, token=token
    )


def contacts(tenant: TenantFixture) -> list[dict[str, Any]]:
    response = tenant.api("GET", "/api/v1/objects/Contact/records?limit=200&sort=Name")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]
