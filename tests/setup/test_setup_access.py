"""Setup → Access: groups, the role tree, permission set grids, sharing settings and the
explainer, each acting through the same services as the API (what the screen saves is
what the API then enforces), refusing bad input with a clear message and changing
nothing, and closed to users without the manage_users right."""

from __future__ import annotations

from typing import Any

from access_helpers import PASSWORD, create, member, recompute, roles
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "number"},
    ],
}


def post(client: Any, path: str, data: dict[str, Any] | None = None) -> Any:
    token = csrf_token(client.get("/", headers=HTML).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=HTML)


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.get_data(as_text=True)
    return str(response.get_data(as_text=True))


def admin(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)


def deal_object(tenant: TenantFixture) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects", json=DEAL)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_role_tree_nests_counts_users_and_refuses_a_loop(
    client: Any, tenant: TenantFixture
) -> None:
    roles(tenant, ("ceo", None), ("sales_vp", "ceo"), ("rep", "sales_vp"))
    member(tenant, "alice", role="rep")
    member(tenant, "bob", role="rep")
    admin(client, tenant)
    tree = page(client, "/setup/roles")
    # rep is nested two lists deep under ceo, with its two users.
    ceo, vp, rep = (
        tree.index(f'href="/setup/roles/{name}"') for name in ("ceo", "sales_vp", "rep")
    )
    assert ceo < vp < rep
    assert tree[ceo:rep].count("<ul>") == 2 and "2 users" in tree[rep:]

    loop = post(client, "/setup/roles/ceo", {"label": "CEO", "parent": "rep"})
    assert loop.status_code == 422
    assert "rep sits below ceo already" in loop.get_data(as_text=True)
    assert tenant.api("GET", "/api/v1/meta/roles/ceo").get_json().get("parent") is None

    moved = post(client, "/setup/roles/rep", {"label": "Sales rep", "parent": "ceo"})
    assert moved.status_code == 303
    assert tenant.api("GET", "/api/v1/meta/roles/rep").get_json() == {
        "api_name": "rep",
        "label": "Sales rep",
        "parent": "ceo",
    }
    created = post(
        client, "/setup/roles", {"api_name": "intern", "label": "Intern", "parent": "rep"}
    )
    assert created.status_code == 303
    assert tenant.api("GET", "/api/v1/meta/roles/intern").get_json()["parent"] == "rep"


def test_a_role_held_by_users_is_not_deleted(client: Any, tenant: TenantFixture) -> None:
    roles(tenant, ("ceo", None), ("rep", "ceo"))
    member(tenant, "alice", role="rep")
    admin(client, tenant)
    assert "1 user holds it" in page(client, "/setup/roles/rep/delete")
    refused = post(client, "/setup/roles/rep/delete")
    assert refused.status_code == 409
    assert "1 user(s) hold &#39;rep&#39;; reassign them first." in refused.get_data(as_text=True)
    assert post(client, "/setup/roles/ceo/delete").status_code == 409  # rep sits below
    assert tenant.api("GET", "/api/v1/meta/roles/rep").status_code == 200
    unheld = post(client, "/setup/roles", {"api_name": "temp", "label": "Temp"})
    assert unheld.status_code == 303
    assert post(client, "/setup/roles/temp/delete").status_code == 303
    assert tenant.api("GET", "/api/v1/meta/roles/temp").status_code == 404


def test_the_permission_set_grid_changes_what_a_user_may_do(
    client: Any, tenant: TenantFixture
) -> None:
    deal_object(tenant)
    permission_set(tenant, "sales")
    worker = member(tenant, "worker", permission_sets=["sales"])
    deal = create(tenant, "Deal", Name="Big one", Amount=100)
    assert worker.api("GET", "/api/v1/objects/Deal/records").status_code == 403
    admin(client, tenant)
    grid = page(client, "/setup/permission-sets/sales")
    assert 'name="right:Deal:read"' in grid and "Read on Deal</label>" in grid
    saved = post(
        client,
        "/setup/permission-sets/sales",
        {
            "label": "Sales",
            "right:Deal:read": "on",
            "right:Deal:view_all": "on",
            "right:Deal:edit": "on",
            "system": ["api", "view_audit"],
        },
    )
    assert saved.status_code == 303
    document = tenant.api("GET", "/api/v1/meta/permission-sets/sales").get_json()
    assert document["objects"] == {"Deal": {"read": True, "view_all": True, "edit": True}}
    assert document["system"] == ["api", "view_audit"]
    assert worker.ids("Deal") == {deal}
    assert worker.api("GET", "/api/v1/audit").status_code == 200

    # The field grid: Amount hidden from the set's holders.
    fields = page(client, "/setup/permission-sets/sales/fields/Deal")
    assert 'name="read:Amount" checked' in fields.replace('id="read-Amount" ', "")
    hidden = post(
        client, "/setup/permission-sets/sales/fields/Deal", {"read:Name": "on", "edit:Name": "on"}
    )
    assert hidden.status_code == 303, hidden.get_data(as_text=True)
    record = worker.api("GET", f"/api/v1/objects/Deal/records/{deal}").get_json()
    assert "Amount" not in record and record["Name"] == "Big one"
    revisions = tenant.api("GET", "/api/v1/audit", query_string={"action": "metadata.changed"})
    assert revisions.get_json()["data"], "the grid's saves are metadata revisions, audited"


def test_the_api_saves_field_level_security_over_earlier_field_rights(
    tenant: TenantFixture,
) -> None:
    """A permission set's ``fields`` is a mapping: its revision diff compares it whole."""
    deal_object(tenant)
    body = {"api_name": "fls", "label": "FLS", "fields": {"Deal.Amount": {"read": False}}}
    assert tenant.api("POST", "/api/v1/meta/permission-sets", json=body).status_code == 201
    body["fields"] = {"Deal.Amount": {"edit": False}}
    replaced = tenant.api("PUT", "/api/v1/meta/permission-sets/fls", json=body)
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert replaced.get_json()["fields"] == {"Deal.Amount": {"edit": False}}


def test_a_permission_set_is_created_and_a_held_one_is_not_deleted(
    client: Any, tenant: TenantFixture
) -> None:
    admin(client, tenant)
    bad = post(client, "/setup/permission-sets", {"api_name": "9bad", "label": ""})
    assert bad.status_code == 422 and "does not match" in bad.get_data(as_text=True)
    made = post(client, "/setup/permission-sets", {"api_name": "auditor", "label": "Auditor"})
    assert made.status_code == 303 and made.headers["Location"].endswith("/auditor")
    member(tenant, "watcher", permission_sets=["auditor"])
    refused = post(client, "/setup/permission-sets/auditor/delete")
    assert refused.status_code == 409 and "reassign them first" in refused.get_data(as_text=True)
    listed = page(client, "/setup/permission-sets")
    assert "Auditor" in listed and "Standard user" in listed


def test_groups_are_created_edited_and_deleted(client: Any, tenant: TenantFixture) -> None:
    roles(tenant, ("rep", None))
    alice = member(tenant, "alice")
    admin(client, tenant)
    made = post(
        client,
        "/setup/groups/new",
        {"api_name": "emea", "label": "EMEA", "users": [str(alice.id)], "role:rep": "role"},
    )
    assert made.status_code == 303
    group = tenant.api("GET", "/api/v1/groups/emea").get_json()
    assert {(m["kind"], m["member"]) for m in group["members"]} == {
        ("user", str(alice.id)),
        ("role", "rep"),
    }
    form = page(client, "/setup/groups/emea")
    assert f'value="{alice.id}" checked' in form
    post(client, "/setup/groups/emea", {"label": "Europe", "role:rep": "role_and_subordinates"})
    group = tenant.api("GET", "/api/v1/groups/emea").get_json()
    assert group["label"] == "Europe"
    assert group["members"] == [{"kind": "role_and_subordinates", "member": "rep"}]
    bad = post(client, "/setup/groups/new", {"api_name": "has space", "label": "X"})
    assert bad.status_code == 422 and "Use a letter" in bad.get_data(as_text=True)
    assert post(client, "/setup/groups/emea/delete").status_code == 303
    assert tenant.api("GET", "/api/v1/groups/emea").status_code == 404
    saved = tenant.api("GET", "/api/v1/audit", query_string={"action": "group.saved"})
    assert saved.get_json()["data"][0]["target_id"] == "emea"


def test_sharing_defaults_and_rules_save_through_the_metadata_service(
    client: Any, tenant: TenantFixture
) -> None:
    deal_object(tenant)
    roles(tenant, ("rep", None))
    tenant.api("POST", "/api/v1/groups", json={"api_name": "desk", "label": "Desk"})
    admin(client, tenant)
    assert "Private" in page(client, "/setup/sharing")
    rule = {
        "name": "big_deals",
        "kind": "criteria",
        "criteria": "Amount > 1000",
        "share_with": "group:desk",
        "access": "read",
    }
    assert post(client, "/setup/sharing/Deal/rules/new", rule).status_code == 303
    owner_rule = {
        "name": "reps",
        "kind": "owner",
        "owned_by": "role_sub:rep",
        "share_with": "group:desk",
        "access": "read_write",
    }
    assert post(client, "/setup/sharing/Deal/rules/new", owner_rule).status_code == 303
    settings = tenant.api("GET", "/api/v1/meta/sharing-rules/Deal").get_json()
    assert settings["sharing_model"] == "private"
    assert settings["sharing_rules"] == [
        {
            "name": "big_deals",
            "criteria": "Amount > 1000",
            "share_with": {"group": "desk"},
            "access": "read",
        },
        {
            "name": "reps",
            "owned_by": {"role": "rep", "subordinates": True},
            "share_with": {"group": "desk"},
            "access": "read_write",
        },
    ]
    bad = post(client, "/setup/sharing/Deal/rules/new", {**rule, "name": "x", "criteria": "Nope >"})
    assert bad.status_code == 422
    edited = post(client, "/setup/sharing/Deal/rules/big_deals", {**rule, "access": "read_write"})
    assert edited.status_code == 303
    assert post(client, "/setup/sharing/Deal/rules/reps/delete").status_code == 303
    assert post(client, "/setup/sharing/Deal", {"sharing_model": "read"}).status_code == 303
    settings = tenant.api("GET", "/api/v1/meta/sharing-rules/Deal").get_json()
    assert settings["sharing_model"] == "read"
    assert [(r["name"], r["access"]) for r in settings["sharing_rules"]] == [
        ("big_deals", "read_write")
    ]
    parent = post(client, "/setup/sharing/Deal", {"sharing_model": "controlled_by_parent"})
    assert parent.status_code == 422 and "Name a required lookup" in parent.get_data(as_text=True)


def test_the_explainer_shows_why_a_user_reads_a_record(client: Any, tenant: TenantFixture) -> None:
    deal_object(tenant)
    permission_set(tenant, "sales", objects={"Deal": {"read": True, "create": True, "edit": True}})
    roles(tenant, ("boss", None), ("rep", "boss"))
    boss = member(tenant, "boss", role="boss", permission_sets=["sales"])
    rep = member(tenant, "rep", role="rep", permission_sets=["sales"])
    deal = create(tenant, "Deal", token=rep.token, Name="Acme expansion")
    recompute(tenant)
    admin(client, tenant)
    found = page(client, f"/setup/explain?user={boss.id}&object=Deal&q=acme")
    assert f"record={deal}" in found and "Acme expansion" in found
    shown = page(client, f"/setup/explain?user={boss.id}&object=Deal&record={deal}")
    assert "Role hierarchy" in shown and f"rep@{tenant.slug}.test, is below the user" in shown
    assert "Read: yes" in shown and "Delete: no" in shown
    other = member(tenant, "stranger", permission_sets=["sales"])
    refused = page(client, f"/setup/explain?user={other.id}&object=Deal&record={deal}")
    assert "Read: no" in refused and "nothing shares it with them" in refused
    missing = page(
        client,
        f"/setup/explain?user={other.id}&object=Deal&record=00000000-0000-0000-0000-000000000000",
        404,
    )
    assert "No Deal record" in missing


def test_the_access_screens_need_the_manage_users_right(client: Any, tenant: TenantFixture) -> None:
    deal_object(tenant)
    permission_set(tenant, "builder", all_objects={"read": True}, system=["manage_metadata"])
    member(tenant, "builder", permission_sets=["builder"])
    sign_in(client, tenant, f"builder@{tenant.slug}.test", PASSWORD)
    for path in (
        "/setup/roles",
        "/setup/groups",
        "/setup/permission-sets",
        "/setup/permission-sets/standard_user",
        "/setup/sharing",
        "/setup/sharing/Deal",
        "/setup/explain",
    ):
        assert client.get(path, headers=HTML).status_code == 403, path
    assert post(client, "/setup/roles", {"api_name": "x", "label": "X"}).status_code == 403
    assert (
        post(client, "/setup/permission-sets/standard_user", {"label": "Mine"}).status_code == 403
    )
    assert tenant.api("GET", "/api/v1/meta/roles").get_json()["data"] == []
    overview = page(client, "/setup/")
    assert "Permission sets" not in overview and "Audit trail" not in overview
