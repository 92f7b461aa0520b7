"""Steps of building an app in Setup, through the screens only, as an administrator
would: each helper opens the builder screen it needs from Setup's own links, fills it in
by the visible labels, saves, and waits for the screen to say it saved. ``check(page,
name)`` is called on every builder screen passed (axe, and a screenshot when named).

Used by test_setup_end_to_end.py; kept apart so that the test reads as the story."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

Check = Callable[[Any, str | None], None]


def open_setup(page: Any, section: str) -> None:
    """A section of Setup by its link in Setup's navigation."""
    page.goto("/setup")
    page.get_by_role("navigation", name="Setup").get_by_role("link", name=section).click()


def create_object(page: Any, check: Check, label: str, plural: str) -> None:
    open_setup(page, "Objects")
    page.get_by_role("link", name="New object").first.click()
    page.locator("#field-label").fill(label)
    page.get_by_label("Plural label").fill(plural)
    page.get_by_label("Sharing").select_option("read")
    check(page, f"object-{label.lower()}")
    page.get_by_role("button", name="Create object").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def open_object(page: Any, label: str) -> None:
    open_setup(page, "Objects")
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def add_field(
    page: Any,
    check: Check,
    obj: str,
    kind: str,
    label: str,
    settings: dict[str, str] | None = None,
    shot: str | None = None,
) -> None:
    """A field of type ``kind`` on the object labelled ``obj``; ``settings`` by label:
    a value for a text box, or the option's label for a select."""
    open_object(page, obj)
    page.get_by_role("link", name="New field").click()
    page.wait_for_load_state()  # the script that redraws the form on a new type runs
    types = page.locator("#field-type")
    if types.input_value() != kind:
        # The form redraws for the type (a POST back) before its settings can be filled.
        with page.expect_navigation():
            types.select_option(kind)
    expect(types).to_have_value(kind)
    page.locator("#field-label").fill(label)
    for setting, value in (settings or {}).items():
        # A required setting's label ends in its (hidden from speech) asterisk.
        box = page.get_by_label(re.compile(rf"^{re.escape(setting)}\*?$"))
        if box.evaluate("element => element.tagName") == "SELECT":
            box.select_option(label=value)
        else:
            box.fill(value)
    check(page, shot)
    page.get_by_role("button", name="Add field").click()
    table = page.get_by_role("table", name=f"Fields of {obj}")
    expect(table.get_by_role("link", name=label, exact=True)).to_be_visible()


def add_validation_rule(
    page: Any, check: Check, obj: str, name: str, condition: str, message: str, at: str
) -> None:
    open_setup(page, "Validation rules")
    page.get_by_role("link", name=obj, exact=True).click()
    page.get_by_role("link", name="New rule").first.click()
    page.get_by_label("Rule name").fill(name)
    page.get_by_label("Condition").fill(condition)
    page.get_by_label("Error message").fill(message)
    page.get_by_label("Show the message at").select_option(label=at)
    check(page, "validation-rule")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text(f"Validation rule {name} added.")).to_be_visible()


def arrange_layout(
    page: Any, check: Check, plural: str, section: str, fields: tuple[str, ...]
) -> None:
    """A second section, labelled ``section``, holding ``fields`` (moved by keyboard)."""
    open_setup(page, "Page layouts")
    page.get_by_role("main").get_by_role("link", name=plural, exact=True).click()
    page.locator("[data-layout-editor]").wait_for()
    page.get_by_role("button", name="Add section").click()
    labels = page.get_by_label("Section label")  # the new one is above System information
    label = labels.nth(labels.count() - 2)
    label.fill(section)
    label.press("Tab")
    for field in fields:
        page.get_by_role("button", name=f"{field}: settings and moves", exact=True).click()
        page.get_by_label("Move to section").select_option(label=f"Details › {section}")
    check(page, "layout")
    page.get_by_role("button", name="Save layout").click()
    expect(page.locator(".flash")).to_contain_text(f"Saved the page layout of {plural}.")


def add_list_view(
    page: Any,
    check: Check,
    plural: str,
    label: str,
    columns_off: tuple[str, ...],
    filter_on: tuple[str, str, str],
) -> None:
    """A shared view: the generated columns less ``columns_off``, one filter."""
    open_setup(page, "List views")
    page.get_by_role("main").get_by_role("link", name=plural, exact=True).click()
    page.get_by_role("link", name="New view").click()
    page.get_by_label("Label").fill(label)
    for column in columns_off:
        page.get_by_role("region", name="Columns").get_by_label(column, exact=True).uncheck()
    field, condition, value = filter_on
    page.get_by_label("Field").first.select_option(label=field)
    page.get_by_label("Condition").first.select_option(condition)
    page.get_by_label("Value").first.fill(value)
    check(page, "list-view")
    page.get_by_role("button", name="Save view").last.click()
    expect(page.locator(".flash")).to_contain_text(f"Saved the view “{label}”")


def add_create_record_automation(
    page: Any, check: Check, label: str, obj: str, target: str, values: dict[str, str]
) -> None:
    """When an ``obj`` record is created, create a ``target`` record with ``values``
    (field name: formula)."""
    open_setup(page, "Automations")
    page.get_by_role("link", name="New automation").first.click()
    page.get_by_label("Label").fill(label)
    # The API name is suggested from the label, as on the object and field forms.
    expect(page.get_by_label("API name")).to_have_value(label.replace(" ", "_"))
    page.get_by_role("combobox", name="Object").select_option(obj)
    page.get_by_label("Trigger").select_option("created")
    page.get_by_label("Add an action").select_option(label="Create record")
    page.get_by_role("button", name="Add action").click()
    page.locator("#control-actions-0-object").fill(target)
    for row, (field, formula) in enumerate(values.items(), start=1):
        page.get_by_label(f"Values field {row}").fill(field)
        page.get_by_label(f"Values value {row}").fill(formula)
    check(page, "automation")
    page.get_by_role("button", name="Save automation").click()
    expect(page.locator(".flash")).to_contain_text(f"Saved automation {label}")


def add_permission_set(
    page: Any,
    check: Check,
    name: str,
    label: str,
    objects: tuple[str, ...],
    hidden: tuple[str, str],
) -> None:
    """A set granting read, create and edit on ``objects``, with ``hidden`` (object,
    field label) unreadable."""
    open_setup(page, "Permission sets")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Label").fill(label)
    page.get_by_role("button", name="Create and edit").click()
    for obj in objects:
        for right in ("Read", "Create", "Edit"):
            page.get_by_label(f"{right} on {obj}", exact=True).check()
    check(page, "permission-set")
    page.get_by_role("button", name="Save permission set").click()
    expect(page.get_by_text(f"Saved permission set {label}.")).to_be_visible()
    obj, field = hidden
    page.get_by_role("link", name=f"Field access on {obj}").click()
    page.get_by_label(f"Read {field}").uncheck()
    check(page, "field-access")
    page.get_by_role("button", name="Save field access").click()
    expect(page.get_by_text("Saved the field access")).to_be_visible()


def invite_user(page: Any, check: Check, email: str, permission_set: str) -> str:
    """Invite ``email`` holding only ``permission_set``; the one-time link."""
    open_setup(page, "Users")
    page.get_by_role("link", name="Invite user").click()
    page.get_by_label("Email").fill(email)
    for box in page.locator("[name=permission_sets]").all():
        box.uncheck()
    page.get_by_label(permission_set, exact=True).check()
    check(page, "invite")
    page.get_by_role("button", name="Invite and make link").click()
    link: str = page.get_by_label("One-time link").input_value()
    return link


def accept_invite(page: Any, link: str, password: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Trellis")
    page.get_by_label("New password").fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
