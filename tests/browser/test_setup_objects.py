"""Setup → Objects in a real browser: create an object (its API name suggested as the
label is typed), add a picklist field and order its values by keyboard and by drag, add
a number field, change a type through its confirmation, and look at every screen (axe
and screenshots at both widths), with many fields and long labels too."""

from __future__ import annotations

from typing import Any

from access_helpers import create
from conftest import TenantFixture
from playwright.sync_api import expect

LONG = "Estimated annual recurring revenue after the second renewal, in the customer's currency"


def _shot(page: Any, screenshot: Any, name: str) -> None:
    """A screenshot of the whole page from its top (the Setup sidebar is sticky)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def _value_order(page: Any) -> list[str]:
    return [box.input_value() for box in page.locator("[data-value-row] [data-value-text]").all()]


def test_an_object_is_built_with_a_picklist_and_a_number_field(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/objects")
    expect(page.get_by_text("No objects yet")).to_be_visible()
    assert_accessible(page)
    _shot(page, screenshot, "setup-objects-empty")
    page.get_by_role("link", name="New object").click()
    page.locator("#field-label").fill("Support ticket")
    # The API name follows the label until the admin edits it.
    expect(page.get_by_label("API name")).to_have_value("Support_ticket")
    page.get_by_label("Plural label").fill("Support tickets")
    page.get_by_label("Sharing").select_option("private")
    assert_accessible(page)
    _shot(page, screenshot, "setup-object-new")
    page.get_by_role("button", name="Create object").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support ticket")

    page.get_by_role("link", name="New field").click()
    page.locator("#field-type").select_option("picklist")
    # The form redraws for the type, keeping what was typed.
    expect(page.get_by_label("Values, one per line")).to_be_visible()
    page.locator("#field-label").fill("Priority")
    expect(page.get_by_label("API name")).to_have_value("Priority")
    page.get_by_label("Values, one per line").fill("Low\nMedium\nHigh\nUrgent")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("link", name="Priority", exact=True)).to_be_visible()

    page.get_by_role("link", name="Edit Priority").click()
    assert _value_order(page) == ["Low", "Medium", "High", "Urgent"]
    # By keyboard: the arrow buttons move a value in place and say so.
    move_up = page.get_by_role("button", name="Move Urgent up")
    move_up.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(move_up).to_be_focused()
    assert _value_order(page) == ["Low", "Urgent", "Medium", "High"]
    expect(page.locator("[data-values-status]")).to_have_text("Urgent moved to position 2 of 4.")
    # By drag: High to the top.
    rows = page.locator("[data-value-row]")
    rows.nth(3).locator(".value-handle").drag_to(rows.nth(0), target_position={"x": 20, "y": 2})
    assert _value_order(page) == ["High", "Low", "Urgent", "Medium"]
    page.get_by_label("Active").nth(1).uncheck()
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-picklist")
    page.get_by_role("button", name="Save field").last.click()
    expect(page.get_by_text("Saved the field Priority.")).to_be_visible()
    values = tenant.api("GET", "/api/v1/meta/objects/Support_ticket/fields/Priority").get_json()
    assert values["values"] == ["High", {"value": "Low", "active": False}, "Urgent", "Medium"]

    page.get_by_role("link", name="New field").click()
    page.locator("#field-type").select_option("number")
    page.locator("#field-label").fill("Hours spent")
    page.get_by_label("Decimal places").fill("1")
    page.get_by_label("Indexed").check()
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-number")
    # Enter saves the form (not the type's Apply button, nor a move).
    page.get_by_label("Decimal places").press("Enter")
    table = page.get_by_role("table", name="Fields of Support ticket")
    expect(table.get_by_role("row")).to_have_count(4)  # the header, Name, Priority, Hours
    expect(table.get_by_role("row", name="Hours spent")).to_contain_text("Number")
    assert_accessible(page)
    _shot(page, screenshot, "setup-object-detail")


def test_a_type_change_is_confirmed_with_what_it_removes(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    definition = {
        "api_name": "Asset",
        "label": "Asset",
        "fields": [{"api_name": "Name", "type": "text"}, {"api_name": "Tag", "type": "text"}],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    for name, tag in (("A", "100"), ("B", "n/a"), ("C", "250")):
        create(tenant, "Asset", Name=name, Tag=tag)
    page = admin_page
    page.goto("/setup/objects/Asset/fields/Tag")
    page.locator("#field-type").select_option("number")
    expect(page.get_by_text("You are changing the type")).to_be_visible()
    page.get_by_role("button", name="Save field").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the change to Tag")
    expect(page.get_by_text("3 records hold a value")).to_be_visible()
    expect(page.get_by_text("1 record has a value that will not convert")).to_be_visible()
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-type-change")
    page.get_by_label("I understand that 1 record will lose its value").check()
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_text("Saved the field Tag.")).to_be_visible()
    tag = tenant.api("GET", "/api/v1/meta/objects/Asset/fields/Tag").get_json()
    assert tag["type"] == "number"

    # A refused field: the errors next to their settings and in a summary that takes focus.
    page.goto("/setup/objects/Asset/fields/new?type=number")
    page.locator("#field-label").fill("Ratio")
    page.get_by_label("Precision (total digits)").fill("2")
    page.get_by_label("Decimal places").fill("4")
    page.get_by_role("button", name="Add field").click()
    summary = page.get_by_role("alert").filter(has_text="could not be saved")
    expect(summary).to_be_focused()
    expect(page.locator("#field-scale-error")).to_contain_text("cannot be more than precision")
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-errors")

    # Deleting says how many records hold a value first.
    page.goto("/setup/objects/Asset")
    page.get_by_role("link", name="Delete Tag").click()
    expect(page.get_by_text("2 records hold a value")).to_be_visible()
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-delete")
    page.get_by_role("button", name="Delete the field").click()
    expect(page.get_by_text("Deleted the field Tag.")).to_be_visible()
    expect(page.get_by_role("link", name="Edit Tag")).to_have_count(0)


def test_many_fields_and_long_labels_stay_readable(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    fields = [{"api_name": "Name", "type": "text"}]
    fields += [
        {
            "api_name": f"Field_{n:02}",
            "label": f"{LONG[:74]} {n}" if n % 7 == 0 else f"Field {n}",
            "type": "number",
            "indexed": n % 5 == 0,
        }
        for n in range(1, 60)
    ]
    definition = {
        "api_name": "Big_object_with_a_rather_long_api_name",
        "label": LONG[:80],
        "fields": fields,
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    target = {
        "api_name": "Region",
        "label": "Region",
        "fields": [{"api_name": "Name", "type": "text"}],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=target).status_code == 201
    page = admin_page
    page.goto("/setup/objects")
    assert_accessible(page)
    _shot(page, screenshot, "setup-objects-list")
    page.goto("/setup/objects/Big_object_with_a_rather_long_api_name")
    table = page.get_by_role("table", name=f"Fields of {LONG[:80]}")
    expect(table.get_by_role("row")).to_have_count(61)
    assert_accessible(page)
    _shot(page, screenshot, "setup-object-many-fields")
    page.goto("/setup/objects/Region/fields/new?type=lookup")
    expect(page.get_by_label("Related object")).to_be_visible()
    assert_accessible(page)
    _shot(page, screenshot, "setup-field-lookup")
    page.goto("/setup/objects/Region/fields/new?type=formula")
    expect(page.locator("textarea[data-formula-editor][data-object=Region]").first).to_be_visible()
    _shot(page, screenshot, "setup-field-formula")
    page.goto("/setup/objects/Region/fields/new?type=rollup")
