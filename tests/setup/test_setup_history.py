"""Setup's metadata history: the revisions, paged; a revision's changes, readable and with
action secrets masked; a rollback previewed, confirmed, recorded and audited as the API's;
refused without the right to manage metadata."""

from __future__ import annotations

from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
SECRET = "history-signing-secret"


def relabel(tenant: TenantFixture, label: str) -> int:
    response = tenant.api(
        "PATCH", "/api/v1/meta/objects/Opportunity/fields/Amount", json={"label": label}
    )
    assert response.status_code == 200, response.get_json()
    return latest(tenant)


def latest(tenant: TenantFixture) -> int:
    return int(tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"][0]["revision"])


def amount_label(tenant: TenantFixture) -> Any:
    return (
        tenant.api("GET", "/api/v1/meta/objects/Opportunity/fields/Amount").get_json().get("label")
    )


def opportunity(tenant: TenantFixture) -> int:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    return latest(tenant)


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return str(response.get_data(as_text=True))


def test_a_revision_shows_what_changed_field_by_field(client: Any, tenant: TenantFixture) -> None:
    created = opportunity(tenant)
    changed = relabel(tenant, "Deal size")
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    listing = page(client, "/setup/metadata/revisions")
    assert f'href="/setup/metadata/revisions/{changed}"' in listing
    assert f'href="/setup/metadata/revisions/{created}"' in listing
    assert "Opportunity" in listing and "Admin" in listing
    detail = page(client, f"/setup/metadata/revisions/{changed}")
    assert "Amount · label" in detail
    assert 'class="change-new">Deal size<' in detail
    # The first revision created the object: shown as such, not as a list of keys.
    first = page(client, f"/setup/metadata/revisions/{created}")
    assert "created" in first and "the whole definition" in first
    assert page(client, "/setup/metadata/revisions/99999", 404)


def test_action_secrets_are_masked_in_a_revision(client: Any, tenant: TenantFixture) -> None:
    opportunity(tenant)
    hook = {
        "api_name": "notify",
        "object": "Opportunity",
        "trigger": "created",
        "timing": "after_save",
        "actions": [{"type": "call_webhook", "url": "http://127.0.0.1:9/hook", "secret": SECRET}],
    }
    assert tenant.api("POST", "/api/v1/meta/automations", json=hook).status_code == 201
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    detail = page(client, f"/setup/metadata/revisions/{latest(tenant)}")
    assert "automations" in detail and "notify" in detail
    assert SECRET not in detail and "********" in detail


def test_a_rollback_is_previewed_then_restores_the_definition(
    client: Any, tenant: TenantFixture
) -> None:
    created = opportunity(tenant)
    relabel(tenant, "Deal size")
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    preview = page(client, f"/setup/metadata/revisions/{created}/rollback")
    assert "Roll back to revision" in preview and "This changes <strong>1 document<" in preview
    assert 'class="change-old">Deal size<' in preview
    # The preview is a dry run: nothing changed, no revision was written.
    before = latest(tenant)
    assert amount_label(tenant) == "Deal size"
    token = csrf_token(preview)
    response = client.post(
        f"/setup/metadata/revisions/{created}/rollback", data={"csrf_token": token}
    )
    assert response.status_code == 302
    made = latest(tenant)
    assert made == before + 1
    assert response.headers["Location"].endswith(f"/setup/metadata/revisions/{made}")
    assert amount_label(tenant) in (None, "Amount")
    revision = tenant.api("GET", f"/api/v1/meta/revisions/{made}").get_json()
    assert revision["message"] == f"Roll back to revision {created}"
    assert revision["author_id"] == str(tenant.admin_id)
    assert f"Rolled back to revision {created}" in page(client, response.headers["Location"])
    audit = tenant.api("GET", "/api/v1/audit?action=metadata.changed").get_json()["data"]
    assert any(event["target_id"] == str(made) for event in audit), audit


def test_the_current_revision_has_nothing_to_roll_back(client: Any, tenant: TenantFixture) -> None:
    current = opportunity(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    preview = page(client, f"/setup/metadata/revisions/{current}/rollback")
    assert "nothing to roll back" in preview and "<button" not in preview.split("setup-main")[1]
    token = csrf_token(preview)
    response = client.post(
        f"/setup/metadata/revisions/{current}/rollback", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert latest(tenant) == current
    assert "Nothing was rolled back" in page(client, response.headers["Location"])


def test_revisions_are_paged(client: Any, tenant: TenantFixture) -> None:
    opportunity(tenant)
    for number in range(55):
        relabel(tenant, f"Amount {number}")
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    newest = latest(tenant)
    first = page(client, "/setup/metadata/revisions")
    assert first.count('class="cell-number"><a') == 50
    older = newest - 49
    assert f"/setup/metadata/revisions?before={older}" in first
    second = page(client, f"/setup/metadata/revisions?before={older}")
    assert second.count('class="cell-number"><a') == 6
    assert "Older revisions" not in second and "Newest" in second


def test_history_is_refused_without_the_right(client: Any, tenant: TenantFixture) -> None:
    opportunity(tenant)
    permission_set(tenant, "auditor", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "auditor", permission_sets=["auditor"])
    sign_in(client, tenant, f"auditor@{tenant.slug}.test", PASSWORD)
    assert "Metadata history" not in page(client, "/setup/")
    page(client, "/setup/metadata/revisions", 403)
    page(client, "/setup/metadata/revisions/1", 403)
    page(client, "/setup/metadata/revisions/1/rollback", 403)
    home = page(client, "/setup/")
    refused = client.post(
        "/setup/metadata/revisions/1/rollback", data={"csrf_token": csrf_token(home)}
    )
    assert refused.status_code == 403
