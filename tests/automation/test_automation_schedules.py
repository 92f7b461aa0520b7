"""Scheduled and manual triggers and the ``wait`` action, on a real worker process.

Nothing here sleeps for a schedule or a wait: the test moves ``next_run_at`` or
``resume_at`` back in the database, as time passing would, and asks the worker to run
the beat task now.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from typing import Any

import sqlalchemy as sa
from conftest import TenantFixture
from factories import add_automation, records, runs
from helpers import assert_envelope, wait_for

from trellis.automation.tables import automation_runs, automation_schedules

OPPORTUNITIES = "/api/v1/objects/Opportunity/records"


def beat(crm: TenantFixture) -> int:
    """Run the beat task of schedules and waits on the worker; the runs it queued."""
    return crm.app.extensions["celery"].send_task("trellis.run_schedules").get(timeout=60)


def in_tenant(crm: TenantFixture, statement: Any) -> list[Any]:
    with crm.app.extensions["trellis"].database.tenant(crm.id) as connection:
        result = connection.execute(statement)
        return result.all() if result.returns_rows else []


def schedule_row(crm: TenantFixture) -> Any:
    rows = in_tenant(crm, sa.select(automation_schedules))
    return rows[0] if rows else None


def make_due(crm: TenantFixture, at: Any) -> None:
    in_tenant(crm, automation_schedules.update().values(next_run_at=at))


def create(crm: TenantFixture, **values: Any) -> dict:
    response = crm.api("POST", OPPORTUNITIES, json={"Name": "deal", **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def record(crm: TenantFixture, record_id: str) -> dict:
    return crm.api("GET", f"{OPPORTUNITIES}/{record_id}").get_json()


def test_a_schedule_runs_on_the_records_its_filter_selects_once_per_tick(
    crm: TenantFixture,
) -> None:
    chosen = [create(crm, Stage="Prospecting", Name=f"p{n}") for n in range(2)]
    won = create(crm, Stage="Closed Won")
    deleted = create(crm, Stage="Prospecting")
    crm.api("DELETE", f"{OPPORTUNITIES}/{deleted['id']}")
    # Start clear of a minute boundary: the first tick must still be ahead when checked.
    if dt.datetime.now(dt.UTC).second >= 55:
        time.sleep(61 - dt.datetime.now(dt.UTC).second)
    add_automation(
        crm,
        {
            "api_name": "nightly_touch",
            "object": "Opportunity",
            "trigger": "scheduled",
            "timing": "after_save",
            "schedule": "* * * * *",
            "timezone": "Europe/Paris",
            "filter": 'ISPICKVAL(Stage, "Prospecting")',
            "actions": [
                {"type": "update_fields", "values": {"Touches": "BLANKVALUE(Touches, 0) + 1"}}
            ],
        },
    )
    beat(crm)
    row = schedule_row(crm)
    assert row is not None and row.schedule == "* * * * *" and row.timezone == "Europe/Paris"
    assert row.next_run_at > dt.datetime.now(dt.UTC) and row.last_run_at is None

    tick = row.next_run_at - dt.timedelta(minutes=2)
    make_due(crm, tick)
    assert beat(crm) >= 2
    done = wait_for(lambda: len(runs(crm, status="succeeded")) == 2 and runs(crm))
    assert {run["record_id"] for run in done} == {deal["id"] for deal in chosen}
    assert all(run["trigger"] == "scheduled" and run["event_id"] is None for run in done)
    assert [record(crm, deal["id"])["Touches"] for deal in chosen] == [1, 1]
    assert record(crm, won["id"])["Touches"] is None
    row = schedule_row(crm)
    assert row.last_run_at == tick and row.last_run_count == 2
    assert row.next_run_at > dt.datetime.now(dt.UTC)

    # Another beat pass before the next tick runs nothing; nor does the same tick again
    # (a beat restarted from an old copy of the schedule): the execution keys hold.
    beat(crm)
    make_due(crm, tick)
    beat(crm)
    assert len(runs(crm, automation="nightly_touch")) == 2
    # A day of ticks missed while everything was down fires once on return.
    make_due(crm, tick - dt.timedelta(days=1))
    beat(crm)
    assert wait_for(lambda: len(runs(crm, status="succeeded")) == 4)
    assert [record(crm, deal["id"])["Touches"] for deal in chosen] == [2, 2]


def test_a_schedule_follows_its_automation(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "weekly",
            "object": "Opportunity",
            "trigger": "scheduled",
            "timing": "after_save",
            "schedule": "0 9 * * 1",
            "actions": [{"type": "update_fields", "values": {"Touches": "1"}}],
        },
    )
    beat(crm)
    first = schedule_row(crm).next_run_at.astimezone(dt.UTC)
    assert (first.weekday(), first.hour, first.minute) == (0, 9, 0)
    changed = {
        "object": "Opportunity",
        "api_name": "weekly",
        "trigger": "scheduled",
        "timing": "after_save",
        "schedule": "30 9 * * *",
        "timezone": "America/New_York",
        "actions": [{"type": "update_fields", "values": {"Touches": "1"}}],
    }
    assert crm.api("PUT", "/api/v1/meta/automations/weekly", json=changed).status_code == 200
    beat(crm)
    second = schedule_row(crm)
    local = second.next_run_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (second.schedule, local.hour, local.minute) == ("30 9 * * *", 9, 30)
    assert (
        crm.api(
            "PUT", "/api/v1/meta/automations/weekly", json={**changed, "active": False}
        ).status_code
        == 200
    )
    beat(crm)
    assert schedule_row(crm) is None


def test_a_manual_automation_runs_on_the_chosen_records(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "follow_up",
            "object": "Opportunity",
            "trigger": "manual",
            "timing": "after_save",
            "condition": "Amount > 100",
            "actions": [
                {
                    "type": "create_record",
                    "object": "Task",
                    "values": {"Subject": '"Follow up " & Name', "Opportunity": "Id"},
                }
            ],
        },
    )
    big, small, other = (
        create(crm, Name="big", Amount=500),
        create(crm, Name="small", Amount=5),
        create(crm, Name="other", Amount=900),
    )
    url = "/api/v1/automations/follow_up/run"
    response = crm.api(
        "POST",
        url,
        json={"record_ids": [big["id"], small["id"], big["id"]]},
        headers={"Idempotency-Key": "click-1"},
    )
    assert response.status_code == 202, response.get_json()
    started = response.get_json()["data"]
    assert [(run["record_id"], run["status"]) for run in started] == [
        (big["id"], "queued"),
        (small["id"], "skipped"),
    ]
    assert "condition" in started[1]["error"]
    tasks = wait_for(lambda: records(crm, "Task"))
    assert [(task["Subject"], task["Opportunity"]) for task in tasks] == [
        ("Follow up big", big["id"])
    ]
    [run] = wait_for(lambda: runs(crm, status="succeeded"))
    assert (run["trigger"], run["event_id"], run["id"]) == ("manual", None, started[0]["id"])

    # The same request again (a double click, a client retry) gets the same runs back.
    again = crm.api(
        "POST",
        url,
        json={"record_ids": [big["id"], small["id"]]},
        headers={"Idempotency-Key": "click-1"},
    )
    assert [run["id"] for run in again.get_json()["data"]] == [run["id"] for run in started]
    assert len(runs(crm)) == 2

    # Unknown or deleted records are named, and nothing is started.
    crm.api("DELETE", f"{OPPORTUNITIES}/{other['id']}")
    unknown = "00000000-0000-4000-8000-000000000000"
    refused = assert_envelope(
        crm.api("POST", url, json={"record_ids": [big["id"], unknown, other["id"]]}), 422
    )
    assert refused["errors"]["record_ids"] == [unknown, other["id"]]
    malformed = assert_envelope(crm.api("POST", url, json={"record_ids": [big["id"], "x"]}), 422)
    assert list(malformed["errors"]) == ["record_ids.1"]
    assert_envelope(crm.api("POST", url, json={"record_ids": []}), 422)
    assert_envelope(crm.api("POST", url, json={"record_ids": [big["id"]] * 201}), 422)
    assert len(runs(crm)) == 2
    assert_envelope(
        crm.api("POST", "/api/v1/automations/nope/run", json={"record_ids": [big["id"]]}), 404
    )
    read_only = crm.api("POST", "/api/v1/tokens", json={"name": "r", "scopes": ["read"]})
    assert_envelope(
        crm.api("POST", url, json={"record_ids": [big["id"]]}, token=read_only.get_json()["token"]),
        403,
    )
    add_automation(
        crm,
        {
            "api_name": "on_create",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [{"type": "update_fields", "values": {"Touches": "1"}}],
        },
    )
    assert_envelope(
        crm.api("POST", "/api/v1/automations/on_create/run", json={"record_ids": [big["id"]]}), 409
    )


def test_a_wait_parks_the_run_and_it_continues_with_the_remaining_actions(
    crm: TenantFixture,
) -> None:
    add_automation(
        crm,
        {
            "api_name": "nurture",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "update_fields", "values": {"Segment": '"first"'}},
                {"type": "wait", "duration": {"days": 2, "hours": 1}},
                {"type": "update_fields", "values": {"Segment": '"second"'}},
            ],
        },
    )
    deal = create(crm)
    [run] = wait_for(lambda: runs(crm, status="waiting"))
    assert run["actions_done"] == [0, 1] and record(crm, deal["id"])["Segment"] == "first"
    resume_at = dt.datetime.fromisoformat(run["resume_at"])
    created = dt.datetime.fromisoformat(run["created_at"])
    assert dt.timedelta(days=2, hours=1) <= resume_at - created < dt.timedelta(days=2, hours=2)
    # The run log shows waiting runs and filters them by when they continue.
    soon = (created + dt.timedelta(days=1)).isoformat()
    assert runs(crm, resume_at__lte=soon.replace("+00:00", "Z")) == []
    assert [r["id"] for r in runs(crm, resume_at__gte=soon.replace("+", "%2B"))] == [run["id"]]
    assert_envelope(crm.api("GET", "/api/v1/automation-runs?resume_at__lte=soon"), 400)

    # Not yet due: the beat leaves it alone.
    beat(crm)
    assert runs(crm)[0]["status"] == "waiting"
    in_tenant(
        crm,
        automation_runs.update().values(resume_at=sa.func.now() - sa.text("interval '1 second'")),
    )
    beat(crm)
    [done] = wait_for(lambda: runs(crm, status="succeeded"))
    assert done["actions_done"] == [0, 1, 2] and done["id"] == run["id"]
    assert record(crm, deal["id"])["Segment"] == "second"
    history = crm.api("GET", f"{OPPORTUNITIES}/{deal['id']}/history").get_json()["data"]
    assert [entry["changes"].get("Segment") for entry in history[:2]] == [
        ["first", "second"],
        [None, "first"],
    ]


def test_a_wait_until_a_date_field_plus_an_offset(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "before_close",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "timezone": "Asia/Tokyo",
            "actions": [
                {"type": "wait", "until": "closedate", "offset": {"days": -1, "hours": 9}},
                {"type": "create_record", "object": "Task", "values": {"Subject": "Name"}},
            ],
        },
    )
    close = dt.date.today() + dt.timedelta(days=10)
    later = create(crm, Name="later", CloseDate=close.isoformat())
    create(crm, Name="past", CloseDate="2020-01-01")
    blank = create(crm, Name="blank")
    [waiting] = wait_for(lambda: runs(crm, status="waiting"))
    assert waiting["record_id"] == later["id"]
    assert dt.datetime.fromisoformat(waiting["resume_at"]) == dt.datetime.combine(
        close - dt.timedelta(days=1), dt.time(9), tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")
    )
    # A date already passed: the run goes straight on.
    assert wait_for(lambda: [t["Subject"] for t in records(crm, "Task")] == ["past"])
    [skipped] = wait_for(lambda: runs(crm, status="skipped"))
    assert skipped["record_id"] == blank["id"]
    assert skipped["error"] == "CloseDate is blank, so there is no time to wait until."


def test_a_rechecking_wait_skips_records_that_no_longer_qualify(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "stalled",
            "object": "Opportunity",
            "trigger": "updated",
            "timing": "after_save",
            "only_when_changed_to_meet": True,
            "condition": 'ISPICKVAL(Stage, "Negotiation")',
            "actions": [
                {"type": "wait", "duration": {"minutes": 30}, "recheck_condition": True},
                {
                    "type": "create_record",
                    "object": "Task",
                    "values": {"Subject": '"Chase " & Name'},
                },
            ],
        },
    )
    stuck, moved = create(crm, Name="stuck"), create(crm, Name="moved")
    for deal in (stuck, moved):
        crm.api("PATCH", f"{OPPORTUNITIES}/{deal['id']}", json={"Stage": "Negotiation"})
    assert wait_for(lambda: len(runs(crm, status="waiting")) == 2)
    crm.api("PATCH", f"{OPPORTUNITIES}/{moved['id']}", json={"Stage": "Closed Lost"})
    in_tenant(
        crm,
        automation_runs.update().values(resume_at=sa.func.now() - sa.text("interval '1 second'")),
    )
    beat(crm)
    [skipped] = wait_for(lambda: runs(crm, status="skipped"))
    assert skipped["record_id"] == moved["id"]
    assert skipped["error"] == "The condition no longer held when the wait ended."
    assert wait_for(lambda: [t["Subject"] for t in records(crm, "Task")] == ["Chase stuck"])
    assert [r["record_id"] for r in runs(crm, status="succeeded")] == [stuck["id"]]


def test_a_run_whose_record_is_deleted_while_it_waits_is_skipped(crm: TenantFixture) -> None:
    add_automation(
        crm,
        {
            "api_name": "later",
            "object": "Opportunity",
            "trigger": "manual",
            "timing": "after_save",
            "actions": [
                {"type": "wait", "duration": {"days": 1}},
                {"type": "update_fields", "values": {"Touches": "1"}},
            ],
        },
    )
    deal = create(crm)
    started = crm.api("POST", "/api/v1/automations/later/run", json={"record_ids": [deal["id"]]})
    assert started.status_code == 202
    assert wait_for(lambda: runs(crm, status="waiting"))
    crm.api("DELETE", f"{OPPORTUNITIES}/{deal['id']}")
    in_tenant(
        crm,
        automation_runs.update().values(resume_at=sa.func.now() - sa.text("interval '1 second'")),
    )
    beat(crm)
    [skipped] = wait_for(lambda: runs(crm, status="skipped"))
    assert skipped["error"] == "The record was deleted." and skipped["actions_done"] == [0]


def test_bad_schedules_triggers_and_waits_are_refused(crm: TenantFixture) -> None:
    def refused(definition: dict, *places: str) -> dict:
        body = {
            "api_name": "bad",
            "object": "Opportunity",
            "timing": "after_save",
            "actions": [{"type": "update_fields", "values": {"Touches": "1"}}],
            **definition,
        }
        errors = assert_envelope(crm.api("POST", "/api/v1/meta/automations", json=body), 422)[
            "errors"
        ]
        for place in places:
            assert f"automations.bad.{place}" in errors, errors
        return errors

    scheduled = {"trigger": "scheduled"}
    errors = refused({**scheduled, "schedule": "61 * * * *"}, "schedule")
    assert "out of range" in errors["automations.bad.schedule"][0]
    errors = refused({**scheduled, "schedule": "* * *"}, "schedule")
    assert "five fields" in errors["automations.bad.schedule"][0]
    refused({**scheduled, "schedule": "0 * * * * *"}, "schedule")  # six: seconds
    refused({**scheduled, "schedule": "0 0 30 2 *"}, "schedule")  # 30 February
    refused(scheduled, "schedule")
    errors = refused({**scheduled, "schedule": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone")
    assert "IANA" in errors["automations.bad.timezone"][0]
    refused({**scheduled, "schedule": "0 9 * * *", "filter": "Amount"}, "filter")
    refused({**scheduled, "schedule": "0 9 * * *", "filter": "ISCHANGED(Amount)"}, "filter")
    refused({**scheduled, "schedule": "0 9 * * *", "condition": "Amount > 1"}, "condition")
    refused({**scheduled, "schedule": "0 9 * * *", "timing": "before_save"}, "timing")
    refused({"trigger": "manual", "timing": "before_save"}, "timing")
    refused({"trigger": "manual", "schedule": "0 9 * * *"}, "schedule")
    refused({"trigger": "created", "filter": "Amount > 1"}, "filter")
    refused({"trigger": "created", "timezone": "Nowhere/Else"}, "timezone")

    def waiting(*steps: dict, **extra: Any) -> dict:
        return {
            "trigger": "created",
            **extra,
            "actions": [*steps, {"type": "update_fields", "values": {"Touches": "1"}}],
        }

    refused(waiting({"type": "wait", "until": "Name"}), "actions.0.until")
    refused(waiting({"type": "wait", "until": "Nope"}), "actions.0.until")
    refused(waiting({"type": "wait", "duration": {"minutes": 0}}), "actions.0.duration")
    refused(waiting({"type": "wait", "duration": {"days": 1, "hours": -30}}), "actions.0.duration")
    refused(waiting({"type": "wait"}), "actions.0")
    refused(waiting({"type": "wait", "duration": {"days": 1}, "until": "CloseDate"}), "actions.0")
    refused(
        waiting({"type": "wait", "duration": {"days": 1}, "offset": {"days": 1}}),
        "actions.0.offset",
    )
    refused(
        waiting({"type": "wait", "duration": {"days": 1}, "recheck_condition": True}),
        "actions.0.recheck_condition",
    )
    assert_envelope(
        crm.api(
            "POST",
            "/api/v1/meta/automations",
            json={
                "api_name": "bad",
                "object": "Opportunity",
                "trigger": "created",
                "timing": "before_save",
                "actions": [{"type": "wait", "duration": {"days": 1}}],
            },
        ),
        422,
    )
    assert crm.api("GET", "/api/v1/meta/automations").get_json()["data"] == []
