"""Mass actions and export from the list screen in a real browser: editing 30 deals of
which a validation rule refuses 2, deleting after the confirmation, and downloading the
list as shown; axe on each step, screenshots (mass-*, export-*) at 1280 and 375 px."""

from __future__ import annotations

import csv
import re
from typing import Any

import pytest
from conftest import TenantFixture
from mass_worlds import RULE_MESSAGE, MassWorld, build_mass_world
from playwright.sync_api import expect


@pytest.fixture()
def world(tenant: TenantFixture) -> MassWorld:
    return build_mass_world(tenant, deals=30, undated=(7, 19))


def open_list(page: Any, world: MassWorld, sign_in: Any, query: str = "sort=Name") -> None:
    sign_in(page, world.tenant.slug, world.rep_email, world.password)
    page.goto(f"/o/Deal?{query}")
    expect(page.locator("[data-list-total]")).not_to_be_empty()


def test_a_mass_edit_of_30_deals_names_the_2_a_rule_refused(
    page: Any, world: MassWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    open_list(page, world, sign_in)
    page.get_by_label("Select all", exact=True).check()
    page.get_by_label("Select Admin deal").uncheck()
    expect(page.locator("[data-list-selected-count]")).to_have_text("30 selected")
    expect(page.get_by_label("Select all", exact=True)).not_to_be_checked()
    assert page.get_by_label("Select Deal 07").is_checked()
    assert_accessible(page)
    screenshot(page, "mass-list-selected")

    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit 30 deals")
    change = page.get_by_label("Change Stage")
    expect(change).not_to_be_checked()
    page.get_by_role("combobox", name="Stage", exact=True).select_option("Closed Won")
    expect(change).to_be_checked()  # choosing a value ticks its field
    assert page.get_by_label("Region").count() == 0  # hidden from the rep
    assert_accessible(page)
    screenshot(page, "mass-edit")

    page.get_by_role("button", name="Save 30 deals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("28 of 30 deals saved")
    refused = page.get_by_role("table").locator("tbody tr")
    assert refused.count() == 2
    assert refused.all_inner_texts() == [
        f"Deal 07\t{RULE_MESSAGE}",
        f"Deal 19\t{RULE_MESSAGE}",
    ]
    assert world.read(world.deals["Deal 08"])["Stage"] == "Closed Won"
    assert world.read(world.deals["Deal 07"])["Stage"] == "Prospecting"
    assert_accessible(page)
    screenshot(page, "mass-summary")


def test_a_mass_delete_asks_first_saying_how_many(
    page: Any, world: MassWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    open_list(page, world, sign_in, "sort=Name&limit=25")
    # More than one page: the whole view can be chosen, named with its count.
    expect(page.locator("[data-list-scope-label]")).to_have_text("Select all 31 matching this view")
    page.get_by_label("Select Deal 01").check()
    page.get_by_label("Select Deal 02").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete 2 deals?")
    assert page.locator(".mass-names li").all_inner_texts() == ["Deal 01", "Deal 02"]
    assert_accessible(page)
    screenshot(page, "mass-delete")
    page.get_by_role("button", name="Delete 2 deals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2 of 2 deals deleted")
    page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("[data-list-total]")).not_to_be_empty()
    assert page.get_by_label("Select Deal 01").count() == 0
    assert page.get_by_label("Select Deal 03").count() == 1


def test_the_list_downloads_as_shown(
    page: Any,
    world: MassWorld,
    sign_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    tmp_path: Any,
) -> None:
    open_list(page, world, sign_in, "sort=-Amount&Amount__gte=2800")
    assert_accessible(page)
    screenshot(page, "export-list")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export").click()
    file = download.value
    assert re.fullmatch(r"Deal-\d{4}-\d{2}-\d{2}\.csv", file.suggested_filename)
    target = tmp_path / file.suggested_filename
    file.save_as(target)
    with target.open(newline="", encoding="utf-8") as opened:
        rows = list(csv.reader(opened))
    assert rows[0][0] == "Id"
    names = [row[rows[0].index("Deal name")] for row in rows[1:]]
    assert names == ["Deal 30", "Deal 29", "Deal 28"]
    assert rows[1][0] == world.deals["Deal 30"]
    assert rows[1][rows[0].index("Amount")] == "3000"
