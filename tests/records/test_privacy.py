"""A person's data: found by record or address, exported whole, and erased (anonymised or
deleted) with no copy left in history or the outbox; administrators only, audited, and
bad requests change nothing."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from factories import PERSON_EMAIL, PRIVACY_OBJECTS, setup_people
from flask import Flask
from helpers import assert_envelope

from trellis.identity.tokens import create_token
from trellis.identity.users import create_user

ROOT = Path(__file__).resolve().parents[2]
HERS = {"jane", "lead", "binned_lead", "acme", "deal", "task"}
# What must be gone from every table once she is erased (compared case-insensitively).
HER_DATA = (
    '"jane.doe@example.com',  # the quote: xjane.doe@example.com is someone else's
    "Jane Doe",
    "555 0100",
    "555 0199",
    "1990-04-01",
    "trade fair",
    "Prefers mornings",
)


@pytest.fixture()
def people(tenant: TenantFixture) -> dict[str, str]:
    return setup_people(tenant)


def export(tenant: TenantFixture, token: str | None = None, **params: str) -> Any:
    return tenant.api("GET", "/api/v1/privacy/export", query_string=params, token=token)


def erase(tenant: TenantFixture, token: str | None = None, **body: Any) -> Any:
    return tenant.api("POST", "/api/v1/privacy/erase", json=body, token=token)


def by_name(ids: dict[str, str], document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = {record_id: name for name, record_id in ids.items()}
    return {names[record["id"]]: record for record in document["records"]}


TABLES = {
    "records": "(id, data, deleted_at, version)",
    "record_history": "(id, changes)",
    "events": "(id, payload)",
    "audit_events": "(id, action, details)",
}


def stored(app: Flask, tenant: TenantFixture) -> dict[str, list[str]]:
    """Everything the tenant's records, history, events and audit trail hold, as text."""
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return {
            table: list(
                connection.execute(sa.text(f"SELECT {row}::text FROM {table} ORDER BY 1")).scalars()
            )
            for table, row in TABLES.items()
        }


def holding(app: Flask, tenant: TenantFixture, text: str) -> dict[str, int]:
    """How many rows of each table still hold ``text``."""
    return {
        table: sum(text.lower() in row.lower() for row in rows)
        for table, rows in stored(app, tenant).items()
    }


def audit(tenant: TenantFixture, action: str) -> list[dict[str, Any]]:
    return tenant.api("GET", "/api/v1/audit", query_string={"action": action}).get_json()["data"]


def test_export_by_record_finds_exactly_her_records(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    response = export(tenant, object="Contact", record=people["jane"])
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    found = by_name(people, document)
    assert set(found) == HERS and document["count"] == len(HERS)
    assert document["records"][0]["id"] == people["jane"]  # the subject first
    assert document["subject"] == {"email": None, "object": "Contact", "record": people["jane"]}
    assert document["addresses"] == ["jane.doe@example.com"]
    assert found["jane"]["matched_by"] == ["subject", "email:Email"]
    assert found["lead"]["matched_by"] == ["email:Email"]
    assert found["acme"]["matched_by"] == ["email:BillingEmail"]
    assert found["deal"]["matched_by"] == ["lookup:Contact"]
    assert found["task"]["matched_by"] == ["lookup:Contact"]
    assert found["binned_lead"]["deleted_at"] is not None  # the recycle bin still holds it
    jane = found["jane"]
    assert jane["values"]["Email"] == PERSON_EMAIL and jane["values"]["Score"] == 42
    assert jane["owner_id"] == str(tenant.admin_id) and jane["created_at"] and jane["version"] == 2
    assert [entry["action"] for entry in jane["history"]] == ["created", "updated"]
    assert jane["history"][1]["changes"]["Phone"] == ["+1 555 0100", "+1 555 0199"]
    assert [entry["action"] for entry in found["binned_lead"]["history"]] == ["created", "deleted"]


def test_export_by_email_ignores_case_and_similar_addresses(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    document = export(tenant, email="  JANE.doe@example.COM ").get_json()
    found = by_name(people, document)
    # Without her record, nothing points at it: the deal and the task are not found.
    assert set(found) == {"jane", "lead", "binned_lead", "acme"}
    assert found["jane"]["matched_by"] == ["email:Email"]
    assert document["subject"]["email"] == "JANE.doe@example.COM"
    nobody = export(tenant, email="nobody@example.com").get_json()
    assert nobody["count"] == 0 and nobody["records"] == []


def test_an_export_is_audited_without_the_address(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    export(tenant, email=PERSON_EMAIL)
    export(tenant, object="Contact", record=people["jane"])
    by_email, by_record = reversed(audit(tenant, "privacy.exported"))
    assert by_email["details"]["records"] == 4 and by_record["details"]["records"] == 6
    assert by_email["details"]["subject"]["email_sha256"]
    assert "jane" not in json.dumps(by_email).lower()
    assert (by_record["target_type"], by_record["target_id"]) == ("record", people["jane"])


def test_without_confirm_an_erasure_only_previews(
    app: Flask, tenant: TenantFixture, people: dict[str, str]
) -> None:
    before = stored(app, tenant)
    body = assert_envelope(
        erase(tenant, object="Contact", record=people["jane"], mode="anonymise"),
        400,
        "confirmation_required",
    )
    preview = body["preview"]
    planned = by_name(people, preview)
    assert set(planned) == HERS
    assert planned["jane"]["changes"] == {
        "Name": "Anonymised",
        "FirstName": None,
        "Email": None,
        "Phone": None,
        "Birthdate": None,
        "Notes": None,
    }
    assert planned["acme"]["changes"] == {"BillingEmail": None}
    assert planned["deal"]["changes"] == {} and not planned["jane"]["deleted"]
    assert preview["counts"]["records"] == 6 and preview["counts"]["updated"] == 4
    assert preview["counts"]["history_rows"] > 0
    assert stored(app, tenant) == before


def test_anonymising_leaves_no_copy_of_her_data(
    app: Flask, tenant: TenantFixture, people: dict[str, str]
) -> None:
    response = erase(
        tenant, object="Contact", record=people["jane"], mode="anonymise", confirm=True
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["updated"] == 4
    jane = tenant.api("GET", f"/api/v1/objects/Contact/records/{people['jane']}").get_json()
    assert jane["Name"] == "Anonymised"
    assert [jane[name] for name in ("FirstName", "Email", "Phone", "Birthdate", "Notes")] == [
        None
    ] * 5
    # What describes the record rather than her stays, and so do the records about her.
    assert (jane["LeadSource"], jane["Score"], jane["Account"]) == ("Web", 42, people["acme"])
    lead = tenant.api("GET", f"/api/v1/objects/Lead/records/{people['lead']}").get_json()
    # The lead's email is required: an address of its own that reaches nobody.
    assert lead["Email"] == f"anonymised-{people['lead'].replace('-', '')}@anonymised.invalid"
    assert lead["Name"] == "J. Doe"
    acme = tenant.api("GET", f"/api/v1/objects/Account/records/{people['acme']}").get_json()
    assert (acme["Name"], acme["BillingEmail"]) == ("Acme", None)
    deal = tenant.api("GET", f"/api/v1/objects/Opportunity/records/{people['deal']}").get_json()
    assert deal["Contact"] == people["jane"]
    for text in HER_DATA:
        assert holding(app, tenant, text) == dict.fromkeys(TABLES, 0), text
    # The others keep their data, history included.
    similar = tenant.api("GET", f"/api/v1/objects/Lead/records/{people['similar_lead']}")
    assert similar.get_json()["Email"] == "jane.doe@example.co"
    assert holding(app, tenant, "bob@example.com")["record_history"] == 1
    history = tenant.api(
        "GET", f"/api/v1/objects/Contact/records/{people['jane']}/history"
    ).get_json()["data"]
    assert history[0]["changes"]["Name"] == [None, "Anonymised"]
    assert history[-1]["changes"]["Score"] == [None, 42]


def test_an_erasure_is_audited_with_counts_not_values(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    erase(tenant, email=PERSON_EMAIL, confirm=True)
    (event,) = audit(tenant, "privacy.erased")
    assert event["actor_id"] == str(tenant.admin_id)
    details = event["details"]
    assert details["mode"] == "anonymise"
    assert details["counts"]["records"] == 4 and details["counts"]["updated"] == 4
    assert details["subject"]["email_sha256"] and details["subject"]["email"] is None
    assert "jane" not in json.dumps(event).lower()


def test_by_email_only_her_addresses_are_blanked(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    assert erase(tenant, email=PERSON_EMAIL, confirm=True).status_code == 200
    jane = tenant.api("GET", f"/api/v1/objects/Contact/records/{people['jane']}").get_json()
    # Without her record named, nothing says the contact is her: only the address goes.
    assert (jane["Name"], jane["Email"], jane["Phone"]) == ("Jane Doe", None, "+1 555 0199")


def test_deleting_bins_her_record_anonymised(
    app: Flask, tenant: TenantFixture, people: dict[str, str]
) -> None:
    response = erase(tenant, object="Contact", record=people["jane"], mode="delete", confirm=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["deleted"] == 1
    path = f"/api/v1/objects/Contact/records/{people['jane']}"
    assert_envelope(tenant.api("GET", path), 404)
    # Each lookup's on_delete applied: the deal lets go, the task goes with her.
    deal = tenant.api("GET", f"/api/v1/objects/Opportunity/records/{people['deal']}").get_json()
    assert deal["Contact"] is None
    assert_envelope(tenant.api("GET", f"/api/v1/objects/Task/records/{people['task']}"), 404)
    # The recycle bin holds no more of her than the rest of the database.
    restored = tenant.api("POST", f"{path}/restore").get_json()
    assert (restored["Name"], restored["Email"]) == ("Anonymised", None)
    for text in HER_DATA:
        assert sum(holding(app, tenant, text).values()) == 0, text


def test_only_administrators_export_or_erase(
    app: Flask, tenant: TenantFixture, people: dict[str, str]
) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        user = create_user(connection, tenant.actor, email=f"u@{tenant.slug}.test", password=None)
        plain, _ = create_token(connection, tenant.actor, user_id=user.id, name="plain")
        admin_read, _ = create_token(
            connection, tenant.actor, user_id=tenant.admin_id, name="r", scopes=["read"]
        )
    before = stored(app, tenant)
    for token in (plain, admin_read):
        assert_envelope(export(tenant, token, email=PERSON_EMAIL), 403)
        assert_envelope(export(tenant, token), 403)  # refused before the request is read
        assert_envelope(erase(tenant, token, email=PERSON_EMAIL, confirm=True), 403)
    assert_envelope(app.test_client().get("/api/v1/privacy/export?email=a@b.c"), 401)
    assert stored(app, tenant) == before


MISSING = "00000000-0000-4000-8000-000000000000"
BAD_REQUESTS = [
    ({}, 400, "no_subject"),
    ({"email": "not an address"}, 400, "bad_request"),
    ({"email": 42}, 400, "bad_request"),
    ({"object": "Contact"}, 400, "bad_request"),
    ({"record": MISSING}, 400, "bad_request"),
    ({"object": "Contact", "record": "12345"}, 400, "bad_request"),
    ({"object": "Nothing", "record": MISSING}, 404, "unknown_object"),
    ({"object": "Contact", "record": MISSING}, 404, "not_found"),
]


@pytest.mark.parametrize(("subject", "status", "code"), BAD_REQUESTS)
def test_a_badly_named_person_changes_nothing(
    app: Flask,
    tenant: TenantFixture,
    people: dict[str, str],
    subject: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = stored(app, tenant)
    assert_envelope(export(tenant, **{k: str(v) for k, v in subject.items()}), status, code)
    assert_envelope(erase(tenant, **subject, confirm=True), status, code)
    assert stored(app, tenant) == before


@pytest.mark.parametrize(
    "body",
    [
        {"email": PERSON_EMAIL, "mode": "shred", "confirm": True},
        {"email": PERSON_EMAIL, "confirm": "yes"},
        {"email": PERSON_EMAIL, "confirm": True, "force": True},
        # Deleting needs her record: an address alone does not say which record is hers.
        {"email": PERSON_EMAIL, "mode": "delete", "confirm": True},
    ],
)
def test_a_malformed_erasure_changes_nothing(
    app: Flask, tenant: TenantFixture, people: dict[str, str], body: dict[str, Any]
) -> None:
    before = stored(app, tenant)
    assert_envelope(erase(tenant, **body), 400, "bad_request")
    assert stored(app, tenant) == before


def test_a_refused_write_rolls_the_whole_erasure_back(
    app: Flask, tenant: TenantFixture, people: dict[str, str]
) -> None:
    """A validation rule that refuses the anonymised contact refuses everything."""
    rule = {"name": "KeepsAName", "condition": 'Name = "Anonymised"', "message": "No."}
    contact = next(obj for obj in PRIVACY_OBJECTS if obj["api_name"] == "Contact")
    changed = tenant.api(
        "PUT", "/api/v1/meta/objects/Contact", json={**contact, "validation_rules": [rule]}
    )
    assert changed.status_code == 200, changed.get_json()
    before = stored(app, tenant)
    response = erase(tenant, object="Contact", record=people["jane"], confirm=True)
    assert_envelope(response, 422, "validation_error")
    assert stored(app, tenant) == before


def test_only_the_privacy_scrub_rewrites_history() -> None:
    """History is immutable but for erasure: no other product code updates it."""
    writers = []
    for folder in ("platform", "metadata", "plugins", "rule_engine", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            if "record_history" in text and re.search(
                r"record_history\.update|UPDATE record_history|\.update\(\)", text
            ):
                writers.append(str(path.relative_to(ROOT)))
    assert writers == ["platform/trellis/records/privacy/scrub.py"]


def test_responses_match_the_openapi_document(
    tenant: TenantFixture, people: dict[str, str]
) -> None:
    document = tenant.api("GET", "/api/v1/openapi.json").get_json()
    operations = {
        (path, method): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert operations[("/privacy/export", "get")] == "exportPersonalData"
    assert operations[("/privacy/erase", "post")] == "erasePersonalData"

    def check(schema: str, instance: Any) -> None:
        jsonschema.validate(instance, {"$ref": f"#/components/schemas/{schema}", **document})

    check("PrivacyExport", export(tenant, object="Contact", record=people["jane"]).get_json())
    body = {"object": "Contact", "record": people["jane"], "mode": "delete"}
    check("PrivacyErasureInput", body)
    check("PrivacyErasure", erase(tenant, **body).get_json()["preview"])
    check("PrivacyErasure", erase(tenant, **body, confirm=True).get_json())


def test_placeholders_are_valid_distinct_values_of_their_types(app: Flask) -> None:
    registry = app.extensions["trellis"].field_types
    personal = {t.name: t for t in registry.all() if t.personal_data}
    assert {"email", "text", "long_text", "rich_text", "phone", "url", "date"} <= set(personal)
    first, second = uuid.uuid4(), uuid.uuid4()
    for field_type in personal.values():
        for unique in (False, True):
            definition = {"api_name": "Field", "type": field_type.name, "unique": unique}
            value = field_type.anonymised_value(definition, first)
            if value is None:
                continue  # a date has none: a required date field refuses erasure
            assert field_type.normalize(value, definition) == value, field_type.name
            if unique or field_type.name == "email":
                assert value != field_type.anonymised_value(definition, second)
    short = {"api_name": "Code", "type": "text", "max_length": 4}
    assert personal["text"].anonymised_value(short, first) == "Anon"


def test_a_required_field_with_no_placeholder_refuses_erasure(
    app: Flask, tenant: TenantFixture
) -> None:
    patient = {
        "api_name": "Patient",
        "label": "Patient",
        "fields": [
            {"api_name": "Name", "type": "text", "required": True},
            {"api_name": "Birthdate", "type": "date", "required": True},
        ],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=patient).status_code == 201
    created = tenant.api(
        "POST",
        "/api/v1/objects/Patient/records",
        json={"Name": "Jane Doe", "Birthdate": "1990-04-01"},
    ).get_json()
    before = stored(app, tenant)
    refused = erase(tenant, object="Patient", record=created["id"], confirm=True)
    body = assert_envelope(refused, 409, "not_erasable")
    assert body["errors"] == {"Birthdate": ["Required, with no anonymised value."]}
    assert stored(app, tenant) == before
