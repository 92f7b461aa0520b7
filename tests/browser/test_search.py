"""Global search in a real browser: found by a word of a non-name text field, not found
through a field the user may not read, type-ahead chosen with the keyboard, every state
accessible and photographed (start, no results, results, many long results, the open
suggestions)."""

from __future__ import annotations

from typing import Any

import pytest
from access_helpers import create
from conftest import TenantFixture
from search_worlds import SearchWorld, build_search_world

LONG_NOTE = (
    "Quarterly review with the regional procurement board about the harbour expansion, "
    "including the dredging schedule, the crane rental and a long discussion of "
    "penalties; the harbourmaster asked for a revised timeline before the next meeting, "
    "and the finance team wants the invoices split per phase of the works."
)


@pytest.fixture()
def world(tenant: TenantFixture) -> SearchWorld:
    return build_search_world(tenant)


def _search_box(page: Any) -> Any:
    # With JavaScript the search box is a combobox (shell_search.js).
    return page.get_by_role("combobox", name="Search")


def test_a_word_of_a_text_field_finds_the_record_and_suggestions_work_by_keyboard(
    page: Any, world: SearchWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    tenant = world.tenant
    initech = create(tenant, "Account", Name="Initech", Notes="Met at the Lisbon fair")
    create(tenant, "Account", Name="Lisbon Tours", Email="bookings@lisbon-tours.example")
    sign_in(page, tenant.slug, world.rep_email, world.password)
    search = _search_box(page)
    search.click()
    search.press_sequentially("lisb")
    listbox = page.get_by_role("listbox", name="Suggestions")
    listbox.get_by_role("option").first.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    options = listbox.get_by_role("option")
    assert options.count() == 3  # two records, then "All results"
    assert "Initech" in options.all_inner_texts()[1]
    assert_accessible(page)
    screenshot(page, "search-suggestions")
    search.press("ArrowDown")
    search.press("ArrowDown")
    active = search.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").inner_text().startswith("Initech")
    search.press("Enter")
    page.wait_for_url(f"**/o/Account/{initech}")
    assert page.get_by_role("heading", level=1).inner_text() == "Initech"

    # Enter with no suggestion chosen searches: the results page, words marked.
    search = _search_box(page)
    search.fill("lisbon fair")
    search.press("Enter")
    page.wait_for_url("**/search?q=lisbon+fair")
    main = page.get_by_role("main")
    hit = main.get_by_role("link", name="Initech")
    assert hit.get_attribute("href") == f"/o/Account/{initech}"
    assert main.locator("mark").all_inner_texts() == ["Lisbon", "fair"]
    assert_accessible(page)
    screenshot(page, "search-results")


def test_a_field_the_user_may_not_read_finds_nothing(
    page: Any, world: SearchWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Vandelay Industries", Private_notes="Latex and latex goods")
    sign_in(page, tenant.slug, world.rep_email, world.password)
    page.goto("/search")
    assert page.get_by_text("Find a record by any of its words").is_visible()
    assert_accessible(page)
    screenshot(page, "search-start")
    search = _search_box(page)
    search.fill("latex")
    search.press("Enter")
    page.wait_for_url("**/search?q=latex")
    assert page.get_by_text("No records found").is_visible()
    assert "Vandelay" not in page.get_by_role("main").inner_text()
    assert_accessible(page)
    screenshot(page, "search-no-results")


def test_many_results_with_long_values(
    page: Any, world: SearchWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    tenant = world.tenant
    for number in range(12):
        create(
            tenant,
            "Account",
            Name=f"Harbour works contractor number {number} with a rather long trading name",
            Notes=LONG_NOTE,
        )
    create(tenant, "Deal", Name="Harbour crane rental", Notes="Harbourmaster's sign-off")
    page = admin_page
    page.goto("/search?q=harbour")
    main = page.get_by_role("main")
    assert main.get_by_role("heading", level=2).all_inner_texts() == ["Accounts", "Deals"]
    assert "Showing the best 10" in main.inner_text()
    assert "…" in main.inner_text()  # long notes are shown as a window around the words
    assert_accessible(page)
    screenshot(page, "search-many")
