"""Setup → Audit trail: the events of GET /api/v1/audit as a table, filtered by action,
actor, target type and dates, paged, for holders of the view_audit right only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import sign_in

from trellis.access.audit import record_audit

HTML = {"Accept": "text/html"}


def events(tenant: TenantFixture, count: int, action: str = "token.created") -> None:
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        for index in range(count):
            record_audit(
                connection,
                tenant.actor,
                action,
                target_type="api_token",
                target_id=f"token-{index}",
                details={"n": index, "scopes": ["read"]},
            )


def shown_actions(html: str) -> list[str]:
    return re.findall(r'<code class="audit-action">([^<]+)</code>', html)


def test_the_trail_filters_by_action_actor_target_and_date(
    client: Any, tenant: TenantFixture
) -> None:
    events(tenant, 2)
    worker = member(tenant, "worker")
    tenant.api("PATCH", f"/api/v1/users/{worker.id}", json={"permission_sets": ["read_only"]})
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)

    everything = client.get("/setup/audit", headers=HTML).get_data(as_text=True)
    assert {"token.created", "user.access_changed", "login.succeeded"} <= set(
        shown_actions(everything)
    )
    by_action = client.get("/setup/audit?action=user.access_changed", headers=HTML)
    assert set(shown_actions(by_action.get_data(as_text=True))) == {"user.access_changed"}
    by_target = client.get("/setup/audit?target_type=api_token", headers=HTML)
    html = by_target.get_data(as_text=True)
    assert shown_actions(html) == ["token.created", "token.created"]
    # Details open on demand: the event's own details, as recorded.
    assert "<summary>Details</summary>" in html and "token-1" in html
    by_actor = client.get(f"/setup/audit?actor={tenant.admin_id}", headers=HTML)
    assert "login.succeeded" in shown_actions(by_actor.get_data(as_text=True))
    assert "token.created" not in shown_actions(by_actor.get_data(as_text=True))

    today = dt.datetime.now(dt.UTC).date()
    since_today = client.get(f"/setup/audit?since={today}&until={today}", headers=HTML)
    assert len(shown_actions(since_today.get_data(as_text=True))) >= 4
    tomorrow = today + dt.timedelta(days=1)
    later = client.get(f"/setup/audit?since={tomorrow}", headers=HTML).get_data(as_text=True)
    assert shown_actions(later) == [] and "Nothing matches these filters." in later


def test_bad_filters_are_named_and_left_out(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    response = client.get("/setup/audit?since=yesterday&actor=nobody", headers=HTML)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give a date as YYYY-MM-DD." in html and "Choose a user from the list." in html
    assert "login.succeeded" in shown_actions(html)
    backwards = client.get("/setup/audit?since=2026-12-03&until=2026-12-01", headers=HTML)
    assert "The end is before the start." in backwards.get_data(as_text=True)


def test_the_trail_pages_by_cursor(client: Any, tenant: TenantFixture) -> None:
    events(tenant, 60)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    first = client.get("/setup/audit?target_type=api_token", headers=HTML).get_data(as_text=True)
    assert len(shown_actions(first)) == 50 and "token-59" in first
    older = re.search(r'href="(/setup/audit\?[^"]*cursor=\d+)"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&"), headers=HTML)
    html = second.get_data(as_text=True)
    assert len(shown_actions(html)) == 10 and "token-0" in html and "token-59" not in html
    assert "Older events" not in html and "Newest" in html


def test_the_trail_needs_the_view_audit_right(client: Any, tenant: TenantFixture) -> None:
    permission_set(tenant, "admins", all_objects={"read": True}, system=["manage_users"])
    member(tenant, "usermanager", permission_sets=["admins"])
    sign_in(client, tenant, f"usermanager@{tenant.slug}.test", PASSWORD)
    assert client.get("/setup/audit", headers=HTML).status_code == 403
    assert client.get("/setup/users", headers=HTML).status_code == 200
    other = tenant.app.test_client()
    permission_set(tenant, "auditors", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "auditor", permission_sets=["auditors"])
    sign_in(other, tenant, f"auditor@{tenant.slug}.test", PASSWORD)
    assert other.get("/setup/audit", headers=HTML).status_code == 200
    assert other.get("/setup/users", headers=HTML).status_code == 403


def test_the_api_filters_by_target_type(tenant: TenantFixture) -> None:
    events(tenant, 1)
    response = tenant.api("GET", "/api/v1/audit", query_string={"target_type": "api_token"})
    assert [event["action"] for event in response.get_json()["data"]] == ["token.created"]
