"""The imports API: mapping suggestion, dry runs that write nothing, and the refusals of
bad files and bad mappings (422, nothing stored)."""

from __future__ import annotations

from typing import Any

from helpers import assert_envelope
from import_worlds import contacts, new_import, set_mapping, setup_contacts, upload

from trellis.identity.users import user_actor
from trellis.imports.service import ImportService

GOOD = "Full name,email,AGE,Account,Score\nAda,ada@example.com,36,Acme,1\n"
MIXED = (
    "Full name,Email,Age,Account\n"
    "Ada,ada@example.com,36,Acme\n"
    ",nobody@example.com,40,Acme\n"  # no name: required
    "Bob,bob@example.com,twelve,Acme\n"  # not a number
    "Cy,cy@example.com,12,Globex\n"  # validation rule
    "Di,ada@example.com,50,\n"  # the same email as row 1: unique
    "Ed,ed@example.com,50,Initech\n"  # no such account
)


def test_the_mapping_is_suggested_by_label_and_api_name(tenant: Any) -> None:
    setup_contacts(tenant)
    job_id = new_import(tenant, GOOD)
    mapping = tenant.api("GET", f"/api/v1/imports/{job_id}/mapping").get_json()
    assert mapping["headers"] == ["Full name", "email", "AGE", "Account", "Score"]
    assert mapping["suggested"] == [
        {"column": "Full name", "field": "Name", "match": None},
        {"column": "email", "field": "Email", "match": None},
        {"column": "AGE", "field": "Age", "match": None},
        {"column": "Account", "field": "Account", "match": "name"},
        # A formula is computed: never suggested, and refused when mapped.
        {"column": "Score", "field": None, "match": None},
    ]
    wanted = [{"column": "Score", "field": "Score"}, {"column": "AGE", "field": "Nope"}]
    refused = set_mapping(tenant, job_id, wanted)
    body = assert_envelope(refused, 422, "bad_mapping")
    assert "Score" in body["errors"] and "AGE" in body["errors"]
    # Nothing changed: the stored mapping is still the suggestion.
    again = tenant.api("GET", f"/api/v1/imports/{job_id}/mapping").get_json()
    assert again["mapping"] == mapping["suggested"]


def test_a_dry_run_reports_each_bad_row_and_writes_nothing(tenant: Any) -> None:
    setup_contacts(tenant)
    job_id = new_import(tenant, MIXED)
    response = tenant.api("POST", f"/api/v1/imports/{job_id}/dry-run")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["rows"] == 6 and result["would_create"] == 1 and result["rejected"] == 5
    reasons = {error["row"]: error["reason"] for error in result["errors"]}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "Full name: This field is required." in reasons[2]
    assert reasons[3].startswith("Age:")
    assert "Contacts are adults." in reasons[4]
    assert "Email: row 1 of the file has this value." in reasons[5]
    assert "no Account named 'Initech'" in reasons[6]
    assert contacts(tenant) == []
    history = tenant.api("GET", "/api/v1/imports/" + job_id).get_json()
    assert history["state"] == "uploaded" and history["created"] == 0


def test_bad_files_are_refused_whole(tenant: Any) -> None:
    setup_contacts(tenant)
    job_id = new_import(tenant, GOOD)
    for data, code in (
        (b"\xff\xfeN\x00a\x00", "bad_file"),  # UTF-16: not UTF-8
        (b"", "bad_file"),
        (b"Name,Name\nA,B\n", "bad_file"),
        (b'Name\n"unterminated\n', "bad_file"),
        (b"Name,Email\n", "bad_file"),  # no rows
    ):
        assert_envelope(upload(tenant, job_id, data), 422, code)
    too_large = b"Name\n" + b"x" * (8 * 1024 * 1024)
    assert_envelope(upload(tenant, job_id, too_large), 413, "file_too_large")
    # The first file is still the job's.
    assert tenant.api("GET", f"/api/v1/imports/{job_id}").get_json()["total_rows"] == 1


def test_a_dry_run_in_batches_still_finds_values_the_file_repeats(tenant: Any, app: Any) -> None:
    setup_contacts(tenant)
    text = "Full name,Email\nAda,ada@example.com\nBob,bob@example.com\nCy,ada@example.com\n"
    job_id = new_import(tenant, text)
    state = app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
        actor = user_actor(connection, tenant.admin_id, tenant.slug, schema.access)
        assert actor is not None
        # Batches of one row, each rolled back: the third row's email is the first's.
        result = ImportService(connection, actor, schema).dry_run(job_id, 1, state.database)
    assert (result["would_create"], result["rejected"]) == (2, 1)
    assert result["errors"] == [{"row": 3, "reason": "Email: row 1 of the file has this value."}]
    assert contacts(tenant) == []
