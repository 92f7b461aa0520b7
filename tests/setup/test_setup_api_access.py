"""Setup → API access: the workspace's request budget and allowed browser origins, saved
with the API's checks and audit, for administrators only."""

from __future__ import annotations

from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def page(client: Any, status: int = 200) -> str:
    response = client.get("/setup/api-access", headers=HTML)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return str(response.get_data(as_text=True))


def save(client: Any, **form: str) -> Any:
    token = csrf_token(page(client))
    return client.post("/setup/api-access", data={"csrf_token": token, **form}, headers=HTML)


def settings(tenant: TenantFixture) -> dict[str, Any]:
    return dict(tenant.api("GET", "/api/v1/tenant/api-settings").get_json())


def test_an_administrator_sets_the_budget_and_origins(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    shown = page(client)
    assert "<h1>API access</h1>" in shown and 'placeholder="100000"' in shown
    saved = save(
        client,
        rate_limit="250",
        cors_origins="https://app.example.com\n\n http://localhost:3000 \n",
    )
    assert saved.status_code == 302
    assert settings(tenant)["rate_limit"] == 250
    assert settings(tenant)["cors_origins"] == ["https://app.example.com", "http://localhost:3000"]
    again = page(client)
    assert 'value="250"' in again and "https://app.example.com\nhttp://localhost:3000" in again
    events = tenant.api("GET", "/api/v1/audit?action=tenant.api_settings_changed").get_json()
    assert events["data"][0]["details"]["rate_limit"] == [None, 250]
    # Empty: the default again, and no origin.
    assert save(client, rate_limit="", cors_origins="").status_code == 302
    assert settings(tenant) | {"default_rate_limit": 0} == {
        "rate_limit": None,
        "cors_origins": [],
        "default_rate_limit": 0,
        "rate_limit_window_seconds": 60,
    }


def test_mistakes_are_shown_and_change_nothing(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    refused = save(client, rate_limit="lots", cors_origins="https://*.example.com")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and "Requests a minute: a whole number" in html
    assert 'value="lots"' in html  # as typed
    refused = save(client, rate_limit="10", cors_origins="https://example.com/app")
    assert "no path or wildcard" in refused.get_data(as_text=True)
    assert settings(tenant)["rate_limit"] is None and settings(tenant)["cors_origins"] == []


def test_only_administrators(client: Any, tenant: TenantFixture) -> None:
    permission_set(tenant, "people", system=["manage_users"])
    manager = member(tenant, "manager", permission_sets=["people"])
    sign_in(client, tenant, f"manager@{tenant.slug}.test", PASSWORD)
    page(client, 403)
    assert manager.id
