"""Import jobs run by a real Celery worker: inserts, upserts by a unique field and by
record id, lookups by name and by a unique field, the file of rejected rows, and a job
stopped part-way that resumes when its task is delivered again, writing no row twice."""

from __future__ import annotations

import csv
import dataclasses
import io
import signal
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from helpers import wait_for
from import_worlds import contacts, new_import, set_mapping, setup_contacts

from trellis.imports.run import run_job
from trellis.imports.tasks import RUN_TASK


@pytest.fixture()
def importer(tenant: Any, worker_app: Flask, celery_worker: Any) -> Any:
    """A tenant acting through the app whose tasks the real worker runs."""
    acting = dataclasses.replace(tenant, app=worker_app)
    acting.accounts = setup_contacts(acting)
    return acting


def finish(tenant: Any, job_id: str) -> dict[str, Any]:
    started = tenant.api("POST", f"/api/v1/imports/{job_id}/start")
    assert started.status_code == 202, started.get_json()
    return wait_for(
        lambda: (
            (job := tenant.api("GET", f"/api/v1/imports/{job_id}/result").get_json())["state"]
            == "done"
            and job
        )
    )


def test_an_insert_writes_good_rows_and_files_the_rejected_ones(importer: Any) -> None:
    text = (
        "Full name,Email,Age,VIP,Account\n"
        "Ada,ada@example.com,36,yes,Acme\n"
        "Bob,bob@example.com,17,no,Globex\n"
        "Cy,cy@example.com,40,,Initech\n"
    )
    job_id = new_import(importer, text)
    result = finish(importer, job_id)
    assert (result["created"], result["updated"], result["rejected"]) == (1, 0, 2)
    assert result["progress"] == 100
    [ada] = contacts(importer)
    assert ada["Name"] == "Ada" and ada["Age"] == 36 and ada["Vip"] is True
    assert ada["Account"] == importer.accounts["Acme"]
    # History and the outbox hold for imported records as for any other write.
    history = importer.api("GET", f"/api/v1/objects/Contact/records/{ada['id']}/history")
    assert history.get_json()["data"][0]["action"] == "created"

    download = importer.api("GET", result["rejected_rows_url"])
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["Full name", "Email", "Age", "VIP", "Account", "Row", "Error"]
    assert rows[1][:6] == ["Bob", "bob@example.com", "17", "no", "Globex", "2"]
    assert "Contacts are adults." in rows[1][6]
    assert rows[2][5] == "3" and "no Account named 'Initech'" in rows[2][6]


def test_an_upsert_by_a_unique_field_updates_and_inserts(importer: Any) -> None:
    created = importer.api(
        "POST", "/api/v1/objects/Contact/records", json={"Name": "Ada", "Email": "ada@example.com"}
    )
    assert created.status_code == 201
    text = (
        "Email,Full name,Age,Account\n"
        "ada@example.com,Ada Lovelace,36,GX-1\n"
        "bo@example.com,Bo,30,AC-1\n"
    )
    job_id = new_import(importer, text, mode="upsert", key_field="Email")
    mapping = importer.api("GET", f"/api/v1/imports/{job_id}/mapping").get_json()["mapping"]
    for entry in mapping:
        if entry["field"] == "Account":
            entry["match"] = "Code"  # the account by its unique code, not its name
    response = set_mapping(importer, job_id, mapping)
    assert response.status_code == 200, response.get_json()
    result = finish(importer, job_id)
    assert (result["created"], result["updated"], result["rejected"]) == (1, 1, 0)
    ada, bo = contacts(importer)
    assert ada["id"] == created.get_json()["id"] and ada["Name"] == "Ada Lovelace"
    assert ada["Account"] == importer.accounts["Globex"] and ada["version"] == 2
    assert bo["Account"] == importer.accounts["Acme"]


def test_a_column_headed_id_updates_records_in_place(importer: Any) -> None:
    created = importer.api("POST", "/api/v1/objects/Contact/records", json={"Name": "Ada"})
    record_id = created.get_json()["id"]
    # As the CSV export writes it: the record id first, field labels after.
    text = f"Id,Full name,Age\n{record_id},Ada King,37\n,Newcomer,20\n"
    job_id = new_import(importer, text)
    suggested = importer.api("GET", f"/api/v1/imports/{job_id}/mapping").get_json()
    assert suggested["mapping"][0] == {"column": "Id", "field": "id", "match": None}
    result = finish(importer, job_id)
    assert (result["created"], result["updated"]) == (1, 1)
    names = {row["id"]: row["Name"] for row in contacts(importer)}
    assert names[record_id] == "Ada King" and "Newcomer" in names.values()


def test_a_redelivered_task_resumes_after_the_last_committed_batch(
    importer: Any, worker_app: Flask
) -> None:
    lines = [f"Person {n:03},p{n}@example.com,{20 + n % 50}" for n in range(250)]
    job_id = new_import(importer, "Full name,Email,Age\n" + "\n".join(lines) + "\n")
    state = worker_app.extensions["trellis"]
    with state.database.tenant(importer.id) as connection:
        connection.execute(
            sa.text("UPDATE import_jobs SET state = 'queued' WHERE id = :id"), {"id": job_id}
        )
    # A worker writes two batches of 100 and is lost before the third.
    status = run_job(state.database, state.metadata_cache, 100, importer.id, uuid.UUID(job_id), 2)
    assert status == "running"
    job = importer.api("GET", f"/api/v1/imports/{job_id}").get_json()
    assert job["next_row"] == 200 and job["progress"] == 80 and job["created"] == 200

    celery = worker_app.extensions["celery"]
    redelivered = celery.send_task("trellis.run_import", args=[str(importer.id), job_id])
    assert redelivered.get(timeout=60) == "done"
    # A second delivery of the same message (acks_late) finds the job done.
    again = celery.send_task("trellis.run_import", args=[str(importer.id), job_id])
    assert again.get(timeout=60) == "done"
    rows = contacts_all(importer)
    assert len(rows) == 250 and len({row["Email"] for row in rows}) == 250
    job = importer.api("GET", f"/api/v1/imports/{job_id}").get_json()
    assert (job["created"], job["rejected"], job["state"]) == (250, 0, "done")


def contacts_all(tenant: Any) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        after = f"&cursor={cursor}" if cursor else ""
        page = tenant.api("GET", f"/api/v1/objects/Contact/records?limit=200{after}").get_json()
        found.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def test_a_job_whose_worker_is_killed_resumes_on_another(worker_pool: Any, tenant: Any) -> None:
    pool = worker_pool(import_batch_rows=50)
    acting = dataclasses.replace(tenant, app=pool.app)
    setup_contacts(acting)
    lines = [f"Person {n:04},k{n}@example.com,{20 + n % 50}" for n in range(1500)]
    job_id = new_import(acting, "Full name,Email,Age\n" + "\n".join(lines) + "\n")
    first = pool.start()
    assert acting.api("POST", f"/api/v1/imports/{job_id}/start").status_code == 202
    wait_for(lambda: acting.api("GET", f"/api/v1/imports/{job_id}").get_json()["next_row"] >= 100)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stopped = acting.api("GET", f"/api/v1/imports/{job_id}").get_json()
    assert stopped["state"] == "running" and 0 < stopped["next_row"] < 1500
    # Another worker takes the task again (as the broker redelivers an unacknowledged one).
    pool.start()
    celery = pool.app.extensions["celery"]
    assert celery.send_task(RUN_TASK, args=[str(tenant.id), job_id]).get(timeout=120) == "done"
    rows = contacts_all(acting)
    assert len(rows) == 1500 and len({row["Email"] for row in rows}) == 1500
    done = acting.api("GET", f"/api/v1/imports/{job_id}").get_json()
    assert (done["created"], done["rejected"], done["progress"]) == (1500, 0, 100)


def test_an_exported_file_imported_again_changes_nothing(importer: Any) -> None:
    """The export's file (ids first, labels as headers, lookups by name) is an import's
    file as it is: every row matches its record, and nothing is written (no value and
    no version changes)."""
    for name, email, age, vip, account in (
        ("Ada", "ada@example.com", 36, True, "Acme"),
        ("Bob, Jr.", "bob@example.com", 41, False, "Globex"),
        ('Cy "the" Third', None, None, None, None),
    ):
        body = {"Name": name, "Email": email, "Age": age, "Vip": vip}
        body["Account"] = importer.accounts[account] if account else None
        created = importer.api("POST", "/api/v1/objects/Contact/records", json=body)
        assert created.status_code == 201, created.get_json()
    before = {row["id"]: row for row in contacts_all(importer)}
    exported = importer.api("GET", "/api/v1/objects/Contact/records.csv")
    assert exported.status_code == 200, exported.get_data(as_text=True)
    text = exported.get_data(as_text=True)
    assert text.splitlines()[0].startswith("Id,")

    job_id = new_import(importer, text)
    dry = importer.api("POST", f"/api/v1/imports/{job_id}/dry-run")
    assert dry.status_code in (200, 202), dry.get_json()
    result = finish(importer, job_id)
    assert (result["created"], result["rejected"]) == (0, 0), result
    after = {row["id"]: row for row in contacts_all(importer)}
    fields = ("Name", "Email", "Age", "Vip", "Account", "version")
    assert {key: [row.get(name) for name in fields] for key, row in after.items()} == {
        key: [row.get(name) for name in fields] for key, row in before.items()
    }
