"""Automation actions from the registry: update_related on a real worker, a plugin's action
(the chat_notify example) end to end, action types that are unknown or uninstalled,
definition errors refused at save time, and the static check of automation loops."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY, CRM_TASK, add_automation, runs
from flask import Flask
from helpers import assert_envelope, wait_for

from trellis.automation.actions import ActionRegistry, ActionType
from trellis.automation.execute import execute_run
from trellis.outbox.dispatch import dispatch_pending
from trellis.outbox.tasks import consumers_of
from trellis.records.tables import records as records_table
from trellis.webhooks.signing import verify

SYNC_TASKS = {
    "api_name": "sync_tasks",
    "object": "Opportunity",
    "trigger": "updated",
    "timing": "after_save",
    "only_when_changed_to_meet": True,
    "condition": 'ISPICKVAL(Stage, "Closed Won")',
    "actions": [
        {
            "type": "update_related",
            "object": "Task",
            "lookup": "Opportunity",
            "filter": "ISBLANK(DueDate)",
            "values": {
                "Subject": 'Opportunity.Name & " won: " & Subject',
                "DueDate": "Opportunity.CloseDate + 1",
            },
        }
    ],
}


def create(
    crm: TenantFixture, obj: str, values: dict[str, Any], app: Flask | None = None
) -> dict[str, Any]:
    response = crm.api("POST", f"/api/v1/objects/{obj}/records", json=values, app=app)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(crm: TenantFixture, obj: str, record: dict[str, Any]) -> dict[str, Any]:
    return crm.api("GET", f"/api/v1/objects/{obj}/records/{record['id']}").get_json()


def test_update_related_updates_the_children_its_filter_selects(crm: TenantFixture) -> None:
    add_automation(crm, SYNC_TASKS)
    deal = create(
        crm, "Opportunity", {"Name": "Acme", "Stage": "Negotiation", "CloseDate": "2030-05-01"}
    )
    other = create(crm, "Opportunity", {"Name": "Other"})
    open_task = create(crm, "Task", {"Subject": "call", "Opportunity": deal["id"]})
    dated_task = create(
        crm, "Task", {"Subject": "demo", "Opportunity": deal["id"], "DueDate": "2030-01-01"}
    )
    elsewhere = create(crm, "Task", {"Subject": "mail", "Opportunity": other["id"]})
    crm.api(
        "PATCH", f"/api/v1/objects/Opportunity/records/{deal['id']}", json={"Stage": "Closed Won"}
    )
    assert wait_for(lambda: runs(crm, automation="sync_tasks", status="succeeded"))
    updated = get(crm, "Task", open_task)
    assert (updated["Subject"], updated["DueDate"]) == ("Acme won: call", "2030-05-02")
    assert updated["version"] == 2
    # Written through the records service: the change is in the record's history.
    history = crm.api("GET", f"/api/v1/objects/Task/records/{open_task['id']}/history")
    assert history.get_json()["data"][0]["changes"]["Subject"] == ["call", "Acme won: call"]
    assert get(crm, "Task", dated_task)["Subject"] == "demo"  # filtered out
    assert get(crm, "Task", elsewhere)["Subject"] == "mail"  # another deal's task


def test_update_related_reaches_the_parent_without_a_filter(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "count_tasks",
            "object": "Task",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {
                    "type": "update_related",
                    "object": "Opportunity",
                    "lookup": "Opportunity",
                    "direction": "parent",
                    "values": {
                        "Touches": "BLANKVALUE(Touches, 0) + 1",
                        "Segment": '"seen: " & Name',
                    },
                }
            ],
        },
    )
    deal = create(crm, "Opportunity", {"Name": "Parent"})
    create(crm, "Task", {"Subject": "a", "Opportunity": deal["id"]})
    create(crm, "Task", {"Subject": "b", "Opportunity": deal["id"]})
    create(crm, "Task", {"Subject": "orphan"})  # no parent: nothing to update
    done = wait_for(lambda: len(runs(crm, status="succeeded")) == 3)
    assert done, runs(crm)
    parent = get(crm, "Opportunity", deal)
    # Two runs on one parent: each read it after the other's write (rows are locked).
    assert parent["Touches"] == 2 and parent["Segment"] == "seen: Parent"


def test_update_related_refuses_more_than_the_cap(
    crm: TenantFixture, pg_engine: sa.engine.Engine
) -> None:
    add_automation(crm, SYNC_TASKS)
    deal = create(crm, "Opportunity", {"Name": "Huge", "Stage": "Negotiation"})
    task = create(crm, "Task", {"Subject": "one", "Opportunity": deal["id"]})
    with pg_engine.begin() as connection:
        object_id = connection.execute(
            sa.select(records_table.c.object_id).where(records_table.c.id == uuid.UUID(task["id"]))
        ).scalar_one()
        connection.execute(
            records_table.insert(),
            [
                {
                    "tenant_id": crm.id,
                    "object_id": object_id,
                    "data": {"Subject": f"t{n}", "Opportunity": deal["id"]},
                }
                for n in range(1000)
            ],
        )
    crm.api(
        "PATCH", f"/api/v1/objects/Opportunity/records/{deal['id']}", json={"Stage": "Closed Won"}
    )
    dead = wait_for(lambda: runs(crm, automation="sync_tasks", status="dead"))
    assert dead and "More than 1000 related Task records" in dead[0]["error"]
    assert get(crm, "Task", task)["Subject"] == "one"  # all or nothing


def test_plugin_action_posts_a_chat_message(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    add_automation(
        crm,
        {
            "api_name": "announce",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {
                    "type": "chat.post_message",
                    "url": url,
                    "secret": "chat-secret",
                    "text": "New deal {{ Name }} worth {{ Amount }}",
                }
            ],
        },
    )
    create(crm, "Opportunity", {"Name": "Globex", "Amount": 5000})
    [run] = wait_for(lambda: runs(crm, automation="announce", status="succeeded"))
    [delivery] = handler.deliveries
    assert json.loads(delivery["body"]) == {"text": "New deal Globex worth 5000"}
    assert delivery["headers"]["X-Trellis-Delivery"] == f"{run['id']}:0"
    assert verify(
        "chat-secret",
        delivery["headers"]["X-Trellis-Timestamp"],
        delivery["headers"]["X-Trellis-Signature"],
        delivery["body"],
    )


def _objects(tenant: TenantFixture) -> None:
    for definition in (CRM_OPPORTUNITY, CRM_TASK):
        assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201


def _automation(tenant: TenantFixture, definition: dict[str, Any], app: Flask | None = None) -> Any:
    return tenant.api("POST", "/api/v1/meta/automations", json=definition, app=app)


def test_unknown_and_uninstalled_action_types(
    tenant: TenantFixture, make_app: Any, receiver: Any
) -> None:
    _objects(tenant)
    chat = {
        "api_name": "announce",
        "object": "Opportunity",
        "trigger": "created",
        "timing": "after_save",
        "actions": [{"type": "chat.post_message", "url": receiver[0], "text": "{{ Name }}"}],
    }
    assert _automation(tenant, chat).status_code == 201
    unknown = _automation(
        tenant, {**chat, "api_name": "other", "actions": [{"type": "acme.nope", "anything": 1}]}
    )
    errors = assert_envelope(unknown, 422, "formula_error")["errors"]
    assert "Unknown action type 'acme.nope'" in errors["automations.other.actions.0.type"][0]
    assert "chat.post_message" in errors["automations.other.actions.0.type"][0]

    # The plugin is removed: a new automation cannot use its action ...
    without = make_app(plugin_modules="")
    refused = _automation(tenant, {**chat, "api_name": "again"}, app=without)
    assert "automations.again.actions.0.type" in assert_envelope(refused, 422)["errors"]
    # ... the saved one does not block other changes to the object ...
    assert (
        _automation(
            tenant,
            {
                "api_name": "stamp",
                "object": "Opportunity",
                "trigger": "created",
                "timing": "before_save",
                "actions": [{"type": "update_fields", "values": {"Segment": '"new"'}}],
            },
            app=without,
        ).status_code
        == 201
    )
    # ... and its runs fail with a clear error instead of crashing the worker.
    create(tenant, "Opportunity", {"Name": "Initech"}, app=without)
    state = without.extensions["trellis"]
    # In this process: the test worker has the plugin.
    dispatch_pending(state.database, state.metadata_cache, consumers_of(state))
    [queued] = tenant.api("GET", "/api/v1/automation-runs").get_json()["data"]
    status = execute_run(
        state.database, state.metadata_cache, state.config, tenant.id, queued["id"]
    )
    [run] = tenant.api("GET", "/api/v1/automation-runs").get_json()["data"]
    assert status == "failed" and run["status"] == "failed"
    assert "'chat.post_message' is not installed" in run["error"]
    assert receiver[1].deliveries == []


@pytest.mark.parametrize(
    ("action", "place", "message"),
    [
        ({"object": "Nothing", "lookup": "Opportunity"}, "object", "No object 'Nothing'"),
        (
            {"object": "Task", "lookup": "Subject"},
            "lookup",
            "Name a lookup field of Task that points at Opportunity",
        ),
        (
            {"object": "Task", "lookup": "Opportunity", "direction": "parent"},
            "lookup",
            "Name a lookup field of Opportunity that points at Task",
        ),
        (
            {"object": "Task", "lookup": "Opportunity", "filter": "Subject"},
            "filter",
            "must return Checkbox",
        ),
        (
            {"object": "Task", "lookup": "Opportunity", "values": {"DueDate": "Opportunity.Name"}},
            "values.DueDate",
            "must return Date",
        ),
        (
            {"object": "Task", "lookup": "Opportunity", "values": {"Nope": "1"}},
            "values.Nope",
            "Task has no writable field 'Nope'",
        ),
    ],
)
def test_update_related_definitions_are_checked(
    tenant: TenantFixture, action: dict[str, Any], place: str, message: str
) -> None:
    _objects(tenant)
    response = _automation(
        tenant,
        {
            "api_name": "bad",
            "object": "Opportunity",
            "trigger": "updated",
            "timing": "after_save",
            "actions": [
                {"type": "update_related", "values": {"Subject": 'Subject & "!"'}, **action}
            ],
        },
    )
    errors = assert_envelope(response, 422)["errors"]
    assert message in " ".join(errors[f"automations.bad.actions.0.{place}"]), errors


def test_plugin_action_properties_are_checked_against_its_schema(tenant: TenantFixture) -> None:
    _objects(tenant)
    response = _automation(
        tenant,
        {
            "api_name": "bad_chat",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {
                    "type": "chat.post_message",
                    "url": "ftp://chat",
                    "text": "{{ Name ",
                    "colour": "red",
                }
            ],
        },
    )
    errors = assert_envelope(response, 422)["errors"]
    assert "automations.bad_chat.actions.0.url" in errors
    assert "Unknown properties: colour" in errors["automations.bad_chat.actions.0"][0]
    fixed = _automation(
        tenant,
        {
            "api_name": "bad_chat",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "chat.post_message", "url": "https://chat.test/hook", "text": "{{ Name "}
            ],
        },
    )
    assert (
        "Template error"
        in assert_envelope(fixed, 422)["errors"]["automations.bad_chat.actions.0.text"][0]
    )


LOOP_OPPORTUNITY = {
    "api_name": "to_tasks",
    "object": "Opportunity",
    "trigger": "updated",
    "timing": "after_save",
    "actions": [
        {
            "type": "update_related",
            "object": "Task",
            "lookup": "Opportunity",
            "values": {"Subject": "Opportunity.Name"},
        }
    ],
}
LOOP_TASK = {
    "api_name": "to_deal",
    "object": "Task",
    "trigger": "created_or_updated",
    "timing": "after_save",
    "actions": [
        {
            "type": "update_related",
            "object": "Opportunity",
            "lookup": "Opportunity",
            "direction": "parent",
            "values": {"Segment": '"touched"'},
        }
    ],
}


def test_an_unguarded_loop_is_refused(tenant: TenantFixture) -> None:
    _objects(tenant)
    first = _automation(tenant, LOOP_OPPORTUNITY)
    assert first.status_code == 201 and first.get_json()["warnings"] == []
    refused = assert_envelope(_automation(tenant, LOOP_TASK), 422, "automation_cycle")
    [message] = refused["errors"]["automations.to_deal"]
    assert "Opportunity.to_tasks → Task.to_deal → Opportunity.to_tasks" in message
    self_loop = _automation(
        tenant,
        {
            "api_name": "touch",
            "object": "Opportunity",
            "trigger": "created_or_updated",
            "timing": "after_save",
            "actions": [
                {"type": "update_fields", "values": {"Touches": "BLANKVALUE(Touches, 0) + 1"}}
            ],
        },
    )
    assert (
        "Opportunity.touch → Opportunity.touch"
        in assert_envelope(self_loop, 422, "automation_cycle")["errors"]["automations.touch"][0]
    )
    names = [
        a["api_name"] for a in tenant.api("GET", "/api/v1/meta/automations").get_json()["data"]
    ]
    assert names == ["to_tasks"]


def test_a_guarded_loop_is_saved_with_a_warning(tenant: TenantFixture) -> None:
    _objects(tenant)
    assert _automation(tenant, LOOP_OPPORTUNITY).status_code == 201
    guarded = _automation(tenant, {**LOOP_TASK, "condition": 'Opportunity.Segment <> "touched"'})
    assert guarded.status_code == 201, guarded.get_json()
    [warning] = guarded.get_json()["warnings"]
    assert "Opportunity.to_tasks → Task.to_deal → Opportunity.to_tasks" in warning
    # The loop's other automation reports it too when changed.
    changed = tenant.api(
        "PUT", "/api/v1/meta/automations/to_tasks", json={**LOOP_OPPORTUNITY, "order": 5}
    )
    assert changed.status_code == 200 and len(changed.get_json()["warnings"]) == 1


def test_writes_only_link_the_triggers_they_fire(tenant: TenantFixture) -> None:
    _objects(tenant)
    # Creating a Task does not fire a Task automation triggered by updates: no loop.
    assert (
        _automation(
            tenant,
            {
                "api_name": "follow_up",
                "object": "Opportunity",
                "trigger": "updated",
                "timing": "after_save",
                "actions": [
                    {"type": "create_record", "object": "Task", "values": {"Subject": "Name"}}
                ],
            },
        ).status_code
        == 201
    )
    saved = _automation(tenant, {**LOOP_TASK, "trigger": "updated"})
    assert saved.status_code == 201 and saved.get_json()["warnings"] == []


def test_plugin_action_names_are_namespaced() -> None:
    class Bare(ActionType):
        name = "post_message"

    with pytest.raises(ValueError, match="plugin.action"):
        ActionRegistry().register(Bare())
