"""The app shell in a real browser: navigation by read right, search, sign out, the
keyboard, the phone menu, accessibility and screenshots of each screen."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TenantFixture
from factories import load_sales_example
from flask import Flask
from screen_worlds import ScreensWorld, build_screens_world, reading


@pytest.fixture()
def world(tenant: TenantFixture) -> ScreensWorld:
    return build_screens_world(tenant)


def nav_labels(page: Any) -> list[str]:
    return page.get_by_role("navigation", name="Objects").get_by_role("link").all_inner_texts()


def test_the_navigation_lists_exactly_the_objects_the_user_may_read(
    page: Any, world: ScreensWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    sign_in(page, world.tenant.slug, world.rep_email, world.password)
    assert nav_labels(page) == ["Home", "Accounts", "Deals"]
    home = page.get_by_role("link", name="Home")
    assert home.get_attribute("aria-current") == "page"
    assert page.get_by_role("link", name="Accounts").get_attribute("href") == "/o/Account"
    # Nothing viewed yet, and the rep has no Task object: the friendly empty state.
    assert page.get_by_text("No recent records yet").is_visible()
    assert_accessible(page)
    screenshot(page, "home-empty")


def test_the_administrator_sees_every_object(world: ScreensWorld, admin_page: Any) -> None:
    assert nav_labels(admin_page) == ["Home", "Accounts", "Deals", "Secret plans", "Users"]


def test_search_finds_what_the_user_may_read_by_a_word_of_its_name(
    page: Any, world: ScreensWorld, sign_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    sign_in(page, world.tenant.slug, world.rep_email, world.password)
    search = page.get_by_role("combobox", name="Search")
    search.fill("acme")
    search.press("Enter")
    page.wait_for_url("**/search?q=acme")
    results = page.get_by_role("main")
    groups = results.get_by_role("heading", level=2).all_inner_texts()
    assert groups == ["Accounts", "Deals"]
    found = results.get_by_role("link").all_inner_texts()
    assert found == ["Acme Corporation", "Acme expansion"]
    # Neither the administrator's private deal nor a record of an unreadable object.
    assert "Acme renewal" not in results.inner_text()
    assert "Acme takeover" not in results.inner_text()
    link = results.get_by_role("link", name="Acme Corporation")
    assert link.get_attribute("href") == f"/o/Account/{world.ids['acme']}"
    assert search.input_value() == "acme"
    assert_accessible(page)
    screenshot(page, "search")

    search.fill("no such name")
    search.press("Enter")
    assert page.get_by_text("No records found").is_visible()
    assert_accessible(page)
    screenshot(page, "search-empty")


def test_the_user_menu_leads_to_account_security_and_signs_out(
    world: ScreensWorld, admin_page: Any, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.locator("summary.user-button").click()
    assert page.get_by_text(f"Workspace {world.tenant.slug}", exact=True).is_visible()
    screenshot(page, "user-menu")
    page.get_by_role("link", name="Account security").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Two-factor sign-in"
    assert nav_labels(page)[:2] == ["Home", "Accounts"]
    assert_accessible(page)
    screenshot(page, "account-security")
    page.locator("summary.user-button").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.get_by_role("status").inner_text() == "You have been signed out."
    assert_accessible(page)
    screenshot(page, "login")
    page.goto("/")
    assert page.url.endswith("/login")


def test_the_keyboard_reaches_the_skip_link_the_navigation_and_the_menus(
    world: ScreensWorld, admin_page: Any
) -> None:
    page = admin_page
    page.keyboard.press("Tab")
    focused = page.evaluate_handle("document.activeElement")
    assert focused.inner_text() == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # From the top again: Tab on until a navigation link has the focus.
    page.goto("/")
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
        if page.evaluate("document.activeElement.closest('nav') !== null"):
            break
    assert reached[-1] == "Home", reached
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows where the focus is"
    # The user menu opens with Enter and closes with Escape, focus back on its button.
    page.locator("summary.user-button").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("link", name="Account security").is_visible()
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name="Account security").is_visible()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    # "/" jumps to the search box.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "app-search"


def test_on_a_phone_the_navigation_folds_behind_the_menu_button(
    world: ScreensWorld, admin_page: Any, screenshot: Any
) -> None:
    page = admin_page
    page.set_viewport_size({"width": 375, "height": 800})
    navigation = page.get_by_role("navigation", name="Objects")
    assert not navigation.is_visible()
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert navigation.get_by_role("link", name="Deals").is_visible()
    screenshot(page, "nav-open")
    menu.click()
    assert not navigation.is_visible()


def test_home_shows_recent_records_and_open_tasks(
    app: Flask, admin_page: Any, tenant: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    load_sales_example(app, tenant, accounts=3, owners=[tenant.admin_id])
    # A long name, and one long word, must wrap inside their cells.
    long_name = "Consolidated " * 4 + "Holdings " + "X" * 55  # the example's maximum, 120
    created = tenant.api("POST", "/api/v1/objects/Account/records", json={"Name": long_name})
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = tenant.api("GET", "/api/v1/objects/Account/records?sort=Name").get_json()["data"]
    with reading(tenant, tenant.admin_email) as admin:
        for account in listed:
            admin.remember("Account", account["id"])
    page = admin_page
    page.goto("/")
    recent = page.get_by_role("region", name="Recent records")
    names = recent.get_by_role("link").all_inner_texts()
    assert names == [account["Name"] for account in reversed(listed)]
    tasks = page.get_by_role("region", name="My open tasks")
    assert tasks.get_by_role("link").count() > 0
    widest = page.evaluate("document.documentElement.scrollWidth")
    assert widest <= 1280, "nothing is wider than the window"
    assert "Completed" not in tasks.inner_text()
    assert_accessible(page)
    screenshot(page, "home")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("summary", has_text="Recent").click()
    menu = page.locator("details[open]")
    # The menu fetches its list as it opens.
    menu.locator(".menu-item-title").first.wait_for()
    assert menu.get_by_role("link").all_inner_texts()[0].startswith(listed[-1]["Name"])
    assert menu.get_by_role("link", name="All recent records").is_visible()
    screenshot(page, "recent-menu")
    menu.get_by_role("link", name="All recent records").click()
    page.wait_for_url("**/recent")
    rows = page.get_by_role("region", name="Recent records").get_by_role("link")
    assert rows.all_inner_texts() == [account["Name"] for account in reversed(listed)]
    assert_accessible(page)
    screenshot(page, "recent-page")


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/o/Nothing", 404, "Page not found"),
        ("/o/Secret", 403, "You do not have access"),
        ("/test/fails", 500, "Something went wrong"),
    ],
)
def test_error_pages_are_friendly_and_name_the_request(
    page: Any,
    world: ScreensWorld,
    sign_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    path: str,
    status: int,
    title: str,
) -> None:
    sign_in(page, world.tenant.slug, world.rep_email, world.password)
    response = page.goto(path)
    assert response.status == status
    assert page.get_by_role("heading", level=1).inner_text() == title
    request_id = response.headers["x-request-id"]
    assert request_id in page.get_by_role("main").inner_text()
    assert "Traceback" not in page.content() and "RuntimeError" not in page.content()
    assert_accessible(page)
    screenshot(page, f"error-{status}")
