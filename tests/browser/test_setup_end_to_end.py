"""The admin builder end to end, in a real browser: from an empty workspace an
administrator builds a small app through Setup's screens alone (objects, fields of each
kind, a lookup, a formula, a roll-up, a validation rule, a page layout, a list view, an
automation, a permission set hiding a field, an invited user); then that user, signed in
in a browser of their own, works records with it and sees every piece take effect.

Nothing of the app is made through the API or factories: the test reads state only as
the screens show it. Each builder screen passed is checked by axe; screenshots at the
key steps are named ``builder-e2e-*``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from builder_steps import (
    accept_invite,
    add_create_record_automation,
    add_field,
    add_list_view,
    add_permission_set,
    add_validation_rule,
    arrange_layout,
    create_object,
    invite_user,
)
from conftest import TenantFixture
from helpers import wait_for
from playwright.sync_api import expect

PASSWORD = "copper meadow signal"
HIDDEN = "Internal notes"


@pytest.fixture()
def live_worker(app: Any, worker_pool: Any, test_settings: dict[str, Any]) -> Iterator[Any]:
    """A worker on the browser's server's own Redis namespace: it hears that server's
    nudges and runs the automations its record writes queue. The tasks earlier tests
    left queued there (no worker runs that namespace) are dropped first: behind a whole
    suite's backlog, the worker would not run this test's in time."""
    app.extensions["celery"].control.purge()
    pool = worker_pool(redis_namespace=test_settings["redis_namespace"])
    pool.start()
    yield pool


def build_the_app(page: Any, check: Any) -> str:
    """Everything an administrator sets up; returns the invited user's one-time link."""
    create_object(page, check, "Client", "Clients")
    create_object(page, check, "Project", "Projects")
    create_object(page, check, "Kickoff", "Kickoffs")
    add_field(page, check, "Project", "text", HIDDEN)
    add_field(page, check, "Project", "number", "Budget", {"Decimal places": "0"})
    add_field(page, check, "Project", "currency", "Fee", shot="field-currency")
    add_field(page, check, "Project", "date", "Start date")
    add_field(
        page,
        check,
        "Project",
        "picklist",
        "Stage",
        {"Values, one per line": "Planned\nActive\nDone"},
        shot="field-picklist",
    )
    add_field(page, check, "Project", "checkbox", "Billable")
    add_field(
        page, check, "Project", "lookup", "Client", {"Related object": "Client (Client)"}, "lookup"
    )
    add_field(
        page,
        check,
        "Project",
        "formula",
        "Double budget",
        {"Formula": "Budget * 2", "Result type": "Number"},
        shot="field-formula",
    )
    add_field(
        page,
        check,
        "Client",
        "rollup",
        "Total budget",
        {"Summarised object": "Project", "Summary": "Sum", "Field to summarise": "Budget"},
        shot="field-rollup",
    )
    add_validation_rule(
        page,
        check,
        "Project",
        "Budget_not_negative",
        "Budget < 0",
        "The budget cannot be negative.",
        at="Budget",
    )
    arrange_layout(page, check, "Projects", "Money", ("Budget", "Fee", "Double budget"))
    add_list_view(page, check, "Projects", "Active projects", ("Fee",), ("Stage", "eq", "Active"))
    add_create_record_automation(
        page, check, "Kick off new projects", "Project", "Kickoff", {"Name": '"Kick off " & Name'}
    )
    add_permission_set(
        page,
        check,
        "project_team",
        "Project team",
        ("Client", "Project", "Kickoff"),
        hidden=("Project", HIDDEN),
    )
    return invite_user(page, check, "pat@example.test", "Project team")


def assert_hidden_field_absent(page: Any) -> None:
    expect(page.get_by_text(HIDDEN)).to_have_count(0)


def test_an_admin_builds_an_app_in_setup_and_a_user_works_with_it(
    admin_page: Any,
    tenant: TenantFixture,
    browser: Any,
    live_server: str,
    live_worker: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    def check(page: Any, name: str | None = None) -> None:
        assert_accessible(page)
        if name:
            screenshot(page, f"builder-e2e-{name}")

    link = build_the_app(admin_page, check)

    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    try:
        accept_invite(page, link, PASSWORD)
        work_with_the_app(page, screenshot)
    finally:
        context.close()


def work_with_the_app(page: Any, screenshot: Any) -> None:
    """The invited user creates a Client and a Project through the forms."""
    page.get_by_role("link", name="Clients").first.click()
    page.get_by_role("link", name="New").first.click()
    page.get_by_label("Client name").fill("Acme")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")

    page.get_by_role("link", name="Projects").first.click()
    page.get_by_role("link", name="New").first.click()
    assert_hidden_field_absent(page)
    page.get_by_label("Project name").fill("Apollo")
    page.get_by_label("Budget").fill("-5")
    page.get_by_label("Stage").select_option("Active")
    client = page.get_by_role("combobox", name="Client")
    client.fill("Acm")
    page.get_by_role("option", name=re.compile("Acme")).first.click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-Budget-error")).to_have_text("The budget cannot be negative.")
    screenshot(page, "builder-e2e-user-validation")
    page.get_by_label("Budget").fill("1000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apollo")
    expect(page.locator(".record-section-title", has_text="Money")).to_be_visible()
    formula = page.locator("#field-Double_budget")
    expect(formula).to_contain_text("2,000")
    assert_hidden_field_absent(page)
    screenshot(page, "builder-e2e-user-project")

    page.get_by_role("link", name="Acme").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.locator("#field-Total_budget")).to_contain_text("1,000")
    screenshot(page, "builder-e2e-user-client")

    page.get_by_role("link", name="Projects").first.click()
    page.locator("summary.view-picker-button").click()
    page.get_by_role("link", name="Active projects").click()
    expect(page.locator("summary.view-picker-button")).to_contain_text("Active projects")
    headers = page.get_by_role("columnheader")
    expect(headers.filter(has_text="Stage")).to_have_count(1)
    expect(headers.filter(has_text="Fee")).to_have_count(0)
    expect(page.get_by_role("link", name="Apollo")).to_be_visible()
    assert_hidden_field_absent(page)
    screenshot(page, "builder-e2e-user-list")

    # The automation runs on the worker: the list shows its record once it has run.
    page.get_by_role("link", name="Kickoffs").first.click()
    created = page.get_by_role("link", name="Kick off Apollo")
    wait_for(lambda: page.reload() and created.count() == 1)
    expect(created).to_be_visible()
    screenshot(page, "builder-e2e-user-automation")
