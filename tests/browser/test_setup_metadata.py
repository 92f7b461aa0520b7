"""Setup's metadata and integration screens in a real browser: the history to a diff to
a rollback, a package import previewed then applied, an API token created and copied,
webhooks and their delivery log; accessibility and screenshots of each at both widths."""

from __future__ import annotations

import uuid
from typing import Any

import yaml
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY
from playwright.sync_api import expect

from trellis.webhooks.subscriptions import webhook_deliveries

LONG_HELP = "Shown beside the amount on every form. " * 12


def world(tenant: TenantFixture, relabels: int = 3) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    for number in range(relabels):
        response = tenant.api(
            "PATCH",
            "/api/v1/meta/objects/Opportunity/fields/Amount",
            json={"label": f"Deal size {number}", **({"help_text": LONG_HELP} if number else {})},
        )
        assert response.status_code == 200, response.get_json()


def amount_label(tenant: TenantFixture) -> Any:
    field = tenant.api("GET", "/api/v1/meta/objects/Opportunity/fields/Amount").get_json()
    return field.get("label")


def test_history_to_a_diff_to_a_rollback(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    world(tenant, relabels=60)
    page = admin_page
    page.goto("/setup/")
    page.get_by_role("link", name="Metadata history").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Metadata history")
    assert page.locator(".revisions-table tbody tr").count() == 50
    assert_accessible(page)
    screenshot(page, "setup-history")

    page.get_by_role("link", name="Older revisions").click()
    expect(page.locator(".revisions-table tbody tr")).to_have_count(11)
    page.get_by_role("link", name="Revision 2", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revision 2")
    expect(page.locator(".diff-line").filter(has_text="Amount · label")).to_contain_text(
        "Deal size 0"
    )
    assert_accessible(page)
    screenshot(page, "setup-revision")

    page.get_by_role("link", name="Roll back to this revision…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roll back to revision 2?")
    expect(page.locator(".diff-line").filter(has_text="Amount · label")).to_contain_text(
        "Deal size 59"
    )
    assert amount_label(tenant) == "Deal size 59"  # the preview changed nothing
    assert_accessible(page)
    screenshot(page, "setup-rollback")
    page.get_by_role("button", name="Roll back to revision 2").click()
    expect(page.get_by_role("status").first).to_contain_text("Rolled back to revision 2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Revision 62")
    assert amount_label(tenant) == "Deal size 0"


def changed_package(tenant: TenantFixture) -> str:
    response = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/yaml"})
    package = yaml.safe_load(response.get_data(as_text=True))
    [opportunity] = [obj for obj in package["objects"] if obj["api_name"] == "Opportunity"]
    for field in opportunity["fields"]:
        if field["api_name"] == "Stage":
            field["values"] = [*field["values"], "On hold"]
        if field["api_name"] == "Amount":
            field["label"] = "Deal size"
    package["objects"].append(
        {
            "api_name": "Invoice",
            "label": "Invoice",
            "fields": [{"api_name": "Name", "type": "text"}],
        }
    )
    return str(yaml.safe_dump(package, sort_keys=False))


def test_a_package_import_is_previewed_then_applied(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    world(tenant, relabels=1)
    page = admin_page
    page.goto("/setup/package")
    assert_accessible(page)
    screenshot(page, "setup-package")

    page.get_by_label("Or paste the package").fill("trellis_package: 1\nobjects: [\n  - {bad")
    page.get_by_role("button", name="Preview import").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid YAML: line")
    assert_accessible(page)
    screenshot(page, "setup-package-error")

    page.get_by_label("Or paste the package").fill(changed_package(tenant))
    page.get_by_label("Revision message").fill("From staging")
    page.get_by_role("button", name="Preview import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import preview")
    expect(page.get_by_role("status").first).to_contain_text("1 to create, 1 to update")
    expect(page.locator(".diff-line").filter(has_text="Amount · label")).to_contain_text(
        "Deal size"
    )
    assert "Invoice" not in str(tenant.api("GET", "/api/v1/meta/objects").get_json())
    assert_accessible(page)
    screenshot(page, "setup-package-preview")

    page.get_by_role("button", name="Apply import").click()
    expect(page.get_by_role("status").first).to_contain_text("The package was imported.")
    assert amount_label(tenant) == "Deal size"
    assert "Invoice" in str(tenant.api("GET", "/api/v1/meta/objects").get_json())
    newest = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"][0]
    assert newest["message"].startswith("From staging")


def test_a_token_is_created_copied_and_revoked(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/setup/tokens")
    assert_accessible(page)
    screenshot(page, "setup-tokens")
    page.get_by_label("Name").fill("Warehouse sync for the nightly stock levels export")
    page.get_by_role("checkbox", name="write").uncheck()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-value").inner_text()
    assert secret.startswith("trl_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert_accessible(page)
    screenshot(page, "setup-token-created")
    me = tenant.api("GET", "/api/v1/me", token=secret)
    assert me.status_code == 200 and me.get_json()["token"]["scopes"] == ["read"]

    page.get_by_role(
        "link", name="Revoke Warehouse sync for the nightly stock levels export"
    ).click()
    assert_accessible(page)
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status").first).to_contain_text("was revoked")
    assert tenant.api("GET", "/api/v1/me", token=secret).status_code == 401


def test_webhooks_and_their_delivery_log(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    world(tenant, relabels=0)
    page = admin_page
    page.goto("/setup/webhooks")
    assert_accessible(page)
    screenshot(page, "setup-webhooks-empty")
    page.get_by_role("link", name="New webhook").click()
    page.get_by_label("Name").fill("ERP")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hooks/trellis/opportunities/with/a/long/path")
    page.get_by_label("Signing secret").fill("short")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#webhook-secret-error")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-webhook-errors")
    page.get_by_label("Signing secret").fill("whsec-browser-0123456789")
    page.get_by_role("checkbox", name="Opportunity").check()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("status").first).to_contain_text("was created")
    [hook] = tenant.api("GET", "/api/v1/webhooks").get_json()["data"]

    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        for event_id in range(1, 8):
            failed = event_id % 3 == 0
            connection.execute(
                webhook_deliveries.insert().values(
                    tenant_id=tenant.id,
                    subscription_id=uuid.UUID(hook["id"]),
                    event_id=event_id,
                    event_type="record.updated",
                    object="Opportunity",
                    record_id=uuid.uuid4(),
                    status="dead" if failed else "succeeded",
                    attempts=5 if failed else 1,
                    response_status=503 if failed else 200,
                    error="The receiver answered 503 Service Unavailable five times"
                    if failed
                    else None,
                )
            )
    page.goto("/setup/webhooks")
    assert_accessible(page)
    screenshot(page, "setup-webhooks")
    page.get_by_role("link", name="Delivery log of ERP").click()
    expect(page.locator(".deliveries-table tbody tr")).to_have_count(7)
    assert_accessible(page)
    screenshot(page, "setup-webhook-deliveries")
    page.get_by_role("button", name="Replay delivery").first.click()
    expect(page.get_by_role("status").first).to_contain_text("queued to be sent again")
