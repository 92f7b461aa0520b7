"""The sales CRM example's automations, run by a real worker process after the seed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from pathlib import Path
from typing import Any

from conftest import TenantFixture
from factories import load_sales_example, records_by_object, runs
from flask import Flask
from helpers import wait_for


def test_seeded_hot_leads_get_call_tasks_and_a_won_deal_is_kicked_off(
    tenant: TenantFixture, worker_app: Flask, celery_worker: Any
) -> None:
    crm = dataclasses.replace(tenant, app=worker_app)
    assert load_sales_example(worker_app, crm, accounts=12) is not None
    # The seed's writes are outbox events like any others: the sweep turns them into runs.
    celery_worker.send_task("trellis.dispatch_events")
    data = records_by_object(worker_app, crm)
    hot = {
        lead["id"]: lead
        for lead in data["Lead"]
        if lead.get("Rating") == "Hot" and not lead["Status"].startswith("Closed")
    }
    assert hot, "the seed makes some open hot leads"

    def call_tasks() -> list[dict]:
        return [
            task
            for task in records_by_object(worker_app, crm)["Task"]
            if task.get("Lead") in hot and task["Subject"].startswith("Hot lead: ")
        ]

    assert wait_for(lambda: len(call_tasks()) == len(hot))
    for task in call_tasks():
        lead = hot[task["Lead"]]
        assert task["Subject"] == f"Hot lead: call {lead['Name']} ({lead['Company']})"
        assert task["Priority"] == "High" and task["Type"] == "Call"
        assert task["DueDate"] == (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert {run["status"] for run in runs(crm, automation="CallHotLeads", limit="200")} == {
        "succeeded"
    }

    deal = next(
        opportunity
        for opportunity in data["Opportunity"]
        if not opportunity["Stage"].startswith("Closed") and opportunity.get("Amount")
    )
    contact = next(c for c in data["Contact"] if c["id"] == deal["PrimaryContact"])
    mail = Path(worker_app.extensions["trellis"].config.instance_path) / "mail"
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    won = crm.api(
        "PATCH", f"/api/v1/objects/Opportunity/records/{deal['id']}", json={"Stage": "Closed Won"}
    )
    assert won.status_code == 200, won.get_json()
    # Before save: in the same write.
    assert won.get_json()["CloseDate"] == dt.date.today().isoformat()
    assert won.get_json()["ForecastCategory"] == "Closed"
    # After save: a kick-off task and a thank-you to the primary contact.
    sent = wait_for(lambda: set(mail.glob("*.eml")) - before if mail.exists() else set())
    message = email.message_from_bytes(next(iter(sent)).read_bytes())
    assert message["To"] == contact["Email"]
    assert message["Subject"] == f"Welcome aboard: {deal['Name']}"
    [kickoff] = [
        task
        for task in records_by_object(worker_app, crm)["Task"]
        if task.get("Opportunity") == deal["id"] and task["Subject"].startswith("Kick")
    ]
    assert kickoff["Subject"] == f"Kick-off: {deal['Name']}"
    assert kickoff["Contact"] == contact["id"] and kickoff["Account"] == deal["Account"]
    [run] = runs(crm, automation="WonKickOff")
    assert run["status"] == "succeeded" and run["actions_done"] == [0, 1]
