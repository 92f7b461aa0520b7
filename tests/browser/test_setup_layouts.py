"""The layout editor in a real browser: a field dragged into a second section, another
moved by keyboard alone, one marked required; saved, and the record page then shows the
two sections. The preview draws a real record in the unsaved layout. Accessibility and
screenshots of the editor and the preview."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TenantFixture
from layout_worlds import build_world
from playwright.sync_api import expect


@pytest.fixture()
def world(tenant: TenantFixture) -> dict[str, str]:
    return build_world(tenant)


def sections_of(tenant: TenantFixture) -> list[dict[str, Any]]:
    layout = tenant.api("GET", "/api/v1/meta/objects/Account").get_json()["layout"]
    return layout["tabs"][0]["sections"]


def test_arrange_a_layout_by_dragging_and_by_keyboard_then_save(
    admin_page: Any,
    world: dict[str, str],
    tenant: TenantFixture,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = admin_page
    page.goto("/setup/layouts/Account")
    editor = page.locator("[data-layout-editor]")
    editor.wait_for()
    # A second section, named: above System information, which stays at the bottom.
    page.get_by_role("button", name="Add section").click()
    expect(page.locator("[data-layout-editor] [role=status]")).to_have_text(
        "Added a section above System information."
    )
    label = page.get_by_label("Section label").nth(1)
    label.fill("Contact details")
    label.press("Tab")
    second = page.locator("[data-drop-section='0:1']")
    # Drag Phone from the first section into the new one.
    phone = page.locator(".le-field[data-field='Phone']")
    phone.drag_to(second)
    assert second.locator(".le-field[data-field='Phone']").count() == 1
    # Move Notes there by keyboard alone: its settings, then the move select.
    toggle = page.get_by_role("button", name="Notes: settings and moves")
    toggle.focus()
    page.keyboard.press("Enter")
    page.get_by_label("Move to section").select_option(label="Details › Contact details")
    assert second.locator(".le-field[data-field='Notes']").count() == 1
    # Then up, by keyboard: Notes comes before Phone.
    page.get_by_role("button", name="Move Notes up").focus()
    page.keyboard.press("Enter")
    assert second.locator(".le-field").evaluate_all("els => els.map(e => e.dataset.field)") == [
        "Notes",
        "Phone",
    ]
    # Mark Industry required on the page.
    page.get_by_role("button", name="Industry: settings and moves").click()
    page.get_by_label("Required on this page").check()
    assert_accessible(page)
    screenshot(page, "setup-layout-editor")
    page.get_by_role("button", name="Save layout").click()
    page.wait_for_url("**/setup/layouts/Account")
    assert "Saved the page layout of Accounts." in page.locator(".flash").inner_text()
    sections = sections_of(tenant)
    assert [section["label"] for section in sections] == [
        "Account information",
        "Contact details",
        "System information",
    ]
    assert sections[1]["fields"] == ["Notes", "Phone"]
    assert {"field": "Industry", "required": True} in sections[0]["fields"]
    page.goto(f"/o/Account/{world['acme']}")
    titles = page.locator(".record-section-title").all_inner_texts()
    assert "Account information" in titles and "Contact details" in titles
    assert "555-0100" in page.locator("#section-details-2").inner_text()


def test_the_preview_shows_a_real_record_in_the_unsaved_layout(
    admin_page: Any,
    world: dict[str, str],
    tenant: TenantFixture,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = admin_page
    page.goto("/setup/layouts/Account")
    page.locator("[data-layout-editor]").wait_for()
    page.get_by_label("Section label").first.fill("Company")
    page.get_by_label("Section label").first.press("Tab")
    page.get_by_role("button", name="Show preview").click()
    panel = page.locator("[data-preview-panel]")
    panel.locator(".layout-preview-page").wait_for()
    assert "Acme Corporation" in panel.inner_text()
    assert "Company" in panel.locator(".record-section-title").all_inner_texts()
    assert "Ada Lovelace" in panel.inner_text()
    assert tenant.api("GET", "/api/v1/meta/objects/Account").get_json().get("layout") is None
    # Off the layout and back by keyboard: the palette adds it to the section chosen.
    page.get_by_role("button", name="Phone: settings and moves").click()
    page.get_by_role("button", name="Remove from layout").click()
    palette = page.locator("[data-drop-palette]")
    assert palette.locator(".le-field[data-field='Phone']").count() == 1
    page.get_by_label("Add to").select_option(label="Details › System information")
    page.get_by_role("button", name="Add Phone").focus()
    page.keyboard.press("Enter")
    system = page.locator("[data-drop-section='0:1']")
    assert system.locator(".le-field[data-field='Phone']").count() == 1
    # A new tab's address follows its label until it is saved; the preview offers it.
    page.get_by_role("button", name="Add tab").click()
    page.get_by_label("Tab label").fill("Activity")
    page.get_by_label("Tab label").press("Tab")
    assert "?tab=activity" in page.locator(".le-tab-settings").inner_text()
    assert page.locator("[data-preview-tab] option").all_inner_texts() == ["Details", "Activity"]
    page.get_by_role("button", name="Details", exact=True).click()
    assert_accessible(page)
    page.locator("[data-layout-preview]").scroll_into_view_if_needed()
    screenshot(page, "setup-layout-preview")


def test_the_list_view_editor_creates_a_shared_view(
    admin_page: Any,
    world: dict[str, str],
    tenant: TenantFixture,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = admin_page
    page.goto("/setup/list-views/Account")
    page.get_by_role("link", name="New view").click()
    page.get_by_label("Label").fill("Retail accounts")
    assert page.get_by_label("API name").input_value() == "retail_accounts"
    # A new view starts with the generated view's columns; Notes off, Phone first.
    page.get_by_role("region", name="Columns").get_by_label("Notes", exact=True).uncheck()
    page.get_by_role("button", name="Move Phone up").click()
    page.get_by_role("button", name="Move Phone up").click()
    page.get_by_label("Field").first.select_option(label="Industry")
    # The conditions narrow to those the field takes: a picklist is never "greater than".
    conditions = page.get_by_label("Condition").first
    assert conditions.locator("option[value=gt]").get_attribute("disabled") is not None
    conditions.select_option("eq")
    page.get_by_label("Value").first.fill("Retail")
    assert_accessible(page)
    screenshot(page, "setup-list-view-editor")
    page.get_by_role("button", name="Save view").last.click()
    page.wait_for_url("**/setup/list-views/Account")
    assert "Saved the view “Retail accounts”" in page.locator(".flash").inner_text()
    view = next(
        each
        for each in tenant.api("GET", "/api/v1/objects/Account/list-views").get_json()["data"]
        if each["api_name"] == "retail_accounts"
    )
    assert [column["field"] for column in view["columns"]] == ["Phone", "Name", "Industry"]
    assert view["filters"] == [{"field": "Industry", "operator": "eq", "value": "Retail"}]
    assert_accessible(page)
    screenshot(page, "setup-list-views")


def test_a_refused_save_marks_what_is_wrong_and_keeps_the_draft(
    admin_page: Any,
    world: dict[str, str],
    tenant: TenantFixture,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = admin_page
    page.goto("/setup/layouts/Account")
    page.locator("[data-layout-editor]").wait_for()
    page.get_by_label("Section label").first.fill("Company")
    # Someone deletes a field the draft shows while it is being arranged.
    deleted = tenant.api("DELETE", "/api/v1/meta/objects/Account/fields/Notes")
    assert deleted.status_code == 204, deleted.get_data(as_text=True)
    page.get_by_role("button", name="Save layout").click()
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    assert "The layout was not saved" in summary.inner_text()
    assert "field Notes: Notes is deleted; take it off the layout." in summary.inner_text()
    marked = page.locator(".le-field.has-problem")
    assert marked.get_attribute("data-field") == "Notes"
    assert "take it off the layout" in marked.inner_text()
    # The draft is kept: the section is still called Company.
    assert page.get_by_label("Section label").first.input_value() == "Company"
    assert tenant.api("GET", "/api/v1/meta/objects/Account").get_json().get("layout") is None
    assert_accessible(page)
    screenshot(page, "setup-layout-refused")
    # Taking it off and saving again works.
    page.get_by_role("button", name="Notes: settings and moves").click()
    page.get_by_role("button", name="Remove from layout").click()
    page.get_by_role("button", name="Save layout").click()
    page.wait_for_url("**/setup/layouts/Account")
    layout = tenant.api("GET", "/api/v1/meta/objects/Account").get_json()["layout"]
    assert layout["tabs"][0]["sections"][0]["label"] == "Company"
