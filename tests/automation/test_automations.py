"""Workflow automation on a real worker process: triggers, before/after save, the edge
trigger, recursion protection, webhooks, retries, dead letters, replay, the outbox."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from conftest import TenantFixture
from factories import add_automation, records, runs
from flask import Flask
from helpers import assert_envelope, wait_for

from trellis.webhooks.signing import verify


def test_before_save_updates_the_record_in_the_same_save(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "segment",
            "object": "Opportunity",
            "trigger": "created_or_updated",
            "timing": "before_save",
            "order": 1,
            "actions": [
                {
                    "type": "update_fields",
                    "values": {"Segment": 'IF(Amount >= 10000, "Enterprise", "SMB")'},
                }
            ],
        },
    )
    created = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "d", "Amount": 50000}
    ).get_json()
    assert created["Segment"] == "Enterprise" and created["version"] == 1
    updated = crm.api(
        "PATCH", f"/api/v1/objects/Opportunity/records/{created['id']}", json={"Amount": 10}
    ).get_json()
    assert updated["Segment"] == "SMB" and updated["version"] == 2
    history = crm.api("GET", f"/api/v1/objects/Opportunity/records/{created['id']}/history")
    assert history.get_json()["data"][0]["changes"] == {
        "Amount": [50000, 10],
        "Segment": ["Enterprise", "SMB"],
    }


def test_before_save_automations_run_in_their_order(crm: TenantFixture) -> None:
    """Lower ``order`` first, then by name; each sees what the earlier ones set."""
    for name, order, value in (
        ("b_second", 20, 'Segment & "-b"'),
        ("a_third", 30, 'Segment & "-a"'),
        ("z_first", 10, '"z"'),
    ):
        add_automation(
            crm,
            {
                "api_name": name,
                "object": "Opportunity",
                "trigger": "created",
                "timing": "before_save",
                "order": order,
                "actions": [{"type": "update_fields", "values": {"Segment": value}}],
            },
        )
    created = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "ordered"}
    ).get_json()
    assert created["Segment"] == "z-b-a"


def test_a_deleted_trigger_sees_the_record_as_it_was(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "note_deletion",
            "object": "Opportunity",
            "trigger": "deleted",
            "timing": "after_save",
            "condition": "Amount > 100",
            "actions": [
                {
                    "type": "create_record",
                    "object": "Task",
                    "values": {"Subject": '"Deleted: " & Name'},
                }
            ],
        },
    )
    small = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "small", "Amount": 5}
    ).get_json()
    big = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "big", "Amount": 500}
    ).get_json()
    for deal in (small, big):
        assert (
            crm.api("DELETE", f"/api/v1/objects/Opportunity/records/{deal['id']}").status_code
            == 204
        )
    tasks = wait_for(lambda: records(crm, "Task"))
    assert [task["Subject"] for task in tasks] == ["Deleted: big"]
    [run] = runs(crm, automation="note_deletion")
    assert run["trigger"] == "deleted" and run["record_id"] == big["id"]


def test_after_save_create_record_fires_on_the_transition_only(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "won_followup",
            "object": "Opportunity",
            "active": True,
            "order": 10,
            "trigger": "updated",
            "timing": "after_save",
            "only_when_changed_to_meet": True,
            "condition": 'ISPICKVAL(Stage, "Closed Won")',
            "actions": [
                {
                    "type": "create_record",
                    "object": "Task",
                    "values": {
                        "Subject": '"Kick-off: " & Name',
                        "Opportunity": "Id",
                        "DueDate": "TODAY() + 3",
                    },
                }
            ],
        },
    )
    deal = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "Big", "Stage": "Negotiation"}
    ).get_json()
    url = f"/api/v1/objects/Opportunity/records/{deal['id']}"
    crm.api("PATCH", url, json={"Stage": "Closed Won"})
    tasks = wait_for(lambda: records(crm, "Task"))
    assert [t["Subject"] for t in tasks] == ["Kick-off: Big"]
    assert tasks[0]["Opportunity"] == deal["id"] and tasks[0]["DueDate"] is not None
    # Saving again while it stays won is no transition: no second task.
    crm.api("PATCH", url, json={"Amount": 5})
    wait_for(lambda: len(runs(crm)) >= 1 and all(r["status"] == "succeeded" for r in runs(crm)))
    time.sleep(1)  # give a wrong second run the chance to show up
    assert len(records(crm, "Task")) == 1
    [run] = runs(crm, automation="won_followup")
    assert run["status"] == "succeeded" and run["actions_done"] == [0] and run["attempts"] == 1


def test_recursion_stops_with_a_visible_reason(crm: TenantFixture) -> None:
    # A condition that always holds: an unguarded loop would be refused when saved.
    add_automation(
        crm,
        {
            "api_name": "touch",
            "object": "Opportunity",
            "trigger": "updated",
            "timing": "after_save",
            "condition": "NOT(ISBLANK(Name))",
            "actions": [
                {"type": "update_fields", "values": {"Touches": "BLANKVALUE(Touches, 0) + 1"}}
            ],
        },
    )
    deal = crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "loop"}).get_json()
    crm.api("PATCH", f"/api/v1/objects/Opportunity/records/{deal['id']}", json={"Amount": 1})
    skipped = wait_for(lambda: runs(crm, status="skipped"))
    assert "already ran on this record" in skipped[0]["error"]
    record = crm.api("GET", f"/api/v1/objects/Opportunity/records/{deal['id']}").get_json()
    assert record["Touches"] == 1
    assert [r["status"] for r in runs(crm)] == ["skipped", "succeeded"]


def test_signed_webhook_retries_dies_and_replays(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    handler.status = 500
    add_automation(
        crm,
        {
            "api_name": "notify_erp",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {
                    "type": "call_webhook",
                    "url": url,
                    "secret": "s3cret-key",
                    "payload": {"opportunity": "Id", "amount": "Amount", "name": "UPPER(Name)"},
                }
            ],
        },
    )
    deal = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "acme", "Amount": 1200}
    ).get_json()
    dead = wait_for(lambda: runs(crm, status="dead"))
    assert dead[0]["attempts"] == 2 and "HTTP 500" in dead[0]["error"]
    assert len(handler.deliveries) == 2
    handler.status = 200
    replay = crm.api("POST", f"/api/v1/automation-runs/{dead[0]['id']}/replay")
    assert replay.status_code == 202
    done = wait_for(lambda: runs(crm, status="succeeded"))
    assert done[0]["id"] == dead[0]["id"]
    delivery = handler.deliveries[-1]
    body = json.loads(delivery["body"])
    assert body["data"] == {"opportunity": deal["id"], "amount": 1200, "name": "ACME"}
    assert verify(
        "s3cret-key",
        delivery["headers"]["X-Trellis-Timestamp"],
        delivery["headers"]["X-Trellis-Signature"],
        delivery["body"],
    )
    assert delivery["headers"]["X-Trellis-Delivery"] == f"{dead[0]['id']}:0"
    assert_envelope(crm.api("POST", f"/api/v1/automation-runs/{dead[0]['id']}/replay"), 409)


def test_events_written_while_redis_is_down_run_later(
    make_app, crm: TenantFixture, worker_app: Flask
) -> None:
    add_automation(
        crm,
        {
            "api_name": "welcome",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "create_record", "object": "Task", "values": {"Subject": '"Call " & Name'}}
            ],
        },
    )
    offline = make_app(redis_url="redis://127.0.0.1:1/0")
    created = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "Ada"}, app=offline
    )
    assert created.status_code == 201  # the write does not depend on Redis
    time.sleep(1)
    assert records(crm, "Task") == []
    worker_app.extensions["celery"].send_task("trellis.dispatch_events")
    tasks = wait_for(lambda: records(crm, "Task"))
    assert [t["Subject"] for t in tasks] == ["Call Ada"]


def test_automation_definitions_are_checked(crm: TenantFixture) -> None:
    bad_formula = crm.api(
        "POST",
        "/api/v1/meta/automations",
        json={
            "api_name": "bad",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "condition": "Amout > 1",
            "actions": [{"type": "update_fields", "values": {"Nope": "1", "Amount": '"x"'}}],
        },
    )
    errors = assert_envelope(bad_formula, 422, "formula_error")["errors"]
    assert "automations.bad.condition" in errors
    assert "automations.bad.actions.0.values.Nope" in errors
    assert "automations.bad.actions.0.values.Amount" in errors
    before_save_webhook = crm.api(
        "POST",
        "/api/v1/meta/automations",
        json={
            "api_name": "bad2",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "before_save",
            "actions": [{"type": "call_webhook", "url": "https://x.test", "secret": "0123456789"}],
        },
    )
    assert_envelope(before_save_webhook, 422)
    assert crm.api("GET", "/api/v1/meta/automations").get_json()["data"] == []
    # Automations are versioned with their object: rolling back removes one.
    add_automation(
        crm,
        {
            "api_name": "ok",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "before_save",
            "actions": [{"type": "update_fields", "values": {"Touches": "1"}}],
        },
    )
    revision = crm.api("GET", "/api/v1/meta/revisions").get_json()["data"][0]["revision"]
    crm.api("POST", f"/api/v1/meta/revisions/{revision - 1}/rollback")
    assert crm.api("GET", "/api/v1/meta/automations").get_json()["data"] == []


def test_run_log_is_per_tenant(crm: TenantFixture, other_tenant: TenantFixture, app: Flask) -> None:
    add_automation(
        crm,
        {
            "api_name": "t",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [{"type": "create_record", "object": "Task", "values": {"Subject": "Name"}}],
        },
    )
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "n"})
    assert wait_for(lambda: runs(crm, status="succeeded"))
    assert other_tenant.api("GET", "/api/v1/automation-runs").get_json()["data"] == []
    assert_envelope(crm.api("GET", "/api/v1/automation-runs?status=bogus"), 400)

    def undispatched() -> int:
        with app.extensions["trellis"].database.owner() as connection:
            return connection.execute(
                sa.text(
                    "SELECT count(*) FROM events WHERE tenant_id = :t AND dispatched_at IS NULL"
                ),
                {"t": crm.id},
            ).scalar()

    # The task the automation created is an event too; it is dispatched after the run.
    assert wait_for(lambda: undispatched() == 0)


def test_send_email_renders_templates_from_the_record(
    crm: TenantFixture, worker_app: Flask
) -> None:
    import email
    from pathlib import Path

    add_automation(
        crm,
        {
            "api_name": "notify_manager",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "condition": "Amount > 1000",
            "actions": [
                {
                    "type": "send_email",
                    "to": ['"manager@acme.example"'],
                    "subject": "Big deal: {{ Name }}",
                    "body": "{{ Name }} is worth {{ Amount }}.\nRecord {{ id }}.",
                }
            ],
        },
    )
    mail = Path(worker_app.extensions["trellis"].config.instance_path) / "mail"
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    deal = crm.api(
        "POST", "/api/v1/objects/Opportunity/records", json={"Name": "Initech", "Amount": 25000}
    ).get_json()
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "small", "Amount": 5})
    sent = wait_for(lambda: set(mail.glob("*.eml")) - before if mail.exists() else set())
    assert len(sent) == 1
    message = email.message_from_bytes(next(iter(sent)).read_bytes())
    assert message["To"] == "manager@acme.example"
    assert message["Subject"] == "Big deal: Initech"
    assert message.get_payload().strip() == f"Initech is worth 25000.\nRecord {deal['id']}."
    bad_template = crm.api(
        "POST",
        "/api/v1/meta/automations",
        json={
            "api_name": "broken",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [{"type": "send_email", "to": ["Name"], "subject": "{{ Name", "body": "x"}],
        },
    )
    errors = assert_envelope(bad_template, 422)["errors"]
    assert "Template error" in errors["automations.broken.actions.0.subject"][0]
