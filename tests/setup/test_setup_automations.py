"""Setup → Automations and the run log, through the forms a browser posts: automations
built action by action, saved through the automations service (a refused one shows its
errors at the action and saves nothing), switched off, deleted; runs listed, and a dead
run replayed on the real worker."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from factories import add_automation, records, runs
from helpers import csrf_token, wait_for
from screen_worlds import sign_in

from trellis.metadata.tables import meta_objects

HTML = {"Accept": "text/html"}
FOLLOW_UP = {
    "api_name": "follow_up",
    "label": "Follow up new deals",
    "object": "Opportunity",
    "trigger": "created",
    "timing": "after_save",
    "active": "true",
    "action_count": "1",
    "actions-0-type": "create_record",
    "actions-0-object": "Task",
    "actions-0-values-key-0": "Subject",
    "actions-0-values-value-0": '"Call " & Name',
    "actions-0-values-key-1": "",
    "actions-0-values-value-1": "",
}


def signed_in(crm: TenantFixture) -> Any:
    client = crm.app.test_client()
    sign_in(client, crm, crm.admin_email, crm.admin_password)
    return client


def post(client: Any, path: str, data: dict[str, str]) -> Any:
    token = csrf_token(client.get(path, headers=HTML).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, headers=HTML)


def automation(crm: TenantFixture, name: str) -> Any:
    return crm.api("GET", f"/api/v1/meta/automations/{name}")


def stored_actions(crm: TenantFixture, object_name: str, name: str) -> list[dict[str, Any]]:
    """The actions as stored, secrets and all (the API masks them)."""
    with crm.app.extensions["trellis"].database.tenant(crm.id) as connection:
        definition = connection.execute(
            sa.select(meta_objects.c.definition).where(meta_objects.c.api_name == object_name)
        ).scalar_one()
    [found] = [a for a in definition["automations"] if a["api_name"] == name]
    return list(found["actions"])


def test_an_automation_built_in_the_form_creates_records(crm: TenantFixture) -> None:
    client = signed_in(crm)
    # Adding an action posts the form back with the action's fields, saving nothing.
    added = post(
        client,
        "/setup/automations/new",
        {**{k: v for k, v in FOLLOW_UP.items() if not k.startswith("actions")}, "op": "add"}
        | {"action_count": "0", "new_action": "create_record"},
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="actions-0-object"' in html
    assert 'name="actions-0-values-key-0"' in html and "data-formula-editor" in html
    assert automation(crm, "follow_up").status_code == 404

    saved = post(client, "/setup/automations/new", {**FOLLOW_UP, "op": "save"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert saved.headers["Location"].endswith("/setup/automations/follow_up")
    body = automation(crm, "follow_up").get_json()
    assert body["actions"] == [
        {"type": "create_record", "object": "Task", "values": {"Subject": '"Call " & Name'}}
    ]
    assert body["active"] is True and body["label"] == "Follow up new deals"

    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Acme"})
    tasks = wait_for(lambda: records(crm, "Task"))
    assert [task["Subject"] for task in tasks] == ["Call Acme"]
    wait_for(lambda: runs(crm, status="succeeded"))
    log = client.get("/setup/automation-runs?automation=follow_up", headers=HTML)
    assert log.status_code == 200
    html = log.get_data(as_text=True)
    assert "follow_up" in html and "Succeeded" in html
    listing = client.get("/setup/automations", headers=HTML).get_data(as_text=True)
    assert "Follow up new deals" in listing and "Record created" in listing


def test_an_update_is_a_revision_in_the_audit_trail(crm: TenantFixture) -> None:
    client = signed_in(crm)
    assert post(client, "/setup/automations/new", FOLLOW_UP).status_code == 303
    edit = client.get("/setup/automations/follow_up", headers=HTML).get_data(as_text=True)
    assert 'value="&#34;Call &#34; &amp; Name"' in edit or "&#34;Call &#34; &amp; Name" in edit
    changed = {**FOLLOW_UP, "label": "Call every deal", "condition": "Amount > 100"}
    del changed["api_name"]
    response = post(client, "/setup/automations/follow_up", changed)
    assert response.status_code == 303, response.get_data(as_text=True)
    body = automation(crm, "follow_up").get_json()
    assert body["label"] == "Call every deal" and body["condition"] == "Amount > 100"
    audit = crm.api("GET", "/api/v1/audit", query_string={"action": "metadata.changed"})
    messages = [event["details"]["message"] for event in audit.get_json()["data"]]
    assert "Change automation follow_up" in messages and "Add automation follow_up" in messages


def test_a_bad_action_is_shown_at_its_field_and_nothing_is_saved(crm: TenantFixture) -> None:
    client = signed_in(crm)
    bad = {
        **FOLLOW_UP,
        "actions-0-values-key-0": "NoSuchField",
        "action_count": "2",
        "actions-1-type": "call_webhook",
        "actions-1-url": "http://127.0.0.1:9/hook",
        "actions-1-secret": "long-enough-secret",
        "actions-1-timeout": "soon",
    }
    refused = post(client, "/setup/automations/new", bad)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The automation was not saved" in html and "Enter a number." in html
    assert automation(crm, "follow_up").status_code == 404
    # With the number fixed, the service's own check names the field, at its action.
    fixed = post(client, "/setup/automations/new", {**bad, "actions-1-timeout": "5"})
    assert fixed.status_code == 422
    html = fixed.get_data(as_text=True)
    assert "NoSuchField: Task has no writable field" in html
    first_action = html.split('id="action-0"')[1].split('id="action-1"')[0]
    assert "NoSuchField: Task has no writable field" in first_action
    assert automation(crm, "follow_up").status_code == 404


def test_moving_an_action_keeps_its_secret(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "notify",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "update_fields", "values": {"Segment": '"new"'}},
                {"type": "call_webhook", "url": "http://127.0.0.1:9/h", "secret": "kept-secret"},
            ],
        },
    )
    client = signed_in(crm)
    form = client.get("/setup/automations/notify", headers=HTML).get_data(as_text=True)
    assert "kept-secret" not in form and 'value="********"' in form
    data = {
        "object": "Opportunity",
        "trigger": "created",
        "timing": "after_save",
        "active": "true",
        "action_count": "2",
        "actions-0-type": "update_fields",
        "actions-0-origin": "0",
        "actions-0-values-key-0": "Segment",
        "actions-0-values-value-0": '"new"',
        "actions-1-type": "call_webhook",
        "actions-1-origin": "1",
        "actions-1-url": "http://127.0.0.1:9/h",
        "actions-1-secret": "********",
    }
    moved = post(client, "/setup/automations/notify", {**data, "op": "up-1"})
    html = moved.get_data(as_text=True)
    assert moved.status_code == 200
    assert html.index('name="actions-0-url"') < html.index('name="actions-1-values-key-0"')
    swapped = {
        key.replace("actions-0", "actions-X").replace("actions-1", "actions-0"): value
        for key, value in data.items()
    }
    swapped = {key.replace("actions-X", "actions-1"): value for key, value in swapped.items()}
    assert post(client, "/setup/automations/notify", swapped).status_code == 303
    actions = stored_actions(crm, "Opportunity", "notify")
    assert [a["type"] for a in actions] == ["call_webhook", "update_fields"]
    assert actions[0]["secret"] == "kept-secret"


def test_switching_off_and_deleting_from_the_list(crm: TenantFixture) -> None:
    client = signed_in(crm)
    assert post(client, "/setup/automations/new", FOLLOW_UP).status_code == 303
    token = csrf_token(client.get("/setup/automations", headers=HTML).get_data(as_text=True))
    response = client.post(
        "/setup/automations/follow_up/active", data={"csrf_token": token, "active": "false"}
    )
    assert response.status_code == 303
    assert automation(crm, "follow_up").get_json()["active"] is False
    listing = client.get("/setup/automations", headers=HTML).get_data(as_text=True)
    assert "Turn on" in listing and ">Off<" in listing
    confirm = client.get("/setup/automations/follow_up/delete", headers=HTML)
    assert confirm.status_code == 200 and "Delete Follow up new deals?" in confirm.get_data(
        as_text=True
    )
    assert automation(crm, "follow_up").status_code == 200  # asking deletes nothing
    deleted = post(client, "/setup/automations/follow_up/delete", {})
    assert deleted.status_code == 303
    assert automation(crm, "follow_up").status_code == 404


def test_without_manage_automations_every_screen_is_refused(
    client: Any, tenant: TenantFixture
) -> None:
    permission_set(tenant, "builder", all_objects={"read": True}, system=["manage_metadata"])
    member(tenant, "builder", permission_sets=["builder"])
    sign_in(client, tenant, f"builder@{tenant.slug}.test", PASSWORD)
    for path in ("/setup/automations", "/setup/automations/new", "/setup/automation-runs"):
        assert client.get(path, headers=HTML).status_code == 403, path
    token = csrf_token(client.get("/setup/", headers=HTML).get_data(as_text=True))
    refused = client.post(
        "/setup/automations/new", data={"csrf_token": token, **FOLLOW_UP}, headers=HTML
    )
    assert refused.status_code == 403
    assert tenant.api("GET", "/api/v1/meta/automations").get_json()["data"] == []
    assert 'href="/setup/automations"' not in client.get("/setup/", headers=HTML).get_data(
        as_text=True
    )


def test_a_dead_run_is_replayed_after_its_cause_is_fixed(crm: TenantFixture) -> None:
    # The task's subject is the deal's segment: blank, so the task is refused until the
    # deal has one.
    add_automation(
        crm,
        {
            "api_name": "segment_task",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "create_record", "object": "Task", "values": {"Subject": "Segment"}}
            ],
        },
    )
    deal = crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "d"}).get_json()
    [dead] = wait_for(lambda: runs(crm, status="dead"))
    client = signed_in(crm)
    log = client.get("/setup/automation-runs?status=dead", headers=HTML).get_data(as_text=True)
    assert f"#{dead['id']}" in log and "Dead" in log
    detail = client.get(f"/setup/automation-runs/{dead['id']}", headers=HTML).get_data(as_text=True)
    assert "Subject" in detail and "Replay run" in detail and "Failed here" in detail
    confirm = client.get(f"/setup/automation-runs/{dead['id']}/replay", headers=HTML)
    assert "queued again" in confirm.get_data(as_text=True)
    assert runs(crm, status="dead")  # asking replays nothing

    crm.api("PATCH", f"/api/v1/objects/Opportunity/records/{deal['id']}", json={"Segment": "SMB"})
    replayed = post(client, f"/setup/automation-runs/{dead['id']}/replay", {})
    assert replayed.status_code == 303
    [done] = wait_for(lambda: runs(crm, status="succeeded", automation="segment_task"))
    assert done["id"] == dead["id"]
    assert [task["Subject"] for task in records(crm, "Task")] == ["SMB"]
    audit = crm.api("GET", "/api/v1/audit", query_string={"action": "automation_run.replayed"})
    [event] = audit.get_json()["data"]
    assert event["target_id"] == str(dead["id"])
    again = post(client, f"/setup/automation-runs/{dead['id']}/replay", {})
    assert again.status_code == 409


def test_each_action_form_comes_from_its_schema(client: Any, tenant: TenantFixture) -> None:
    """A plugin's action (the example chat action) gets its form as the built-ins do;
    a wait gets a group of numbers."""
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    html = post(
        client,
        "/setup/automations/new",
        {"action_count": "0", "new_action": "chat.post_message", "op": "add"},
    ).get_data(as_text=True)
    assert "<h3>Chat: post message" in html
    assert 'type="text" id="control-actions-0-url" name="actions-0-url"' in html
    assert '<textarea id="control-actions-0-text" name="actions-0-text"' in html
    assert 'type="password" id="control-actions-0-secret"' in html
    html = post(
        client,
        "/setup/automations/new",
        {"action_count": "0", "new_action": "wait", "op": "add"},
    ).get_data(as_text=True)
    assert 'name="actions-0-duration-days"' in html and 'step="1"' in html
    assert 'type="checkbox" id="control-actions-0-recheck_condition"' in html
    more = post(
        client,
        "/setup/automations/new",
        {"action_count": "1", "actions-0-type": "update_fields", "op": "refresh"},
    ).get_data(as_text=True)
    assert 'name="actions-0-values-key-3"' in more
    empty = post(
        client,
        "/setup/automations/new",
        {"api_name": "nothing", "object": "User", "trigger": "created", "timing": "after_save"},
    )
    assert empty.status_code == 422
    assert "Add at least one action." in empty.get_data(as_text=True)


def test_a_blank_api_name_is_made_from_the_label_or_asked_for(crm: TenantFixture) -> None:
    client = signed_in(crm)
    unnamed = {**FOLLOW_UP, "api_name": "", "label": "Follow up new deals!", "op": "save"}
    saved = post(client, "/setup/automations/new", unnamed)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert automation(crm, "Follow_up_new_deals").get_json()["label"] == "Follow up new deals!"

    # With no label either, the form says so at the API name, and nothing is saved.
    refused = post(client, "/setup/automations/new", {**unnamed, "label": "", "active": ""})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert '<p class="field-error" id="setting-api_name-error">Enter an API name' in html
    assert "is a required property" not in html
    listing = crm.api("GET", "/api/v1/meta/automations").get_json()["data"]
    assert [each["api_name"] for each in listing] == ["Follow_up_new_deals"]
