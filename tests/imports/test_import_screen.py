"""The import screen without JavaScript: the list's Import link, the upload form with
its inline errors, the mapping form's dry run, and the start that leads to the
progress page. It goes through the same service as the API."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from helpers import csrf_token, login
from import_worlds import contacts, setup_contacts

FILE = "Full name,Email,Age\nAda,ada@example.com,36\nBob,bob@example.com,12\n"


def signed_in(tenant: Any) -> Any:
    client = tenant.app.test_client()
    login(client, tenant)
    return client


def upload(client: Any, text: str | bytes, **form: str) -> Any:
    token = csrf_token(client.get("/o/Contact/import").get_data(as_text=True))
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/o/Contact/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "contacts.csv"), **form},
        content_type="multipart/form-data",
    )


def test_the_list_links_to_the_import_screen(tenant: Any) -> None:
    setup_contacts(tenant)
    page = signed_in(tenant).get("/o/Contact").get_data(as_text=True)
    assert 'href="/o/Contact/import">Import</a>' in page


def test_a_bad_file_is_shown_on_the_form_and_stores_nothing(tenant: Any) -> None:
    setup_contacts(tenant)
    client = signed_in(tenant)
    response = upload(client, b"Name,Name\n1,2\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The header row is not usable" in page and "two columns are named" in page
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM import_jobs")).scalar() == 0


def test_a_dry_run_then_a_start_from_the_screen(tenant: Any) -> None:
    setup_contacts(tenant)
    client = signed_in(tenant)
    response = upload(client, FILE)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert '<option value="Name" selected>Full name</option>' in page
    form = {"csrf_token": csrf_token(page), "field-0": "Name", "field-1": "Email", "field-2": "Age"}
    dry = client.post(job_url, data={**form, "action": "dry_run"})
    assert dry.status_code == 200
    text = dry.get_data(as_text=True)
    assert "1 to create, 0 to update, 1 rejected, of 2 rows." in text
    assert "Contacts are adults." in text
    assert contacts(tenant) == []
    started = client.post(job_url, data={**form, "action": "start"})
    assert started.status_code == 303
    progress = client.get(job_url).get_data(as_text=True)
    assert 'data-import-progress data-url="/api/v1/imports/' in progress
    assert '<progress id="import-progress"' in progress
