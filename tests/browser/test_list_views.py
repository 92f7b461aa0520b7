"""The list screen in a real browser: from the navigation to a list, sorting by a header,
pages both ways, the filter panel, type-ahead search, the column chooser and resizing,
saving a private view, field-level security and restricted lookups, 200 rows and the
phone; axe on each state, screenshots at 1280 and 375 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import TenantFixture
from list_worlds import ListWorld, build_list_world
from playwright.sync_api import expect


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_list_world(tenant, deals=120)


def open_deals(page: Any, world: ListWorld, sign_in: Any) -> None:
    sign_in(page, world.tenant.slug, world.rep_email, world.password)
    if page.viewport_size["width"] < 768:  # the navigation folds behind the menu button
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Objects").get_by_role("link", name="Deals").click()
    page.wait_for_url("**/o/Deal")
    expect(page.locator("[data-list-total]")).not_to_be_empty()


def rows(page: Any) -> Any:
    return page.locator("[data-list-table] tbody tr")


def first_amount(page: Any) -> str:
    return rows(page).first.locator("td.list-cell").nth(1).locator(".cell-value").inner_text()


def headers(page: Any) -> list[str]:
    return [
        text.strip()
        for text in page.locator("[data-list-table] thead th[data-column]").all_text_contents()
    ]


def test_list_sort_page_filter_and_search(
    page: Any, world: ListWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    open_deals(page, world, sign_in)
    assert page.get_by_role("heading", level=1).inner_text() == "Deals"
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"1–50 of 120"))
    assert rows(page).count() == 50
    assert page.get_by_role("link", name="New").get_attribute("href") == "/o/Deal/new"
    assert_accessible(page)
    screenshot(page, "list")

    # Sort by a header, then the other way round.
    page.locator("thead").get_by_role("link", name="Amount").click()
    page.wait_for_url(re.compile(r"sort=Amount$"))
    amount_header = page.locator("th", has_text="Amount")
    assert amount_header.get_attribute("aria-sort") == "ascending"
    assert first_amount(page) == "1,000.00"
    page.locator("thead").get_by_role("link", name="Amount").click()
    page.wait_for_url(re.compile(r"sort=-Amount$"))
    assert page.locator("th", has_text="Amount").get_attribute("aria-sort") == "descending"
    assert first_amount(page) == "120,000.00"

    # Pages load in place, and the address follows.
    page.get_by_role("link", name="Next").click()
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"51–100 of 120"))
    assert "cursor=" in page.url and first_amount(page) == "70,000.00"
    page.get_by_role("link", name="Previous").click()
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"^.*1–50 of 120"))
    assert first_amount(page) == "120,000.00"
    assert page.get_by_role("link", name="Previous").count() == 0

    # The filter panel: one text and one number operator.
    page.get_by_text("Filters", exact=True).click()
    panel = page.locator("[data-filter-form]")
    panel.get_by_label("Deal name", exact=True).select_option("contains")
    panel.get_by_label("Deal name value").fill("7")
    panel.get_by_label("Amount", exact=True).select_option("gte")
    panel.get_by_label("Amount value").fill("50000")
    panel.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"Name__contains=7"))
    chips = page.get_by_role("list", name="Filters in force")
    expect(chips).to_contain_text("Deal name contains 7")
    expect(chips).to_contain_text("Amount at least 50000")
    names = rows(page).locator("td.cell-record").all_inner_texts()
    assert names and all("7" in name for name in names)
    assert_accessible(page)
    screenshot(page, "list-filtered")

    # Type-ahead search over the name, within the filters.
    search = page.get_by_role("searchbox", name="Search Deals")
    search.fill("7 1")  # every word: a 7 (the filter's) and a 1
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"1–3 of 3"))
    assert sorted(rows(page).locator("td.cell-record").all_inner_texts()) == [
        "Deal 071",
        "Deal 107",
        "Deal 117",
    ]
    assert "q=7+1" in page.url
    search.fill("zzz")
    expect(page.get_by_text("No deals match these filters")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "list-empty")


def test_choose_columns_resize_and_save_a_private_view(
    page: Any, world: ListWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    open_deals(page, world, sign_in)
    page.get_by_text("Columns", exact=True).click()
    chooser = page.locator("[data-column-chooser]")
    chooser.get_by_role("checkbox", name="Close date").uncheck()
    chooser.get_by_role("checkbox", name="Notes").check()
    chooser.get_by_role("button", name="Move Stage up").click()
    labels = chooser.locator("[data-chooser-item] label").all_inner_texts()
    assert labels[:3] == ["Deal name", "Stage", "Amount"]
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move Stage up"
    # The keyboard moves it back down.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert chooser.locator("[data-chooser-item] label").all_inner_texts()[1] == "Amount"
    chooser.get_by_role("button", name="Move Stage up").click()
    assert_accessible(page)
    screenshot(page, "column-chooser")
    chooser.get_by_role("button", name="Apply").last.click()
    page.wait_for_url("**/o/Deal")
    assert headers(page) == ["Deal name", "Stage", "Amount", "Account", "Notes"]

    # Resize Amount from the keyboard; the width is remembered.
    handle = page.get_by_role("separator", name="Resize Amount")
    before = int(handle.get_attribute("aria-valuenow"))
    with page.expect_response(lambda response: response.url.endswith("/list/columns")) as sent:
        handle.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
    assert sent.value.status == 204
    page.reload()
    width = page.locator('col[data-column="Amount"]').get_attribute("class")
    assert width == f"col-w-{round((before + 60) / 20) * 20}"

    page.get_by_text("Save view", exact=True).click()
    page.get_by_label("New view name").fill("My pipeline")
    page.get_by_role("button", name="Save as").click()
    page.wait_for_url(re.compile(r"view=my_pipeline"))
    assert page.get_by_role("status").first.inner_text() == "Saved the view “My pipeline”."
    page.reload()
    picker = page.locator("summary.view-picker-button")
    assert picker.inner_text().strip().endswith("My pipeline")
    assert headers(page) == ["Deal name", "Stage", "Amount", "Account", "Notes"]
    picker.click()
    expect(page.get_by_role("link", name="My pipeline")).to_have_attribute("aria-current", "true")
    assert_accessible(page)


def test_a_hidden_field_and_a_restricted_lookup(
    page: Any, world: ListWorld, sign_in: Any, assert_accessible: Any
) -> None:
    open_deals(page, world, sign_in)
    assert "Margin" not in headers(page)
    assert "12.5%" not in page.content()
    page.get_by_text("Filters", exact=True).click()
    panel = page.locator("[data-filter-form]")
    expect(panel).to_be_visible()  # fetched as the panel opens
    assert panel.get_by_label("Margin", exact=True).count() == 0
    add = panel.get_by_label("Add a filter on")
    assert "Margin" not in add.locator("option").all_inner_texts()
    page.get_by_text("Columns", exact=True).click()
    chooser = page.locator("[data-column-chooser]")
    expect(chooser.get_by_role("checkbox", name="Deal name")).to_be_visible()
    assert chooser.get_by_role("checkbox", name="Margin").count() == 0
    accounts = rows(page).locator("td.list-cell:nth-child(6)")
    assert accounts.count() == 50
    restricted = page.locator("td .value-restricted")
    assert restricted.count() > 0 and restricted.first.inner_text() == "Restricted record"
    assert page.locator(f'a[href="/o/Account/{world.globex}"]').count() == 0
    acme = page.get_by_role("link", name="Acme Corporation").first
    assert acme.get_attribute("href") == f"/o/Account/{world.acme}"
    assert_accessible(page)


def test_two_hundred_rows(
    page: Any,
    tenant: TenantFixture,
    sign_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    world = build_list_world(tenant, deals=230)
    sign_in(page, tenant.slug, tenant.admin_email, tenant.admin_password)
    page.goto("/o/Deal?limit=200&sort=Name")
    assert rows(page).count() == 200
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"1–200 of 230"))
    assert headers(page) == ["Deal name", "Amount", "Stage", "Close date", "Account", "Margin"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert len(world.deals) == 230
    assert_accessible(page)
    screenshot(page, "list-200")


def test_on_a_phone_rows_are_cards(
    page: Any, world: ListWorld, sign_in: Any, assert_accessible: Any
) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    open_deals(page, world, sign_in)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card = rows(page).first
    assert card.locator("td.list-cell:nth-child(3) .cell-label").inner_text() == "Amount"
    assert card.locator("td.cell-record .cell-label").is_hidden()
    page.get_by_role("searchbox", name="Search Deals").fill("Deal 119")
    expect(page.locator("[data-list-range]")).to_have_text(re.compile(r"1–1\b"))
    page.get_by_text("Filters", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.get_by_label("Sort by")).to_be_visible()  # the panel is fetched as it opens
    assert_accessible(page)
