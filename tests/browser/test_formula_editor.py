"""The formula editor on the validation rule form, in a real browser: a misspelled field
underlined where it is with the name meant shown before saving, the field and function
pickers by keyboard and mouse, Try it against a record, and the rule list's reordering
and screenshots of each state at both widths."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TenantFixture
from formula_worlds import FormulaWorld, build_formula_world
from playwright.sync_api import expect


@pytest.fixture()
def world(tenant: TenantFixture) -> FormulaWorld:
    return build_formula_world(tenant)


def editor(page: Any) -> Any:
    return page.get_by_role("textbox", name="Condition")


def test_a_misspelled_field_is_underlined_and_fixed_before_saving(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/validation-rules/Deal/new")
    page.get_by_label("Rule name").fill("Big_discount")
    condition = editor(page)
    condition.click()
    condition.press_sequentially("AND(Amount > 100,\n  Discont > 0.4)")
    mark = page.locator("[data-formula-error]")
    expect(mark).to_have_text("Discont")
    status = page.locator(".formula-status")
    expect(status).to_contain_text("unknown field 'Discont'")
    expect(status).to_contain_text("Did you mean Discount?")
    # The underline sits over the misspelled name: the same text the textarea has there.
    start = condition.input_value().index("Discont")
    assert page.locator(".formula-highlight").inner_text().index("Discont") == start
    assert world.rules() == []  # nothing is saved while the admin types
    assert_accessible(page)
    screenshot(page, "formula-editor-error")
    page.get_by_role("button", name="Use Discount").click()
    expect(status).to_contain_text("Valid formula. Result: Checkbox")
    expect(mark).to_have_count(0)
    assert condition.input_value() == "AND(Amount > 100,\n  Discount > 0.4)"


def test_the_pickers_insert_a_field_path_and_a_function_by_keyboard(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/validation-rules/Deal/new")
    condition = editor(page)
    condition.fill("")
    condition.focus()
    # The function picker: filter, arrow down to ISBLANK, Enter puts ISBLANK() in.
    functions = page.get_by_role("button", name="Insert function")
    functions.click()
    search = page.get_by_role("combobox", name="Functions")
    expect(search).to_be_focused()
    search.fill("isbl")
    options = page.get_by_role("listbox", name="Functions").get_by_role("option")
    expect(options.first).to_contain_text("ISBLANK(value)")
    expect(options.first).to_contain_text("TRUE when the value is blank")
    assert_accessible(page)
    screenshot(page, "formula-editor-function-picker")
    search.press("Enter")
    expect(functions).to_have_attribute("aria-expanded", "false")
    assert condition.input_value() == "ISBLANK()"
    # The caret is inside the parentheses: the field picker puts the path there, through
    # the lookup to Account's fields, opened on the way.
    fields = page.get_by_role("button", name="Insert field")
    fields.click()
    field_search = page.get_by_role("combobox", name="Fields")
    field_search.fill("account")
    field_search.press("Enter")  # opens Account: its fields are listed
    expect(page.locator(".formula-picker-trail").first).to_contain_text("In Account")
    field_search.fill("indus")
    expect(page.get_by_role("listbox", name="Fields").get_by_role("option")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "formula-editor-field-picker")
    field_search.press("Enter")
    assert condition.input_value() == "ISBLANK(Account.Industry)"
    expect(page.locator(".formula-status")).to_contain_text("Valid formula")
    # Escape closes a picker and gives the focus back to its button.
    fields.click()
    page.get_by_role("combobox", name="Fields").press("Escape")
    expect(fields).to_be_focused()
    expect(fields).to_have_attribute("aria-expanded", "false")


def test_try_it_evaluates_the_formula_on_a_record_and_the_rule_is_saved(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/validation-rules/Deal/new")
    page.get_by_label("Rule name").fill("Big_amount")
    editor(page).fill('AND(Amount > 1000, Account.Industry = "Manufacturing")')
    expect(page.locator(".formula-status")).to_contain_text("Valid formula")
    record = page.get_by_role("combobox", name="Deal record")
    record.fill("big")
    page.get_by_role("option", name="Big order").click()
    result = page.locator(".formula-try-result")
    expect(result).to_contain_text("Value: TRUE")
    expect(result).to_contain_text("its save would be refused")
    assert_accessible(page)
    screenshot(page, "formula-editor-try-it")
    record.fill("small")
    page.get_by_role("option", name="Small order").click()
    expect(result).to_contain_text("Value: FALSE")
    page.get_by_label("Error message").fill("Big manufacturing deals need approval.")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/setup/validation-rules/Deal/")
    assert [rule["name"] for rule in world.rules()] == ["Big_amount"]


def test_the_rule_list_reorders_by_dragging_and_by_buttons(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    world.set_rules(
        [
            {"name": "First", "condition": "Amount < 0", "message": "No negative amounts."},
            {
                "name": "Second",
                "condition": 'AND(Discount > 0.4, NOT(CONTAINS(Name, "Partner")))',
                "message": "Discounts above 40% are for partner deals only.",
                "error_field": "Discount",
            },
            {
                "name": "Third",
                "condition": "ISBLANK(Account)",
                "message": "Pick an account.",
                "active": False,
            },
        ]
    )
    page = admin_page
    page.goto("/setup/validation-rules/Deal/")
    assert_accessible(page)
    screenshot(page, "validation-rule-list")
    page.get_by_role("button", name="Move Third up").click()
    page.wait_for_url("**/setup/validation-rules/Deal/#rule-Third")
    assert [rule["name"] for rule in world.rules()] == ["First", "Third", "Second"]
    handle = page.locator("tr[data-rule='First'] [data-drag-handle]")
    second = page.locator("tr[data-rule='Second']")
    box = second.bounding_box()
    assert box is not None
    # Dropped on the lower half of the last row: First goes to the end.
    handle.drag_to(second, target_position={"x": 5, "y": box["height"] - 4})
    expect(page.get_by_role("status").filter(has_text="reordered")).to_be_visible()
    assert [rule["name"] for rule in world.rules()] == ["Third", "Second", "First"]


def test_the_rule_form_edits_a_rule_and_shows_a_refused_save(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    world.set_rules(
        [
            {
                "name": "Partner_discount",
                "condition": 'AND(Discount > 0.4, NOT(CONTAINS(Name, "Partner")))',
                "message": "Discounts above 40% are for partner deals only.",
                "error_field": "Discount",
                "description": "Sales policy 2026.",
            }
        ]
    )
    page = admin_page
    page.goto("/setup/validation-rules/")
    assert_accessible(page)
    screenshot(page, "validation-rule-objects")
    page.get_by_role("link", name="Deal", exact=True).click()
    page.get_by_role("link", name="Edit Partner_discount").click()
    expect(page.locator(".formula-status")).to_contain_text("Valid formula")
    assert page.get_by_label("Show the message at").input_value() == "Discount"
    assert_accessible(page)
    screenshot(page, "validation-rule-form")
    # Saved with a broken formula anyway (no waiting for the check): the server refuses
    # it at the field, and the editor underlines it again.
    editor(page).fill("Discount >")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("alert")).to_contain_text("The rule was not saved")
    expect(page.locator("#rule-condition-error")).to_contain_text("a value is missing")
    # The live check then speaks for the formula, underlined; the server's copy is retired.
    expect(page.locator(".formula-status")).to_contain_text("a value is missing")
    expect(page.locator("[data-formula-error]")).to_have_count(1)
    expect(page.locator("#rule-condition-error")).to_be_hidden()
    assert_accessible(page)
    screenshot(page, "validation-rule-form-refused")
    assert world.rules()[0]["condition"].startswith("AND(Discount > 0.4")
    page.get_by_role("link", name="Deal rules").click()
    page.get_by_role("link", name="Delete Partner_discount").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete rule Partner_discount?")
    screenshot(page, "validation-rule-delete")
    page.get_by_role("button", name="Delete rule").click()
    expect(page.get_by_text("No rules on Deal")).to_be_visible()
    assert world.rules() == []
