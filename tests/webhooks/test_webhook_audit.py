"""Webhook subscriptions changed through the API land in the audit trail, never with
their signing secret."""

from __future__ import annotations

from conftest import TenantFixture

SECRET = "whsec-audit-0123456789"


def test_webhook_changes_through_the_api_are_audited(tenant: TenantFixture) -> None:
    created = tenant.api(
        "POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/a", "secret": SECRET}
    )
    assert created.status_code == 201
    hook = created.get_json()["id"]
    changed = tenant.api(
        "PATCH", f"/api/v1/webhooks/{hook}", json={"secret": SECRET + "-rotated", "name": "A"}
    )
    assert changed.status_code == 200
    assert tenant.api("DELETE", f"/api/v1/webhooks/{hook}").status_code == 204
    events = tenant.api("GET", "/api/v1/audit").get_json()["data"]
    mine = [event for event in events if event["target_id"] == hook]
    assert [event["action"] for event in mine] == [
        "webhook.deleted",
        "webhook.changed",
        "webhook.created",
    ]
    assert mine[1]["details"]["changed"] == ["name", "secret"]
    assert SECRET not in str(mine)
    # A refused change writes nothing.
    refused = tenant.api("POST", "/api/v1/webhooks", json={"url": "ftp://x", "secret": "s"})
    assert refused.status_code == 422
    after = tenant.api("GET", "/api/v1/audit?action=webhook.created").get_json()["data"]
    assert len(after) == 1
