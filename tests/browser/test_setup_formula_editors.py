"""The formula editor wherever Setup takes a formula, in a real browser: the field form
(a formula field's expression, a roll-up's filter following its summarised object, the
conditions) and the automation builder (the condition following the object select, an
action's value), a misspelled name underlined where it is with the name meant, Try it
for an admin holding only manage_automations, the sharing rule's criteria; and each
form still saving as a plain form without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from formula_worlds import FormulaWorld, build_formula_world
from playwright.sync_api import expect


@pytest.fixture()
def world(tenant: TenantFixture) -> FormulaWorld:
    return build_formula_world(tenant)


def deal_field(world: FormulaWorld, name: str) -> dict[str, Any] | None:
    return next((f for f in world.deal()["fields"] if f["api_name"] == name), None)


def automation(world: FormulaWorld, name: str) -> Any:
    return world.tenant.api("GET", f"/api/v1/meta/automations/{name}")


def assert_underlined(page: Any, box: Any, word: str) -> None:
    """The error mark is over ``word``, at the offset the textarea holds it."""
    editor = box.locator("xpath=ancestor::div[contains(@class, 'formula-editor')][1]")
    expect(editor.locator("[data-formula-error]")).to_have_text(word)
    start = box.input_value().index(word)
    assert editor.locator(".formula-highlight").inner_text().index(word) == start


@contextmanager
def plain_page(
    browser: Any, live_server: str, tenant: TenantFixture, sign_in: Any
) -> Iterator[Any]:
    """A page without JavaScript, signed in as the administrator: the plain forms."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, tenant.slug, tenant.admin_email, tenant.admin_password)
        yield page
    finally:
        context.close()


def test_the_field_form_checks_a_formula_field_as_it_is_typed(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/objects/Deal/fields/new?type=formula")
    page.locator("#field-label").fill("Double amount")
    page.get_by_label("Result type").select_option("currency")
    formula = page.get_by_role("textbox", name="Formula", exact=True)
    formula.click()
    formula.press_sequentially("ROUND(Amout * 2, 2)")
    status = page.locator("#field-expression-check")
    expect(status).to_contain_text("unknown field 'Amout'")
    expect(status).to_contain_text("Did you mean Amount?")
    assert_underlined(page, formula, "Amout")
    # The conditions are formulas too, checked against the same object.
    shown_when = page.get_by_role("textbox", name="Show only when")
    shown_when.fill("Discont > 0")
    expect(page.locator("#field-visible_when-check")).to_contain_text("Did you mean Discount?")
    assert deal_field(world, "Double_amount") is None  # nothing saved while typing
    assert_accessible(page)
    screenshot(page, "setup-field-formula-editor")
    page.locator("#field-expression-check").get_by_role("button", name="Use Amount").click()
    expect(status).to_contain_text("Valid formula. Result: Currency")
    shown_when.fill("")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("link", name="Double amount", exact=True)).to_be_visible()
    saved = deal_field(world, "Double_amount")
    assert saved is not None and saved["expression"] == "ROUND(Amount * 2, 2)"


def test_a_rollup_filter_is_checked_against_the_summarised_object(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any
) -> None:
    page = admin_page
    page.goto("/setup/objects/Account/fields/new?type=rollup")
    assert page.get_by_label("Summarised object").input_value() == "Deal"
    where = page.get_by_role("textbox", name="Only records where")
    where.fill("Amount > 100")
    # Amount is Deal's, not Account's: the filter is over the summarised object.
    expect(page.locator("#field-filter-check")).to_contain_text("Valid formula")
    where.fill("Industry = 'x'")
    expect(page.locator("#field-filter-check")).to_contain_text("unknown field 'Industry'")
    assert_accessible(page)


def test_the_field_form_saves_a_formula_without_javascript(
    browser: Any, live_server: str, world: FormulaWorld, sign_in: Any
) -> None:
    with plain_page(browser, live_server, world.tenant, sign_in) as page:
        page.goto("/setup/objects/Deal/fields/new?type=formula")
        page.locator("#field-label").fill("Big")
        page.get_by_label("Result type").select_option("checkbox")
        formula = page.get_by_role("textbox", name="Formula", exact=True)
        assert formula.evaluate("node => node.tagName") == "TEXTAREA"
        formula.fill("Amount > 1000")
        page.get_by_role("button", name="Add field").click()
        expect(page.get_by_role("link", name="Big", exact=True)).to_be_visible()
    saved = deal_field(world, "Big")
    assert saved is not None and saved["expression"] == "Amount > 1000"


def automations_admin(world: FormulaWorld) -> None:
    """A user holding manage_automations (and reading every record), nothing more."""
    permission_set(
        world.tenant,
        "automator",
        system=["manage_automations"],
        all_objects={"read": True},
    )
    member(world.tenant, "automator", permission_sets=["automator"])


def test_the_automation_builder_checks_and_tries_its_formulas(
    page: Any, world: FormulaWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    automations_admin(world)
    sign_in(page, world.tenant.slug, f"automator@{world.tenant.slug}.test", PASSWORD)
    page.goto("/setup/automations/new")
    condition = page.get_by_role("textbox", name="Condition")
    condition.fill("Amout > 100")
    status = page.locator("#setting-condition-check")
    expect(status).to_contain_text("Choose the object first")
    # Choosing the object aims the editor at it: the check, the pickers and Try it.
    page.get_by_role("combobox", name="Object").select_option("Deal")
    expect(status).to_contain_text("Did you mean Amount?")
    assert_underlined(page, condition, "Amout")
    page.get_by_label("Label").fill("Big deals")
    page.get_by_label("API name").fill("big_deals")
    page.get_by_label("Add an action").select_option(label="Update fields")
    page.get_by_role("button", name="Add action").click()
    expect(status).to_contain_text("Did you mean Amount?")  # the form came back as it was
    value = page.get_by_label("Values value 1")
    page.get_by_label("Values field 1").fill("Discount")
    value.fill("Discont / 2")
    expect(page.locator(".formula-status").filter(has_text="Discont")).to_contain_text(
        "Did you mean Discount?"
    )
    assert_accessible(page)
    screenshot(page, "setup-automation-formula-editor")
    status.get_by_role("button", name="Use Amount").click()
    expect(status).to_contain_text("Valid formula. Result: Checkbox")
    record = page.get_by_role("combobox", name="Deal record")
    record.fill("big")
    page.get_by_role("option", name="Big order").click()
    expect(page.locator(".formula-try-result").first).to_contain_text("Value: TRUE")
    value.fill("Discount / 2")
    page.get_by_role("button", name="Save automation").click()
    expect(page.get_by_role("status").filter(has_text="Saved automation")).to_be_visible()
    saved = automation(world, "big_deals").get_json()
    assert saved["condition"] == "Amount > 100"
    assert saved["actions"][0]["values"] == {"Discount": "Discount / 2"}


def test_the_automation_builder_saves_without_javascript(
    browser: Any, live_server: str, world: FormulaWorld, sign_in: Any
) -> None:
    with plain_page(browser, live_server, world.tenant, sign_in) as page:
        page.goto("/setup/automations/new?object=Deal")
        page.get_by_label("API name").fill("plain")
        page.get_by_role("combobox", name="Object").select_option("Deal")
        page.get_by_role("textbox", name="Condition").fill("Amount > 5")
        page.get_by_label("Add an action").select_option(label="Update fields")
        page.get_by_role("button", name="Add action").click()
        page.get_by_label("Values field 1").fill("Discount")
        page.get_by_label("Values value 1").fill("0.1")
        page.get_by_role("button", name="Save automation").click()
        expect(page.get_by_text("Saved automation plain")).to_be_visible()
    saved = automation(world, "plain").get_json()
    assert saved["condition"] == "Amount > 5"
    assert saved["actions"][0]["values"] == {"Discount": "0.1"}


def test_a_sharing_rule_criteria_is_checked(
    admin_page: Any, world: FormulaWorld, assert_accessible: Any
) -> None:
    page = admin_page
    page.goto("/setup/sharing/Deal/rules/new")
    criteria = page.get_by_role("textbox", name="Criteria")
    criteria.fill("Amout > 10000")
    expect(page.locator("#field-criteria-check")).to_contain_text("Did you mean Amount?")
    assert_underlined(page, criteria, "Amout")
    assert_accessible(page)
