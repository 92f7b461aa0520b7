"""Setup's list-view editor: shared views created, changed and deleted through the list
views service (audited as metadata changes), checked as the API checks them (a mistake
is a 422 with its message by the field, and nothing saved), the column moves and filter
lines working without JavaScript, deleting asking first; refused without the right."""

from __future__ import annotations

from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from helpers import post_form as post
from layout_worlds import build_world
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
VIEWS = "/api/v1/objects/Account/list-views"


def views(tenant: TenantFixture) -> dict[str, dict[str, Any]]:
    return {view["api_name"]: view for view in tenant.api("GET", VIEWS).get_json()["data"]}


def new_view_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "label": "Retail accounts",
        "api_name": "retail",
        "visibility": "shared",
        "order": ["Name", "Industry", "Phone", "Notes", "created_at", "updated_at"],
        "column": ["Name", "Phone"],
        "f0.field": "Industry",
        "f0.op": "eq",
        "f0.value": "Retail",
        "sort_field": "Name",
        "sort_dir": "asc",
        "save": "1",
    }
    form.update(changes)
    return form


def test_a_shared_view_is_created_edited_and_audited(client: Any, tenant: TenantFixture) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    listing = client.get("/setup/list-views/Account", headers=HTML).get_data(as_text=True)
    assert "All Accounts" in listing and "Generated" in listing
    saved = post(client, "/setup/list-views/Account/new", new_view_form())
    assert saved.status_code == 303, saved.get_data(as_text=True)
    view = views(tenant)["retail"]
    assert view["visibility"] == "shared" and view["label"] == "Retail accounts"
    assert [column["field"] for column in view["columns"]] == ["Name", "Phone"]
    assert view["filters"] == [{"field": "Industry", "operator": "eq", "value": "Retail"}]
    assert view["sort"] == "Name"
    edited = post(
        client,
        "/setup/list-views/Account/retail",
        {
            "label": "Retail, by phone",
            "order": ["Phone", "Name", "Industry"],
            "column": ["Phone", "Name", "Industry"],
            "f0.field": "Phone",
            "f0.op": "notnull",
            "sort_field": "Phone",
            "sort_dir": "desc",
            "save": "1",
        },
    )
    assert edited.status_code == 303, edited.get_data(as_text=True)
    view = views(tenant)["retail"]
    assert view["label"] == "Retail, by phone" and view["sort"] == "-Phone"
    assert [column["field"] for column in view["columns"]] == ["Phone", "Name", "Industry"]
    assert view["filters"] == [{"field": "Phone", "operator": "isnull", "value": "false"}]
    audit = tenant.api("GET", "/api/v1/audit").get_json()["data"]
    changes = [
        entry["details"]["change"]
        for entry in audit
        if entry["action"] == "metadata.changed" and entry["target_id"] == "Account.retail"
    ]
    assert sorted(changes) == ["created", "updated"]


def test_a_wrong_operator_or_a_taken_name_is_refused_and_nothing_saved(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    refused = post(
        client, "/setup/list-views/Account/new", new_view_form(**{"f0.op": "gt", "f0.value": "x"})
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The view was not saved" in html
    assert "Operator &#39;gt&#39; does not apply to Industry" in html
    assert 'id="lv-filter-0-error"' in html  # next to its line
    assert "retail" not in views(tenant)
    assert post(client, "/setup/list-views/Account/new", new_view_form()).status_code == 303
    taken = post(client, "/setup/list-views/Account/new", new_view_form(label="Again"))
    assert taken.status_code == 422
    assert "Already in use." in taken.get_data(as_text=True)
    assert views(tenant)["retail"]["label"] == "Retail accounts"
    unnamed = post(client, "/setup/list-views/Account/new", new_view_form(label="", api_name="x"))
    assert unnamed.status_code == 422 and "x" not in views(tenant)


def test_moves_and_filter_lines_redraw_the_form_without_saving(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    form = new_view_form(move="Phone:up")
    del form["save"]
    moved = post(client, "/setup/list-views/Account/new", form)
    assert moved.status_code == 200
    html = moved.get_data(as_text=True)
    assert html.index('value="Phone:up"') < html.index('value="Industry:up"')
    form = new_view_form(add_filter="1")
    del form["save"]
    added = post(client, "/setup/list-views/Account/new", form).get_data(as_text=True)
    assert 'name="f1.field"' in added
    assert "retail" not in views(tenant)


def test_deleting_a_view_asks_first_and_says_what_happens(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    assert post(client, "/setup/list-views/Account/new", new_view_form()).status_code == 303
    confirm = client.get("/setup/list-views/Account/retail/delete", headers=HTML)
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Delete the view “Retail accounts”?" in text
    assert "Everyone who can see accounts loses it" in text
    assert "retail" in views(tenant)
    deleted = post(client, "/setup/list-views/Account/retail/delete", {})
    assert deleted.status_code == 303
    assert "retail" not in views(tenant)
    audit = tenant.api("GET", "/api/v1/audit").get_json()["data"]
    assert any(
        entry["target_id"] == "Account.retail" and entry["details"]["change"] == "deleted"
        for entry in audit
    )


def test_without_the_right_the_list_view_editor_is_refused(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    permission_set(tenant, "worker", all_objects={"read": True})
    member(tenant, "worker", permission_sets=["worker"])
    sign_in(client, tenant, f"worker@{tenant.slug}.test", PASSWORD)
    assert client.get("/setup/list-views/Account/new", headers=HTML).status_code == 403
    token = csrf_token(client.get("/", headers=HTML).get_data(as_text=True))
    refused = client.post(
        "/setup/list-views/Account/new",
        data={"csrf_token": token, **new_view_form()},
        headers=HTML,
    )
    assert refused.status_code == 403 and "retail" not in views(tenant)
