"""The board in a real browser: its totals on a request of their own after the page; a
card dragged to another column is saved and the
totals follow; a move a validation rule refuses puts the card back and says why; the
keyboard way (a card's Move button and its list of columns); more cards loaded in
place; the board editor in Setup; axe on each, screenshots at 1280 and 375 px (long
values, an empty column)."""

from __future__ import annotations

from typing import Any

import pytest
from board_worlds import build_board_world, refuse_small_wins
from conftest import TenantFixture
from list_worlds import ListWorld
from playwright.sync_api import expect

BOARD = "/o/Deal/board/pipeline"


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    world = build_board_world(tenant, deals=8)
    refuse_small_wins(tenant)
    long_name = "Deal 004 " + "with a very long name that wraps over several lines " * 2
    deal = next(each for each in world.deals if each["Name"] == "Deal 004")
    url = f"/api/v1/objects/Deal/records/{deal['id']}"
    assert tenant.api("PATCH", url, json={"Name": long_name.strip()}).status_code == 200
    return world


def column(page: Any, label: str) -> Any:
    return page.locator("[data-column]").filter(
        has=page.get_by_role("heading", name=label, exact=True)
    )


def card(page: Any, name: str) -> Any:
    return page.locator("[data-card]").filter(has=page.get_by_role("link", name=name))


def test_the_totals_arrive_on_their_own_request(admin_page: Any, world: ListWorld) -> None:
    page = admin_page
    with page.expect_response(lambda response: response.url.endswith("/totals")) as totals:
        document = page.goto(BOARD)
    # The board itself came uncounted; its script read the totals after it.
    assert document is not None and document.text().count("data-column-totals hidden") == 5
    assert totals.value.url.endswith(f"{BOARD}/totals") and totals.value.ok
    assert totals.value.json()["columns"][0] == {
        "value": "Prospecting",
        "count": 2,
        "total": "12,000.00",
    }
    prospecting = column(page, "Prospecting")
    expect(prospecting.locator("[data-column-count]")).to_have_text("2")
    expect(prospecting.locator("[data-column-total]")).to_have_text("12,000.00")
    expect(column(page, "None").locator("[data-column-totals]")).to_be_visible()
    expect(page.locator("[data-totals-link]")).to_have_count(0)


def test_drag_a_card_and_the_totals_follow(
    admin_page: Any, world: ListWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(BOARD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Deals")
    expect(column(page, "None").get_by_text("No records")).to_be_visible()
    expect(column(page, "None").locator("[data-column-count]")).to_have_text("0")
    assert_accessible(page)
    screenshot(page, "board")
    card(page, "Deal 005").drag_to(column(page, "Closed Won").locator("[data-cards]"))
    expect(page.locator("[data-board-announce]")).to_have_text("Deal 005 moved to Closed Won.")
    expect(column(page, "Closed Won").locator("[data-card]")).to_have_count(3)
    expect(column(page, "Closed Won").locator("[data-column-count]")).to_have_text("3")
    expect(column(page, "Closed Won").locator("[data-column-total]")).to_have_text("13,000.00")
    expect(column(page, "Negotiation").locator("[data-column-count]")).to_have_text("1")
    page.reload()
    expect(column(page, "Closed Won").get_by_role("link", name="Deal 005")).to_be_visible()


def test_a_refused_move_puts_the_card_back_and_says_why(
    admin_page: Any, world: ListWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto(BOARD)
    card(page, "Deal 001").drag_to(column(page, "Closed Won").locator("[data-cards]"))
    alert = page.locator("[data-board-error]")
    expect(alert).to_have_text("Deal 001 was not moved. Only deals of 3,000 or more can be won.")
    expect(column(page, "Negotiation").get_by_role("link", name="Deal 001")).to_be_visible()
    expect(column(page, "Closed Won").locator("[data-card]")).to_have_count(2)
    expect(column(page, "Closed Won").locator("[data-column-count]")).to_have_text("2")
    assert_accessible(page)
    screenshot(page, "board-refused")


def test_the_keyboard_moves_a_card_through_its_move_button(
    admin_page: Any, world: ListWorld, assert_accessible: Any
) -> None:
    page = admin_page
    page.goto(BOARD)
    moving = card(page, "Deal 003")
    moving.locator("summary").focus()
    page.keyboard.press("Enter")
    select = moving.get_by_label("Move to")
    expect(select).to_be_visible()
    assert_accessible(page)
    select.focus()
    select.select_option(label="Prospecting")
    moving.get_by_role("button", name="Move").press("Enter")
    expect(page.locator("[data-board-announce]")).to_have_text("Deal 003 moved to Prospecting.")
    expect(column(page, "Prospecting").get_by_role("link", name="Deal 003")).to_be_visible()
    expect(column(page, "Closed Lost").locator("[data-column-count]")).to_have_text("1")
    # The focus stays on the card's Move button, to move it on.
    assert page.evaluate("document.activeElement.textContent").startswith("Move")


def test_the_board_editor_in_setup(
    admin_page: Any, world: ListWorld, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/list-views/Deal/pipeline")
    board = page.get_by_role("region", name="Board")
    expect(board.get_by_label("Group by")).to_have_value("Stage")
    expect(board.get_by_label("Close date")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "setup-board-editor")
    board.get_by_label("Close date").uncheck()
    page.get_by_role("button", name="Save view").last.click()
    page.wait_for_url("**/setup/list-views/Deal")
    page.goto(BOARD)
    expect(page.locator("[data-card] dt", has_text="Close date")).to_have_count(0)
    expect(page.locator("[data-card] dt", has_text="Amount").first).to_be_visible()


def test_more_cards_load_in_place(
    admin_page: Any, tenant: TenantFixture, assert_accessible: Any
) -> None:
    build_board_world(tenant, deals=90)
    page = admin_page
    page.goto(BOARD)
    prospecting = column(page, "Prospecting")
    expect(prospecting.locator("[data-card]")).to_have_count(20)
    prospecting.get_by_role("link", name="Show more in Prospecting").click()
    expect(prospecting.locator("[data-card]")).to_have_count(22)
    expect(prospecting.get_by_role("link", name="Show more in Prospecting")).to_have_count(0)
    assert_accessible(page)
