"""The layout editor in a real browser: a field dragged into a second section, another
moved by keyboard alone, one marked required; saved, and the record page then shows the
two sections. The preview draws a real record in the unsaved layout. Accessibility and
screenshots of the editor and the preview."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TenantFixture
from layout_worlds import build_world


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
    # A second section, named.
    page.get_by_role("button", name="Add section").click()
    label = page.get_by_label("Section label").nth(2)
    label.fill("Contact details")
    label.press("Tab")
    second = page.locator("[data-drop-section='0:2']")
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
    assert sections[2]["label"] == "Contact details"
    assert sections[2]["fields"] == ["Notes", "Phone"]
    assert {"field": "Industry", "required": True} in sections[0]["fields"]
    page.goto(f"/o/Account/{world['acme']}")
    titles = page.locator(".record-section-title").all_inner_texts()
    assert "Account information" in titles and "Contact details" in titles
    assert "555-0100" in page.locator("#section-details-3").inner_text()


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
    assert_accessible(page)
    page.locator("[data-layout-preview]").scroll_into_view_if_needed()
    screenshot(page, "setup-layout-preview")
