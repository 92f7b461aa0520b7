"""Setup → Access in a real browser: inviting a user who opens the link and signs in,
the permission set grid, the role tree refusing a loop, the explainer, the audit trail's
filters; each screen checked for accessibility and photographed at both widths, with 200
users (some with very long emails) in the workspace."""

from __future__ import annotations

import re
from typing import Any

import pytest
from access_helpers import PASSWORD, create, member, recompute, roles
from access_worlds import permission_set
from conftest import TenantFixture
from playwright.sync_api import expect

from trellis.identity.users import create_user
from trellis.records.users import sync_users

NEW_PASSWORD = "violet harbour lantern"
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "number", "label": "Amount"},
        {"api_name": "Stage", "type": "text"},
    ],
}


@pytest.fixture()
def crowd(tenant: TenantFixture) -> TenantFixture:
    """200 more users, a few with long emails and names, some deactivated."""
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        for index in range(200):
            local = (
                f"firstname.middlename.lastname.department.team{index}"
                if index % 40 == 0
                else f"person{index:03}"
            )
            create_user(
                connection,
                tenant.actor,
                email=f"{local}@a-rather-long-subsidiary-domain.{tenant.slug}.test",
                password=None,
                display_name=f"Person number {index}",
            )
        sync_users(connection, state.metadata_cache, tenant.id, tenant.slug)
    return tenant


def test_an_invited_user_opens_the_link_and_is_signed_in(
    admin_page: Any,
    crowd: TenantFixture,
    browser: Any,
    live_server: str,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = admin_page
    page.goto("/setup/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    assert "Page 1 of 5" in page.locator(".access-pager").inner_text()
    assert_accessible(page)
    screenshot(page, "setup-users")
    page.get_by_label("Search users").fill("department.team40")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=re.compile("department.team40@"))).to_be_visible()
    screenshot(page, "setup-users-search")

    page.get_by_role("link", name="Invite user").click()
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Invite and make link").click()
    expect(page.get_by_text("Enter a valid email address.").first).to_be_visible()
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "setup-user-invite-errors")
    email = f"newcomer@{crowd.slug}.test"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Read only").check()
    page.get_by_label("Standard user").uncheck()
    page.get_by_role("button", name="Invite and make link").click()
    link = page.get_by_label("One-time link").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invite/[0-9a-f]{32}\.[\w-]{43}", link)
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-user-link")

    # The invitee, in a browser of their own.
    context = browser.new_context(base_url=live_server)
    invitee = context.new_page()
    try:
        invitee.goto(link)
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Welcome to Trellis")
        assert_accessible(invitee)
        screenshot(invitee, "invite-page")
        invitee.get_by_label("New password").fill("short")
        invitee.get_by_label("Repeat the password").fill("short")
        invitee.get_by_role("button", name="Set password and sign in").click()
        expect(invitee.locator("#password-error")).to_contain_text("Use at least")
        invitee.get_by_label("New password").fill(NEW_PASSWORD)
        invitee.get_by_label("Repeat the password").fill(NEW_PASSWORD)
        invitee.get_by_role("button", name="Set password and sign in").click()
        invitee.wait_for_url(f"{live_server}/")
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Home")
        invitee.goto(link)
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Link not valid")
    finally:
        context.close()
    page.goto("/setup/users?q=newcomer")
    row = page.get_by_role("row").filter(has_text=email)
    expect(row.get_by_text("Active")).to_be_visible()
    row.get_by_role("link", name=email).click()
    assert_accessible(page)
    screenshot(page, "setup-user-edit")
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_text("end 1 browser session and revoke 0 API tokens")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-user-deactivate")


def test_the_permission_set_grid_saves_rights_and_field_access(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=DEAL).status_code == 201
    permission_set(tenant, "sales")
    worker = member(tenant, "worker", permission_sets=["sales"])
    deal = create(tenant, "Deal", Name="Big one", Amount=5)
    page = admin_page
    page.goto("/setup/permission-sets")
    assert_accessible(page)
    screenshot(page, "setup-permission-sets")
    page.get_by_role("link", name="sales").click()
    page.get_by_label("Read on Deal", exact=True).check()
    page.get_by_label("View all on Deal").check()
    page.get_by_label("View the audit trail").check()
    assert_accessible(page)
    screenshot(page, "setup-permission-set-grid")
    page.get_by_role("button", name="Save permission set").click()
    expect(page.get_by_text("Saved permission set sales.")).to_be_visible()
    assert page.get_by_label("Read on Deal", exact=True).is_checked()
    assert worker.ids("Deal") == {deal}

    page.get_by_role("link", name="Field access on Deal").click()
    page.get_by_label("Read Amount").uncheck()
    page.get_by_label("Edit Stage").uncheck()
    assert_accessible(page)
    screenshot(page, "setup-permission-set-fields")
    page.get_by_role("button", name="Save field access").click()
    expect(page.get_by_text("Saved the field access")).to_be_visible()
    record = worker.api("GET", f"/api/v1/objects/Deal/records/{deal}").get_json()
    assert "Amount" not in record and "Stage" in record
    stage = worker.api("PATCH", f"/api/v1/objects/Deal/records/{deal}", json={"Stage": "Won"})
    assert stage.status_code == 403


def test_the_role_tree_nests_roles_and_refuses_a_loop(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    roles(
        tenant,
        ("ceo", None),
        ("sales_vp", "ceo"),
        ("emea_sales_director_for_enterprise_accounts", "sales_vp"),
        ("rep", "emea_sales_director_for_enterprise_accounts"),
        ("support", "ceo"),
    )
    member(tenant, "alice", role="rep")
    page = admin_page
    page.goto("/setup/roles")
    tree = page.get_by_role("list", name="Role hierarchy")
    rep = tree.get_by_role("listitem").filter(has=page.get_by_role("link", name="rep", exact=True))
    expect(rep.last.get_by_text("1 user")).to_be_visible()
    # rep sits four levels deep: four nested lists from the tree's top.
    assert page.locator(".role-tree ul ul ul a", has_text=re.compile("^rep$")).count() == 1
    page.get_by_label("Name").fill("intern")
    page.get_by_label("Label").fill("Intern")
    page.get_by_label("Reports to").select_option("rep")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("Created role Intern.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-roles")

    page.get_by_role("link", name="ceo", exact=True).click()
    page.get_by_label("Reports to").select_option("intern")
    page.get_by_role("button", name="Save role").click()
    expect(page.locator("#field-parent-error")).to_have_text(
        "intern sits below ceo already: moving ceo under it would make a loop."
    )
    assert_accessible(page)
    screenshot(page, "setup-role-loop")
    assert tenant.api("GET", "/api/v1/meta/roles/ceo").get_json().get("parent") is None


def test_the_explainer_shows_the_steps_for_a_user_and_a_record(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=DEAL).status_code == 201
    permission_set(tenant, "sales", objects={"Deal": {"read": True, "create": True, "edit": True}})
    roles(tenant, ("boss", None), ("rep", "boss"))
    member(tenant, "boss", role="boss", permission_sets=["sales"])
    rep = member(tenant, "rep", role="rep", permission_sets=["sales"])
    create(tenant, "Deal", token=rep.token, Name="Acme expansion")
    recompute(tenant)
    page = admin_page
    page.goto("/setup/explain")
    page.get_by_label("User", exact=True).select_option(label=f"boss@{tenant.slug}.test")
    page.get_by_label("Object", exact=True).select_option("Deal")
    page.get_by_label("Find the record by name").fill("acme")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Acme expansion").click()
    verdict = page.get_by_role("list", name="Verdict")
    expect(verdict).to_contain_text("Read: yes")
    expect(verdict).to_contain_text("Edit: yes")
    expect(verdict).to_contain_text("Delete: no")
    steps = page.locator(".explain-step-title").all_inner_texts()
    assert steps == ["Object rights", "Org-wide default", "Role hierarchy"]
    assert_accessible(page)
    screenshot(page, "setup-explain")


def test_the_audit_trail_filters_and_opens_details(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    worker = member(tenant, "worker")
    tenant.api("PATCH", f"/api/v1/users/{worker.id}", json={"permission_sets": ["read_only"]})
    page = admin_page
    page.goto("/setup/audit")
    assert_accessible(page)
    screenshot(page, "setup-audit")
    page.get_by_label("Action").select_option("user.access_changed")
    page.get_by_role("button", name="Filter").click()
    actions = page.locator(".audit-action")
    expect(actions).to_have_count(1)
    page.get_by_text("Details").click()
    expect(page.locator(".audit-details dd").first).to_contain_text("read_only")
    assert_accessible(page)
    screenshot(page, "setup-audit-filtered")
    page.get_by_label("From").fill("2099-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()


def test_groups_and_sharing_screens(
    admin_page: Any, crowd: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    assert crowd.api("POST", "/api/v1/meta/objects", json=DEAL).status_code == 201
    roles(crowd, ("rep", None))
    page = admin_page
    page.goto("/setup/groups/new")
    page.locator("#field-api_name").fill("emea_desk")
    page.get_by_label("Label").fill("EMEA desk")
    page.get_by_label("Filter users").fill("person007")
    page.get_by_label(re.compile("^person007@")).check()
    page.get_by_label("Rep").select_option("role_and_subordinates")
    assert_accessible(page)
    screenshot(page, "setup-group-form")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("link", name="EMEA desk")).to_be_visible()
    expect(page.get_by_text("1 user, 1 role, 0 groups")).to_be_visible()
    screenshot(page, "setup-groups")

    page.goto("/setup/sharing/Deal/rules/new")
    page.locator("#field-name").fill("big_deals")
    page.get_by_label("Matching a formula").check()
    page.get_by_label("Criteria").fill("Amount > 1000")
    page.get_by_label("Share with").select_option("group:emea_desk")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("link", name="big_deals", exact=True)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-sharing-object")
    rules = crowd.api("GET", "/api/v1/meta/sharing-rules/Deal").get_json()["sharing_rules"]
    assert rules == [
        {
            "name": "big_deals",
            "criteria": "Amount > 1000",
            "share_with": {"group": "emea_desk"},
            "access": "read",
        }
    ]
    page.get_by_role("link", name="big_deals", exact=True).click()
    # The formula editor has set up its box (its pickers are the script's) before typing.
    expect(page.get_by_role("button", name="Insert field").first).to_be_visible()
    page.get_by_label("Criteria").fill("Amount >")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#field-criteria-error")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-sharing-rule-error")


def test_a_user_without_the_right_gets_a_403_page(
    page: Any, tenant: TenantFixture, sign_in: Any
) -> None:
    member(tenant, "plain")
    sign_in(page, tenant.slug, f"plain@{tenant.slug}.test", PASSWORD)
    response = page.goto("/setup/permission-sets")
    assert response is not None and response.status == 403
