"""The record forms in a real browser: create with errors, conditional fields as the user
types, the lookup type-ahead by keyboard, a save against an older version, rich text,
field-level security, a keyboard-only create, accessibility and screenshots of each
state at both widths.

Until record pages land, a saved record's page is a 404 placeholder: the tests check the
redirect to it and the saved values through the API.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import TenantFixture
from form_worlds import FormWorld, build_form_world
from playwright.sync_api import expect

RECORD_PAGE = re.compile(r".*/o/Gadget/([0-9a-f-]{36})$")


@pytest.fixture()
def world(tenant: TenantFixture) -> FormWorld:
    return build_form_world(tenant)


def saved_id(page: Any) -> str:
    page.wait_for_url(RECORD_PAGE)
    match = RECORD_PAGE.match(page.url)
    assert match is not None
    return match.group(1)


def summary(page: Any) -> Any:
    return page.get_by_role("alert").filter(has_text="before this record can be saved")


def test_a_create_with_errors_is_fixed_and_saved(
    page: Any, world: FormWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    sign_in(page, world.tenant.slug, world.email("rep"), world.password)
    page.goto("/o/Gadget/new")
    assert page.get_by_role("heading", level=1).inner_text() == "New Gadget"
    # Defaults are filled in; the required field is marked for assistive technology.
    assert page.get_by_label("Active").is_checked()
    assert page.get_by_label("Stage").input_value() == "Idea"
    assert page.get_by_label("Gadget name").get_attribute("aria-required") == "true"
    assert_accessible(page)
    screenshot(page, "form-create")

    page.get_by_label("Gadget name").fill("test")
    page.get_by_label("Price").fill("-5")
    page.get_by_label("Notes").fill("Keep this text")
    page.get_by_role("button", name="Save").click()
    errors = summary(page)
    expect(errors).to_be_focused()
    assert errors.get_by_role("link").all_inner_texts() == ["Price: The price cannot be negative."]
    assert "Give it a real name." in errors.inner_text()
    price = page.get_by_label("Price")
    assert price.get_attribute("aria-invalid") == "true"
    assert page.locator("#field-Price-error").inner_text() == "The price cannot be negative."
    assert page.get_by_label("Notes").input_value() == "Keep this text"
    assert_accessible(page)
    screenshot(page, "form-create-errors")
    # The summary's link takes the focus to the field.
    errors.get_by_role("link").first.click()
    expect(price).to_be_focused()
    assert world.gadgets() == []

    page.get_by_label("Gadget name").fill("Widget")
    price.fill("10")
    page.get_by_role("button", name="Save").click()
    record = world.read(saved_id(page))
    assert (record["Name"], record["Price"], record["Notes"]) == ("Widget", 10, "Keep this text")
    assert record["Active"] is True and record["Stage"] == "Idea"


def test_a_conditional_field_appears_as_the_user_chooses_and_is_enforced(
    page: Any, world: FormWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    sign_in(page, world.tenant.slug, world.email("rep"), world.password)
    page.goto("/o/Gadget/new")
    why = page.get_by_label("Why retired")
    assert not why.is_visible()
    page.get_by_label("Gadget name").fill("Old model")
    page.get_by_label("Stage").select_option("Retired")
    why.wait_for(state="visible")
    assert why.get_attribute("aria-required") == "true"
    assert page.locator('[data-field="RetiredWhy"] .required-mark').is_visible()
    assert page.get_by_role("status").filter(has_text="Now shown: Why retired.").count() == 1
    assert_accessible(page)
    screenshot(page, "form-conditional")
    # The server enforces what the form shows.
    page.get_by_role("button", name="Save").click()
    assert summary(page).get_by_role("link").all_inner_texts() == [
        "Why retired: This field is required."
    ]
    assert page.get_by_label("Why retired").is_visible()
    # Back to another stage, the field goes away again; retired once more, it is filled.
    page.get_by_label("Stage").select_option("Built")
    page.get_by_label("Why retired").wait_for(state="hidden")
    page.get_by_label("Stage").select_option("Retired")
    page.get_by_label("Why retired").fill("Replaced by the new one")
    page.get_by_role("button", name="Save").click()
    record = world.read(saved_id(page))
    assert (record["Stage"], record["RetiredWhy"]) == ("Retired", "Replaced by the new one")


def test_the_lookup_type_ahead_picks_a_record_by_keyboard(
    page: Any, world: FormWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    sign_in(page, world.tenant.slug, world.email("rep"), world.password)
    page.goto("/o/Gadget/new")
    page.get_by_label("Gadget name").fill("Looked up")
    maker = page.get_by_role("combobox", name="Maker")
    maker.focus()
    page.keyboard.type("acm")
    options = page.get_by_role("listbox", name="Maker").get_by_role("option")
    options.first.wait_for()
    # Only the makers the rep may read: not the administrator's "Acme Hidden".
    assert options.all_inner_texts() == ["Acme Labs", "Acme Works"]
    assert maker.get_attribute("aria-expanded") == "true"
    assert_accessible(page)
    screenshot(page, "form-lookup")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = maker.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").inner_text() == "Acme Works"
    page.keyboard.press("Enter")
    assert maker.input_value() == "Acme Works"
    assert maker.get_attribute("aria-expanded") == "false"
    page.get_by_role("button", name="Save").click()
    record = world.read(saved_id(page))
    assert record["Maker"] == world.makers["Acme Works"]


def test_an_edit_against_a_newer_version_shows_their_changes(
    page: Any, world: FormWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    record_id = world.gadget(Name="Shared gadget", Stage="Idea", Units=1, Price=20)
    page.goto(f"/o/Gadget/{record_id}/edit")
    assert page.get_by_role("heading", level=1).inner_text() == "Edit Shared gadget"
    assert page.get_by_label("Units").input_value() == "1"
    assert_accessible(page)
    screenshot(page, "form-edit")
    # Someone else saves through the API while the form is open.
    changed = world.tenant.api(
        "PATCH",
        f"/api/v1/objects/Gadget/records/{record_id}",
        json={"Units": 4, "Name": "Their gadget"},
    )
    assert changed.status_code == 200
    page.get_by_label("Gadget name").fill("My gadget")
    page.get_by_label("Price").fill("25")
    page.get_by_role("button", name="Save").click()
    notice = page.get_by_role("alert").filter(has_text="Someone else changed this record")
    assert notice.is_visible()
    rows = notice.get_by_role("row").all_inner_texts()
    assert [re.sub(r"\s+", " ", row).strip().lower() for row in rows] == [
        "field their value your value",
        "gadget name their gadget my gadget kept",
        "units 4 kept 1",
    ]
    assert page.get_by_label("Gadget name").input_value() == "My gadget"
    assert page.get_by_label("Units").input_value() == "4"
    assert page.get_by_label("Price").input_value() == "25"
    assert notice.get_by_role("link", name="Reload").get_attribute("href") == (
        f"/o/Gadget/{record_id}/edit"
    )
    assert world.read(record_id)["Name"] == "Their gadget"
    assert_accessible(page)
    screenshot(page, "form-conflict")
    page.get_by_role("button", name="Save").click()
    saved_id(page)
    record = world.read(record_id)
    assert (record["Name"], record["Units"], record["Price"]) == ("My gadget", 4, 25)


def test_rich_text_is_edited_in_place_and_sanitised(
    page: Any, world: FormWorld, admin_page: Any, assert_accessible: Any
) -> None:
    page.goto("/o/Gadget/new")
    page.get_by_label("Gadget name").fill("Formatted")
    editor = page.get_by_role("textbox", name="Description")
    editor.click()
    page.keyboard.type("Plain, then ")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("bold")
    assert page.get_by_role("button", name="Bold").get_attribute("aria-pressed") == "true"
    assert_accessible(page)
    # Pasted markup with a script in it: the browser keeps it in the editor (inert)...
    editor.evaluate(
        "node => { node.insertAdjacentHTML('beforeend', "
        '\'<p>pasted <a href="javascript:alert(1)">here</a></p>'
        "<script>window.ran = true</script>');"
        " node.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.get_by_role("button", name="Save").click()
    record = world.read(saved_id(page))
    # ...and the server removes it when it saves.
    body = record["Body"]
    assert body == 'Plain, then <b>bold</b><p>pasted <a rel="noopener noreferrer">here</a></p>'
    assert page.evaluate("window.ran === undefined")


def test_field_level_security_hides_and_locks_fields_on_the_form(
    page: Any, world: FormWorld, sign_in: Any, assert_accessible: Any
) -> None:
    record_id = world.gadget(Name="Audited one", Stage="Idea", Secret="hush", Audited="done")
    sign_in(page, world.tenant.slug, world.email("rep"), world.password)
    page.goto(f"/o/Gadget/{record_id}/edit")
    form = page.locator("form[data-record-form]")
    assert "Secret" not in form.inner_text() and "hush" not in form.inner_text()
    assert page.get_by_role("textbox", name="Audited").count() == 0
    audited = page.locator('[data-field="Audited"]')
    assert audited.inner_text().split() == ["Audited", "done"]
    # Computed fields read the same way, for everyone.
    assert page.get_by_role("textbox", name="Total").count() == 0
    assert_accessible(page)


def tab_to(page: Any, wanted: str, limit: int = 40) -> list[str]:
    """Press Tab until the element matching ``wanted`` (a CSS selector) has the focus;
    the ids (or tag names) of the stops on the way."""
    stops = []
    while not page.evaluate(f"document.activeElement.matches({wanted!r})"):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        assert len(stops) <= limit, stops
    return stops


def test_a_record_is_created_with_the_keyboard_alone(
    page: Any, world: FormWorld, sign_in: Any
) -> None:
    sign_in(page, world.tenant.slug, world.email("rep"), world.password)
    page.goto("/o/Gadget/new")
    tab_to(page, "#field-Name")
    page.keyboard.type("Keyed in")
    stops = tab_to(page, "#field-Units")
    # Read-only fields are not stops; the rich text toolbar is one, its editor another.
    assert stops == [
        "field-Notes",
        "BUTTON",
        "field-Body-editor",
        "field-Email",
        "field-Phone",
        "field-Site",
        "field-Units",
    ]
    page.keyboard.type("3")
    tab_to(page, "#field-Colors-1")
    page.keyboard.press("Space")
    tab_to(page, "#field-Maker")
    page.keyboard.type("glob")
    page.get_by_role("option", name="Globex").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    record = world.read(saved_id(page))
    assert (record["Name"], record["Units"], record["Colors"]) == ("Keyed in", 3, ["Green"])
    assert record["Maker"] == world.makers["Globex"]


def test_forms_without_the_right_are_the_friendly_error_page(
    page: Any, world: FormWorld, sign_in: Any, assert_accessible: Any
) -> None:
    record_id = world.gadget(Name="Look only", Stage="Idea")
    sign_in(page, world.tenant.slug, world.email("viewer"), world.password)
    for path in ("/o/Gadget/new", f"/o/Gadget/{record_id}/edit"):
        response = page.goto(path)
        assert response.status == 403
        assert page.get_by_role("heading", level=1).inner_text() == "You do not have access"
    assert_accessible(page)


def test_without_javascript_the_form_still_creates_a_record(
    browser: Any, live_server: str, world: FormWorld, sign_in: Any
) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, world.tenant.slug, world.email("rep"), world.password)
        page.goto("/o/Gadget/new")
        page.get_by_label("Gadget name").fill("Plain")
        page.get_by_label("Stage").select_option("Retired")
        # The lookup is a plain list of the makers the rep may read.
        maker = page.get_by_role("combobox", name="Maker")
        assert maker.evaluate("node => node.tagName") == "SELECT"
        assert maker.locator("option").all_inner_texts() == [
            "None",
            "Acme Labs",
            "Acme Works",
            "Globex",
        ]
        maker.select_option(label="Globex")
        page.get_by_role("button", name="Save").click()
        # The server applied the condition: the field is shown, and required.
        assert "Why retired: This field is required." in summary(page).inner_text()
        page.get_by_label("Why retired").fill("Superseded")
        page.get_by_role("button", name="Save").click()
        record = world.read(saved_id(page))
        assert (record["RetiredWhy"], record["Maker"]) == ("Superseded", world.makers["Globex"])
    finally:
        context.close()
