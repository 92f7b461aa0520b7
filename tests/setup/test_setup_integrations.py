"""Setup's API tokens and webhooks: a token shown once that works against the API until
it is revoked; webhooks created, changed and deleted with the API's checks, their
delivery log and replay; each audited as the API audits; refused without the rights."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY
from helpers import csrf_token
from screen_worlds import sign_in

from trellis.webhooks.subscriptions import webhook_deliveries, webhook_subscriptions

HTML = {"Accept": "text/html"}
TOKEN = re.compile(r"trl_[0-9a-f]{32}_[A-Za-z0-9_-]{43}")
SECRET = "whsec-setup-0123456789"
HOOK_URL = "http://127.0.0.1:9/hook"


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return str(response.get_data(as_text=True))


def audited(tenant: TenantFixture, action: str) -> list[dict[str, Any]]:
    return list(tenant.api("GET", f"/api/v1/audit?action={action}").get_json()["data"])


# -- API tokens ----------------------------------------------------------------------------


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
    client: Any, tenant: TenantFixture
) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    token = csrf_token(page(client, "/setup/tokens"))
    created = client.post(
        "/setup/tokens",
        data={
            "csrf_token": token,
            "name": "Nightly sync",
            "scopes": ["read"],
            "expires_in_days": "30",
        },
    )
    assert created.status_code == 200
    shown = TOKEN.findall(created.get_data(as_text=True))
    assert len(set(shown)) == 1
    [secret] = set(shown)
    assert "shown this once" in created.get_data(as_text=True)
    listing = page(client, "/setup/tokens")
    assert secret not in listing and "Nightly sync" in listing

    api = tenant.app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["token"]["scopes"] == ["read"]
    listed = tenant.api("GET", "/api/v1/tokens").get_json()["data"]
    [row] = [item for item in listed if item["name"] == "Nightly sync"]
    assert row["expires_at"] is not None and row["scopes"] == ["read"]
    assert audited(tenant, "token.created")[0]["target_id"] == row["id"]

    confirm = page(client, f"/setup/tokens/{row['id']}/revoke")
    assert "Revoke “Nightly sync”?" in confirm and "refused" in confirm
    revoked = client.post(
        f"/setup/tokens/{row['id']}/revoke", data={"csrf_token": csrf_token(confirm)}
    )
    assert revoked.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert audited(tenant, "token.revoked")[0]["target_id"] == row["id"]
    assert "revoked" in page(client, "/setup/tokens")
    # Revoked once: there is no active token left to revoke.
    page(client, f"/setup/tokens/{row['id']}/revoke", 404)


def test_a_bad_token_request_shows_its_errors_and_creates_nothing(
    client: Any, tenant: TenantFixture
) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    token = csrf_token(page(client, "/setup/tokens"))
    before = len(tenant.api("GET", "/api/v1/tokens").get_json()["data"])
    for data, field in (
        ({"name": "", "scopes": ["read"]}, "token-name-error"),
        ({"name": "x", "scopes": []}, "token-scopes-error"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": "0"}, "token-expiry-error"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": "soon"}, "token-expiry-error"),
    ):
        refused = client.post("/setup/tokens", data={"csrf_token": token, **data})
        assert refused.status_code == 422
        assert f'id="{field}"' in refused.get_data(as_text=True)
        assert not TOKEN.search(refused.get_data(as_text=True))
    assert len(tenant.api("GET", "/api/v1/tokens").get_json()["data"]) == before


def test_a_user_with_the_api_right_manages_only_their_own_tokens(
    client: Any, tenant: TenantFixture
) -> None:
    permission_set(tenant, "integrator", all_objects={"read": True}, system=["api"])
    member(tenant, "integrator", permission_sets=["integrator"])
    sign_in(client, tenant, f"integrator@{tenant.slug}.test", PASSWORD)
    # Every user's permission sets grant the API by default, so the screen follows the
    # API (anyone may hold their own tokens) while Setup's overview stays for admins.
    page(client, "/setup/", 403)
    listing = page(client, "/setup/tokens")
    assert "Webhooks" not in listing
    everyone = tenant.api("GET", "/api/v1/tokens").get_json()["data"]
    [admin_token] = [row["id"] for row in everyone if row["user_id"] == str(tenant.admin_id)]
    assert "Your tokens" in listing and admin_token not in listing
    page(client, f"/setup/tokens/{admin_token}/revoke", 404)
    refused = client.post(
        f"/setup/tokens/{admin_token}/revoke", data={"csrf_token": csrf_token(listing)}
    )
    assert refused.status_code == 404
    assert tenant.api("GET", "/api/v1/me").status_code == 200

    permission_set(tenant, "clerk", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "clerk", permission_sets=["clerk"])
    other = tenant.app.test_client()
    sign_in(other, tenant, f"clerk@{tenant.slug}.test", PASSWORD)
    page(other, "/setup/tokens", 403)


# -- webhooks ------------------------------------------------------------------------------


def stored(tenant: TenantFixture) -> list[Any]:
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        return list(connection.execute(sa.select(webhook_subscriptions)))


def webhook_form(token: str, **values: Any) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "name": "ERP",
        "url": HOOK_URL,
        "secret": SECRET,
        "event_types": ["created", "updated"],
        "objects": ["Opportunity"],
        "active": "yes",
        **values,
    }


def test_webhooks_are_created_edited_and_deleted(client: Any, tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    assert "No webhooks yet" in page(client, "/setup/webhooks")
    token = csrf_token(page(client, "/setup/webhooks/new"))
    refused = client.post(
        "/setup/webhooks/new", data=webhook_form(token, url="ftp://nowhere", secret="short")
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="webhook-url-error"' in text and 'id="webhook-secret-error"' in text
    assert stored(tenant) == []

    created = client.post("/setup/webhooks/new", data=webhook_form(token))
    assert created.status_code == 302
    [row] = stored(tenant)
    assert row.secret == SECRET and row.event_types == ["created", "updated"]
    listing = page(client, "/setup/webhooks")
    assert "ERP" in listing and HOOK_URL in listing and SECRET not in listing
    edit = page(client, f"/setup/webhooks/{row.id}/edit")
    assert SECRET not in edit and 'value="ERP"' in edit

    # Saved without a secret: the stored one is kept; unticked Active switches it off.
    changed = client.post(
        f"/setup/webhooks/{row.id}/edit",
        data=webhook_form(token, name="ERP sync", secret="", active="", event_types=["deleted"]),
    )
    assert changed.status_code == 302
    [row] = stored(tenant)
    assert (row.name, row.secret, row.active, row.event_types) == (
        "ERP sync",
        SECRET,
        False,
        ["deleted"],
    )
    api = tenant.api("GET", f"/api/v1/webhooks/{row.id}").get_json()
    assert api["name"] == "ERP sync" and api["objects"] == ["Opportunity"]

    confirm = page(client, f"/setup/webhooks/{row.id}/delete")
    assert "0 deliveries" in confirm and "cannot be undone" in confirm
    deleted = client.post(f"/setup/webhooks/{row.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302 and stored(tenant) == []
    for action in ("webhook.created", "webhook.changed", "webhook.deleted"):
        [event] = audited(tenant, action)
        assert event["target_id"] == str(row.id) and SECRET not in str(event)
    page(client, f"/setup/webhooks/{row.id}/edit", 404)


def test_the_delivery_log_lists_deliveries_and_replays_a_failed_one(
    client: Any, tenant: TenantFixture
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    hook = tenant.api(
        "POST", "/api/v1/webhooks", json={"url": HOOK_URL, "secret": SECRET, "name": "ERP"}
    ).get_json()
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        ids = {}
        for event_id, (status, code, error) in enumerate(
            (
                ("succeeded", 200, None),
                ("dead", 503, "Receiver answered 503"),
                ("queued", None, None),
            ),
            start=1,
        ):
            ids[status] = connection.execute(
                webhook_deliveries.insert()
                .values(
                    tenant_id=tenant.id,
                    subscription_id=uuid.UUID(hook["id"]),
                    event_id=event_id,
                    event_type="record.created",
                    object="Opportunity",
                    record_id=uuid.uuid4(),
                    status=status,
                    attempts=0 if status == "queued" else 3,
                    response_status=code,
                    error=error,
                )
                .returning(webhook_deliveries.c.id)
            ).scalar_one()
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    log = page(client, f"/setup/webhooks/{hook['id']}/deliveries")
    assert all(f"#{delivery_id}" in log for delivery_id in ids.values())
    assert "Receiver answered 503" in log and ">503<" in log
    assert f"Replay delivery {ids['dead']}" in log
    assert f"Replay delivery {ids['queued']}" not in log
    dead_only = page(client, f"/setup/webhooks/{hook['id']}/deliveries?status=dead")
    assert f"#{ids['dead']}" in dead_only and f"#{ids['succeeded']}" not in dead_only

    token = csrf_token(log)
    replay = f"/setup/webhooks/{hook['id']}/deliveries/{ids['dead']}/replay"
    assert client.post(replay, data={"csrf_token": token}).status_code == 302
    again = tenant.api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries/{ids['dead']}")
    # Queued again from its first attempt (a worker may already be sending it).
    assert again.get_json()["status"] in {"queued", "sending", "failed"}
    assert again.get_json()["error"] != "Receiver answered 503"
    assert audited(tenant, "webhook.replayed")[0]["target_id"] == str(ids["dead"])
    queued = f"/setup/webhooks/{hook['id']}/deliveries/{ids['queued']}/replay"
    refused = client.post(queued, data={"csrf_token": token})
    assert refused.status_code == 302
    assert "cannot be replayed" in page(client, refused.headers["Location"])


def test_webhooks_need_the_right_to_manage_automations(client: Any, tenant: TenantFixture) -> None:
    hook = tenant.api(
        "POST", "/api/v1/webhooks", json={"url": HOOK_URL, "secret": SECRET}
    ).get_json()
    permission_set(tenant, "builder", all_objects={"read": True}, system=["manage_metadata"])
    member(tenant, "builder", permission_sets=["builder"])
    sign_in(client, tenant, f"builder@{tenant.slug}.test", PASSWORD)
    assert "Webhooks" not in page(client, "/setup/")
    for path in ("/setup/webhooks", "/setup/webhooks/new", f"/setup/webhooks/{hook['id']}/edit"):
        page(client, path, 403)
    page(client, f"/setup/webhooks/{hook['id']}/deliveries", 403)
    token = csrf_token(page(client, "/setup/"))
    deleted = client.post(f"/setup/webhooks/{hook['id']}/delete", data={"csrf_token": token})
    assert deleted.status_code == 403
    assert len(stored(tenant)) == 1


def test_the_user_menu_links_a_user_with_the_api_right_to_their_tokens(
    client: Any, tenant: TenantFixture
) -> None:
    permission_set(tenant, "caller", all_objects={"read": True}, system=["api"])
    permission_set(tenant, "clerk", all_objects={"read": True}, system=[])
    member(tenant, "caller", permission_sets=["caller"])
    member(tenant, "clerk", permission_sets=["clerk"])
    link = 'href="/setup/tokens">API tokens</a>'
    sign_in(client, tenant, f"caller@{tenant.slug}.test", PASSWORD)
    assert link in client.get("/").get_data(as_text=True)
    assert client.get("/setup/tokens").status_code == 200
    other = tenant.app.test_client()
    sign_in(other, tenant, f"clerk@{tenant.slug}.test", PASSWORD)
    assert link not in other.get("/").get_data(as_text=True)
