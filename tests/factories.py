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
