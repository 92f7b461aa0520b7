"""The record page in a real browser, on the sales CRM example: the layout's tabs and
sections by keyboard, the path, related lists, history, inline edit, field-level security
and sharing as the API applies them, accessibility and screenshots of each state."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from access_helpers import PASSWORD, Member, member, sharing
from access_worlds import permission_set
from conftest import TenantFixture
from factories import load_sales_example
from flask import Flask

OPPORTUNITIES = "/api/v1/objects/Opportunity/records"


@dataclasses.dataclass
class CrmWorld:
    tenant: TenantFixture
    account: dict[str, Any]  # an account with opportunities, contacts and tasks
    deal: dict[str, Any]  # an open opportunity of that account, with an amount
    bare_deal: dict[str, Any]  # an open opportunity without an amount
    rep: Member
    rep_email: str
    rep_deal: dict[str, Any]  # an opportunity the rep owns


def api_json(tenant: TenantFixture, method: str, path: str, **kwargs: Any) -> Any:
    response = tenant.api(method, path, **kwargs)
    assert response.status_code < 300, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture()
def world(app: Flask, tenant: TenantFixture) -> CrmWorld:
    load_sales_example(app, tenant, accounts=3, owners=[tenant.admin_id])
    account = api_json(
        tenant, "GET", "/api/v1/objects/Account/records", query_string={"sort": "Name"}
    )["data"][0]
    deal = api_json(
        tenant,
        "POST",
        OPPORTUNITIES,
        json={
            "Name": "Expansion to the Nordics",
            "Stage": "Prospecting",
            "Account": account["id"],
            "Amount": 25000,
            "Probability": 20,
            "CloseDate": (dt.date.today() + dt.timedelta(days=45)).isoformat(),
            "NextStep": "Send the proposal",
        },
    )
    bare = api_json(
        tenant,
        "POST",
        OPPORTUNITIES,
        json={"Name": "Pilot without a budget", "Stage": "Prospecting", "Account": account["id"]},
    )
    permission_set(
        tenant,
        "rep",
        objects={
            name: {"read": True, "create": True, "edit": True}
            for name in ("Account", "Contact", "Opportunity", "Task", "OpportunityLineItem")
        },
        fields={"Opportunity.Amount": {"read": False}, "Opportunity.NextStep": {"edit": False}},
    )
    rep = member(tenant, "rep", permission_sets=["rep"])
    sharing(tenant, "Opportunity", sharing_model="private")
    rep_deal = api_json(
        tenant,
        "POST",
        OPPORTUNITIES,
        json={
            "Name": "Rep's own deal",
            "Stage": "Qualification",
            "Amount": 900,
            "Account": account["id"],
            "owner_id": str(rep.id),
        },
    )
    return CrmWorld(tenant, account, deal, bare, rep, f"rep@{tenant.slug}.test", rep_deal)


def words(locator: Any) -> str:
    """A locator's text as read aloud: its words, one space apart."""
    return " ".join(locator.text_content().split())


def focused(page: Any, script: str, expected: str) -> None:
    """Wait until ``script`` (about document.activeElement) gives ``expected``: the focus
    moves once a fetched form or page is in place. (Playwright's wait_for_function
    evaluates a string, which the page's Content-Security-Policy forbids.)"""
    for _ in range(100):
        if page.evaluate(script) == expected:
            return
        page.wait_for_timeout(50)
    assert page.evaluate(script) == expected


def record_url(api_name: str, record: dict[str, Any]) -> str:
    return f"/o/{api_name}/{record['id']}"


def test_a_record_opens_from_its_url_with_its_layout(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    response = page.goto(record_url("Opportunity", world.deal))
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == world.deal["Name"]
    assert page.locator(".record-object").inner_text() == "OPPORTUNITY"
    assert page.get_by_role("link", name="Edit", exact=True).get_attribute("href") == (
        record_url("Opportunity", world.deal) + "/edit"
    )
    tabs = page.get_by_role("tab")
    assert tabs.all_inner_texts() == ["Details", "History"]
    assert tabs.first.get_attribute("aria-selected") == "true"
    details = page.locator("details.record-section")
    assert details.nth(0).get_attribute("open") is not None
    assert details.nth(1).get_attribute("open") is None  # system information, folded
    assert page.get_by_text("Opportunity information", exact=True).is_visible()
    # The stage bar marks the current stage.
    current = page.locator(".path [aria-current=step]")
    assert current.inner_text().startswith("Prospecting")
    assert page.locator(".path-step").count() == 7
    # Values as the records API has them: the account by its name, as a link.
    account_link = page.locator("#field-Account .field-text a")
    assert account_link.inner_text() == world.account["Name"]
    assert account_link.get_attribute("href") == record_url("Account", world.account)
    assert page.locator("#field-Amount .field-text").inner_text() == "25,000.00"
    assert page.get_by_role("link", name="Edit Amount").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert_accessible(page)
    screenshot(page, "record-page")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "record-phone")


def test_tabs_and_sections_work_by_keyboard(
    world: CrmWorld, admin_page: Any, assert_accessible: Any
) -> None:
    page = admin_page
    page.goto(record_url("Opportunity", world.deal))
    details, history = (
        page.get_by_role("tab", name="Details"),
        page.get_by_role("tab", name="History"),
    )
    assert history.get_attribute("tabindex") == "-1"  # one tab stop for the tablist
    details.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-history"
    page.keyboard.press("Enter")
    page.wait_for_url("**?tab=history")
    assert history.get_attribute("aria-selected") == "true"
    assert page.get_by_role("tabpanel").get_attribute("aria-labelledby") == "tab-history"
    assert page.get_by_role("heading", name="Field history").is_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press(" ")
    page.get_by_role("heading", name="Opportunity information").wait_for()
    assert details.get_attribute("aria-selected") == "true"
    # A folded section opens and closes from the keyboard.
    system = page.locator("summary", has_text="System information")
    owner = page.locator("#field-owner_id")
    assert not owner.is_visible()
    system.focus()
    page.keyboard.press("Enter")
    assert owner.is_visible()
    assert owner.locator("a").inner_text() == "Admin"
    page.keyboard.press(" ")
    assert not owner.is_visible()
    assert_accessible(page)
    # Without JavaScript the tabs are plain links.
    page.goto(record_url("Opportunity", world.deal) + "?tab=history")
    assert page.get_by_role("tab", name="History").get_attribute("aria-selected") == "true"


def test_the_path_saves_a_stage_and_a_refused_move_shows_the_rule(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(record_url("Opportunity", world.deal))
    page.get_by_role("button", name="Negotiation").click()
    page.wait_for_load_state()
    assert page.locator(".path [aria-current=step]").inner_text().startswith("Negotiation")
    assert page.get_by_role("status").first.inner_text() == "Stage set to Negotiation."
    saved = api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")
    assert saved["Stage"] == "Negotiation"
    # A won deal needs an amount: the validation rule refuses, nothing changes.
    page.goto(record_url("Opportunity", world.bare_deal))
    page.get_by_role("button", name="Closed Won").click()
    alert = page.get_by_role("alert")
    assert "A won opportunity needs an amount." in alert.inner_text()
    assert page.locator(".path [aria-current=step]").inner_text().startswith("Prospecting")
    unchanged = api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.bare_deal['id']}")
    assert unchanged["Stage"] == "Prospecting" and unchanged["version"] == 1
    assert_accessible(page)
    screenshot(page, "record-path-error")


def test_a_related_list_shows_children_and_new_opens_the_form_with_the_lookup(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    account_id = world.account["id"]
    page.goto(record_url("Account", world.account))
    opportunities = page.get_by_role("region", name="Opportunities", exact=True)
    expected = api_json(
        world.tenant,
        "GET",
        OPPORTUNITIES,
        query_string={"Account": account_id, "sort": "-created_at", "limit": "5", "count": "true"},
    )
    shown = opportunities.locator("tbody tr td.cell-title > a").all_inner_texts()
    assert shown == [row["Name"] for row in expected["data"]]
    assert opportunities.locator(".badge").first.inner_text() == str(expected["total"])
    new = opportunities.get_by_role("link", name="New")
    assert new.get_attribute("href") == f"/o/Opportunity/new?Account={account_id}"
    view_all = opportunities.get_by_role("link", name="View all")
    assert view_all.get_attribute("href") == f"/o/Opportunity?Account={account_id}"
    first = opportunities.locator("tbody tr td.cell-title > a").first
    assert first.get_attribute("href") == f"/o/Opportunity/{expected['data'][0]['id']}"
    assert_accessible(page)
    screenshot(page, "record-account")
    # New opens the child's form with the lookup filled in; saving it lands on the new
    # record's page, and the account's related list shows it.
    new.click()
    page.wait_for_url(f"**/o/Opportunity/new?Account={account_id}")
    assert page.locator('input[name="Account"]').input_value() == account_id
    assert page.get_by_role("combobox", name="Account").input_value() == world.account["Name"]
    page.get_by_label("Opportunity name").fill("Opened from the related list")
    page.get_by_label("Stage").select_option("Qualification")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/o/Opportunity/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Opened from the related list"
    page.goto(record_url("Account", world.account))
    titles = opportunities.locator("tbody tr td.cell-title > a").all_inner_texts()
    assert "Opened from the related list" in titles


def test_history_shows_a_change_made_through_the_api(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    api_json(
        world.tenant,
        "PATCH",
        f"{OPPORTUNITIES}/{world.deal['id']}",
        json={"NextStep": "Book the demo", "Probability": 40},
    )
    page = admin_page
    page.goto(record_url("Opportunity", world.deal) + "?tab=history")
    newest = page.locator(".timeline-entry").first
    assert "Admin changed 2 fields" in newest.inner_text()
    change = newest.locator(".change", has_text="Next step")
    assert words(change.locator(".change-old")) == "from Send the proposal"
    assert words(change.locator(".change-new")) == "to Book the demo"
    probability = newest.locator(".change", has_text="Probability")
    assert words(probability.locator(".change-new")) == "to 40%"
    assert page.locator(".timeline-entry").last.inner_text().count("created the record") == 1
    # The administrator manages automations: the runs on the record are listed.
    assert page.get_by_role("heading", name="Automation").is_visible()
    assert_accessible(page)
    screenshot(page, "record-history")


def test_inline_edit_saves_a_field_and_shows_an_invalid_value_s_error(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(record_url("Opportunity", world.deal))
    page.get_by_role("link", name="Edit Next step").click()
    field = page.get_by_role("textbox", name="Next step", exact=True)
    focused(page, "document.activeElement.id", "inline-NextStep")
    assert field.input_value() == "Send the proposal"
    field.fill("Call the CFO")
    screenshot(page, "record-inline-edit")
    field.press("Enter")
    page.locator("#field-NextStep .field-text", has_text="Call the CFO").wait_for()
    focused(page, "document.activeElement.getAttribute('title')", "Edit Next step")
    saved = api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")
    assert saved["NextStep"] == "Call the CFO" and saved["version"] == world.deal["version"] + 1
    # An invalid amount: the rule's message under the input, nothing saved.
    page.get_by_role("link", name="Edit Amount").click()
    amount = page.get_by_role("spinbutton", name="Amount", exact=True)
    amount.fill("-5")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#inline-Amount-error")
    error.wait_for()
    assert error.inner_text() == "The amount cannot be negative."
    assert (
        page.get_by_role("spinbutton", name="Amount", exact=True).get_attribute("aria-invalid")
        == "true"
    )
    focused(page, "document.activeElement.id", "inline-Amount")
    assert_accessible(page)
    screenshot(page, "record-inline-error")
    page.keyboard.press("Escape")
    assert page.locator("#field-Amount .field-text").inner_text() == "25,000.00"
    assert api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")["Amount"] == 25000
    # Someone else saves meanwhile: the page's version is stale, and it says so.
    page.get_by_role("link", name="Edit Next step").click()
    api_json(world.tenant, "PATCH", f"{OPPORTUNITIES}/{world.deal['id']}", json={"NextStep": "X"})
    page.get_by_role("textbox", name="Next step", exact=True).fill("Mine")
    page.get_by_role("button", name="Save").click()
    page.locator("#inline-NextStep-error").wait_for()
    assert "Someone changed this record" in page.locator("#inline-NextStep-error").inner_text()
    assert api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")["NextStep"] == "X"


def test_a_lookup_is_edited_in_place_with_the_form_s_type_ahead(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    contact = api_json(
        world.tenant,
        "GET",
        "/api/v1/objects/Contact/records",
        query_string={"sort": "Name", "limit": "1"},
    )["data"][0]
    page = admin_page
    page.goto(record_url("Opportunity", world.deal))
    page.get_by_role("link", name="Edit Primary contact").click()
    picker = page.get_by_role("combobox", name="Primary contact", exact=True)
    focused(page, "document.activeElement.id", "inline-PrimaryContact")
    page.keyboard.type(contact["Name"].split()[0])
    options = page.get_by_role("listbox", name="Primary contact").get_by_role("option")
    options.first.wait_for()
    assert contact["Name"] in options.all_inner_texts()
    assert_accessible(page)
    screenshot(page, "record-inline-lookup")
    # Escape closes the list first, and only then cancels the edit.
    page.keyboard.press("Escape")
    assert picker.get_attribute("aria-expanded") == "false" and picker.is_visible()
    page.keyboard.press("Escape")
    focused(page, "document.activeElement.getAttribute('title')", "Edit Primary contact")
    # Picked by keyboard and saved with Enter, it shows as a link to the contact.
    page.get_by_role("link", name="Edit Primary contact").click()
    focused(page, "document.activeElement.id", "inline-PrimaryContact")
    page.keyboard.type(contact["Name"])
    options.first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert picker.input_value() == contact["Name"]
    page.keyboard.press("Enter")
    link = page.locator("#field-PrimaryContact .field-text a")
    link.wait_for()
    assert link.inner_text() == contact["Name"]
    assert link.get_attribute("href") == record_url("Contact", contact)
    saved = api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")
    assert saved["PrimaryContact"] == contact["id"]


def test_choices_a_checkbox_a_time_and_rich_text_are_edited_in_place(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(record_url("Opportunity", world.deal))
    # Several choices: the form's group of checkboxes, named by the field's label.
    page.get_by_role("link", name="Edit Competitors").click()
    group = page.get_by_role("group", name="Competitors")
    group.get_by_label("HubSpot").check()
    group.get_by_label("Zoho").check()
    assert_accessible(page)
    screenshot(page, "record-inline-choices")
    page.get_by_role("button", name="Save").click()
    badges = page.locator("#field-Competitors .field-text .badge")
    badges.first.wait_for()
    assert badges.all_inner_texts() == ["HubSpot", "Zoho"]
    # A checkbox, labelled as on the form.
    page.get_by_role("link", name="Edit Private").click()
    page.get_by_role("checkbox", name="Private").check()
    page.get_by_role("button", name="Save").click()
    page.locator("#field-Private .field-text", has_text="Yes").wait_for()
    # A date and time in the browser's own zone, as the form takes it.
    page.get_by_role("link", name="Edit Last contacted").click()
    assert page.locator("#inline-LastContactedAt-zone").inner_text().startswith("Your time zone")
    page.get_by_label("Last contacted").fill("2026-01-15T09:30")
    page.get_by_role("button", name="Save").click()
    page.locator("#field-LastContactedAt .field-text time").wait_for()
    # Rich text with the form's toolbar.
    page.get_by_role("link", name="Edit Proposal notes").click()
    page.get_by_role("toolbar", name="Formatting").wait_for()
    editor = page.get_by_role("textbox", name="Proposal notes")
    focused(page, "document.activeElement.id", "inline-ProposalNotes-editor")
    editor.type("Bring the pricing sheet")
    assert_accessible(page)
    screenshot(page, "record-inline-rich-text")
    page.get_by_role("button", name="Save").click()
    page.locator("#field-ProposalNotes .value-rich", has_text="Bring the pricing sheet").wait_for()
    saved = api_json(world.tenant, "GET", f"{OPPORTUNITIES}/{world.deal['id']}")
    assert saved["Competitors"] == ["HubSpot", "Zoho"] and saved["Private"] is True
    assert saved["LastContactedAt"].startswith("2026-01-15T")
    assert "Bring the pricing sheet" in saved["ProposalNotes"]


def test_a_field_the_user_cannot_read_is_absent_and_one_they_cannot_edit_has_no_pencil(
    world: CrmWorld, page: Any, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    api_json(
        world.tenant, "PATCH", f"{OPPORTUNITIES}/{world.rep_deal['id']}", json={"Amount": 1200}
    )
    sign_in(page, world.tenant.slug, world.rep_email, PASSWORD)
    page.goto(record_url("Opportunity", world.rep_deal))
    main = page.get_by_role("main")
    assert page.get_by_role("heading", level=1).inner_text() == "Rep's own deal"
    assert "Amount" not in main.locator(".field-label").all_inner_texts()
    assert "Amount" not in main.locator(".highlights").inner_text()
    assert "1,200" not in main.inner_text()
    assert page.locator("#field-NextStep").is_visible()
    assert page.get_by_role("link", name="Edit Next step").count() == 0
    assert page.get_by_role("link", name="Edit Probability").count() == 1
    page.get_by_role("tab", name="History").click()
    page.get_by_role("heading", name="Field history").wait_for()
    history = page.get_by_role("tabpanel").inner_text()
    assert "Amount" not in history and "1,200" not in history and "900" not in history
    assert "made a change" in history  # the entry is there, without the hidden field
    # The rep does not manage automations: no run log.
    assert page.get_by_role("heading", name="Automation").count() == 0
    assert_accessible(page)
    screenshot(page, "record-restricted")
    # The edit endpoint refuses a field they cannot edit, whatever the page shows.
    refused = page.request.get(record_url("Opportunity", world.rep_deal) + "/fields/NextStep/edit")
    assert refused.status == 403


def test_a_record_the_user_cannot_read_is_the_404_page(
    world: CrmWorld, page: Any, sign_in: Any, assert_accessible: Any
) -> None:
    sign_in(page, world.tenant.slug, world.rep_email, PASSWORD)
    response = page.goto(record_url("Opportunity", world.deal))
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert world.deal["Name"] not in page.content()
    assert page.goto("/o/Opportunity/not-a-uuid").status == 404
    assert_accessible(page)


def test_delete_says_what_will_happen_and_moves_the_record_to_the_bin(
    world: CrmWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(record_url("Opportunity", world.bare_deal))
    page.get_by_role("link", name="Delete", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"Delete “{world.bare_deal['Name']}”?"
    )
    assert "recycle bin" in page.get_by_role("main").inner_text()
    assert_accessible(page)
    screenshot(page, "record-delete")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/o/Opportunity")
    gone = world.tenant.api("GET", f"{OPPORTUNITIES}/{world.bare_deal['id']}")
    assert gone.status_code == 404
