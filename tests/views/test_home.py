"""The home page: recent records and open tasks (the user's own, not done, soonest due
first), with friendly empty states."""

from __future__ import annotations

from typing import Any

from access_helpers import create
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import build_screens_world, reading, sign_in

from trellis.examples.sales_crm import load_package
from trellis.views.home import closed_statuses, open_tasks

STATUS_TASK = {
    "api_name": "Task",
    "label": "Task",
    "plural_label": "Tasks",
    "name_field": "Subject",
    "fields": [
        {"api_name": "Subject", "type": "text", "required": True},
        {
            "api_name": "Status",
            "type": "picklist",
            "values": ["Not Started", "In Progress", "Waiting", "Completed", "Deferred"],
        },
        {"api_name": "DueDate", "type": "date"},
    ],
}
CHECKBOX_TASK = {
    "api_name": "Task",
    "label": "To-do",
    "plural_label": "To-dos",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Completed", "type": "checkbox"},
        {"api_name": "DueDate", "type": "date"},
    ],
}


def define(tenant: TenantFixture, definition: dict[str, Any]) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def tasks_of(tenant: TenantFixture, email: str) -> tuple[list[str], int] | None:
    with reading(tenant, email) as reader:
        tasks = open_tasks(reader.connection, reader.access, reader.schema, limit=3)
    if tasks is None:
        return None
    assert tasks.name_field is not None
    return [row[tasks.name_field] for row in tasks.rows], tasks.total


def test_open_tasks_are_the_users_own_not_done_soonest_due_first(tenant: TenantFixture) -> None:
    define(tenant, STATUS_TASK)
    for subject, status, due in (
        ("Call later", "Not Started", "2027-03-01"),
        ("Call first", "In Progress", "2027-01-10"),
        ("Already done", "Completed", "2027-01-01"),
        ("Put off", "Deferred", "2027-02-01"),
        ("Someday", "Waiting", None),
    ):
        create(tenant, "Task", Subject=subject, Status=status, DueDate=due)
    world = build_screens_world(tenant)
    permission_set(tenant, "tasks", objects={"Task": {"read": True, "create": True, "edit": True}})
    tenant.api("PATCH", f"/api/v1/users/{world.rep.id}", json={"permission_sets": ["tasks"]})
    create(tenant, "Task", token=world.rep.token, Subject="The rep's call", Status="Not Started")
    # Four open tasks, the three soonest shown; no due date comes last.
    assert tasks_of(tenant, tenant.admin_email) == (["Call first", "Put off", "Call later"], 4)
    assert tasks_of(tenant, world.rep_email) == (["The rep's call"], 1)


def test_a_completed_checkbox_closes_a_task(tenant: TenantFixture) -> None:
    define(tenant, CHECKBOX_TASK)
    create(tenant, "Task", Name="Open one", DueDate="2027-01-02")
    create(tenant, "Task", Name="Done one", Completed=True, DueDate="2027-01-01")
    assert tasks_of(tenant, tenant.admin_email) == (["Open one"], 1)


def test_no_task_object_or_no_right_to_read_it_means_no_tasks(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    assert tasks_of(tenant, tenant.admin_email) is None
    define(tenant, STATUS_TASK)
    assert tasks_of(tenant, tenant.admin_email) == ([], 0)
    assert tasks_of(tenant, world.rep_email) is None  # the rep may not read tasks


def test_closed_statuses_of_the_sales_example() -> None:
    task = next(each for each in load_package()["objects"] if each["api_name"] == "Task")
    status = next(field for field in task["fields"] if field["api_name"] == "Status")
    assert closed_statuses(status) == ["Completed"]
    other = {"values": ["Open", {"value": "Closed Won"}, "Done", {"value": "Cancelled"}, "Later"]}
    assert closed_statuses(other) == ["Closed Won", "Done", "Cancelled"]


def test_the_home_page_shows_recent_records_and_tasks(tenant: TenantFixture, client: Any) -> None:
    define(tenant, STATUS_TASK)
    task = create(tenant, "Task", Subject="Send the <proposal>", DueDate="2020-01-01")
    world = build_screens_world(tenant)
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", world.ids["acme"])
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    html = client.get("/").get_data(as_text=True)
    assert f'href="/o/Account/{world.ids["acme"]}">Acme Corporation</a>' in html
    assert f'href="/o/Task/{task}">Send the &lt;proposal&gt;</a>' in html
    assert "Overdue · 1 Jan 2020" in html
    assert "No recent records yet" not in html and "No open tasks" not in html


def test_the_home_page_has_friendly_empty_states(tenant: TenantFixture, client: Any) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    html = client.get("/").get_data(as_text=True)
    assert "No recent records yet" in html
    assert "My open tasks" not in html  # no Task object in this workspace
    define(tenant, STATUS_TASK)
    assert "No open tasks" in client.get("/").get_data(as_text=True)


def test_the_home_page_needs_a_sign_in(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
