"""Upserts by external id through the API: ``PUT .../records/by/<Field>/<value>`` creates
(201) or updates (200), the bulk endpoint's ``upsert`` operation, concurrent upserts of
one new value, and records the caller may not see."""

from __future__ import annotations

import json
import threading
from typing import Any

import marshmallow
import sqlalchemy as sa
from access_helpers import Member
from access_worlds import EVERY_RIGHT, permission_set, person
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope, wait_for

from trellis.hookspecs import hookimpl
from trellis.metadata.field_types import EQUALITY_OPERATORS, FieldType

CUSTOMER = {
    "api_name": "Customer",
    "label": "Customer",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Code", "type": "text", "external_id": True},
        {"api_name": "Legacy", "type": "number", "external_id": True},
        {"api_name": "City", "type": "text"},
    ],
}


def by(field: str, value: Any) -> str:
    return f"/api/v1/objects/Customer/records/by/{field}/{value}"


def define(tenant: TenantFixture) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects", json=CUSTOMER)
    assert response.status_code == 201, response.get_data(as_text=True)


def count(app: Flask, tenant: TenantFixture, sql: str) -> int:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return connection.execute(sa.text(sql)).scalar_one()


def customers(app: Flask, tenant: TenantFixture) -> int:
    return count(
        app,
        tenant,
        "SELECT count(*) FROM records r JOIN meta_objects o ON o.id = r.object_id "
        "WHERE o.api_name = 'Customer' AND r.deleted_at IS NULL",
    )


def test_external_id_implies_unique_and_is_refused_on_types_that_cannot_carry_it(
    tenant: TenantFixture,
) -> None:
    define(tenant)
    fields = {
        field["api_name"]: field
        for field in tenant.api("GET", "/api/v1/meta/objects/Customer").get_json()["fields"]
    }
    assert fields["Code"]["external_id"] is True and fields["Code"]["unique"] is True
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        planned = connection.execute(
            sa.text("SELECT field, is_unique FROM field_indexes ORDER BY field")
        ).all()
    assert ("Code", True) in planned and ("Legacy", True) in planned
    for kind in ("long_text", "checkbox", "date"):
        refused = tenant.api(
            "POST",
            "/api/v1/meta/objects/Customer/fields",
            json={"api_name": "Other", "type": kind, "external_id": True},
        )
        body = assert_envelope(refused, 422)
        assert any("cannot be an external id" in m for ms in body["errors"].values() for m in ms)
    assert "Other" not in {
        f["api_name"]
        for f in tenant.api("GET", "/api/v1/meta/objects/Customer").get_json()["fields"]
    }


def test_upsert_creates_then_updates_by_the_external_id(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    created = tenant.api("PUT", by("Code", "C-1"), json={"Name": "Acme", "City": "Oslo"})
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["Code"] == "C-1" and record["Name"] == "Acme" and record["version"] == 1
    assert created.headers["Location"] == f"/api/v1/objects/Customer/records/{record['id']}"
    assert created.headers["ETag"] == '"1"'
    # The same value again updates that record: only what is sent changes.
    updated = tenant.api("PUT", by("code", "C-1"), json={"City": "Bergen", "Code": "C-1"})
    assert updated.status_code == 200, updated.get_json()
    assert "Location" not in updated.headers
    assert updated.get_json()["id"] == record["id"]
    assert updated.get_json()["Name"] == "Acme" and updated.get_json()["City"] == "Bergen"
    assert updated.get_json()["version"] == 2
    assert customers(app, tenant) == 1
    history = tenant.api("GET", f"/api/v1/objects/Customer/records/{record['id']}/history")
    assert [entry["action"] for entry in history.get_json()["data"]] == ["updated", "created"]
    # A number external id: the path's text is read as a number.
    legacy = tenant.api("PUT", by("Legacy", "42"), json={"Name": "Old"})
    assert legacy.status_code == 201 and legacy.get_json()["Legacy"] == 42
    again = tenant.api("PUT", by("Legacy", "42.0"), json={"Name": "Older"})
    assert again.status_code == 200 and again.get_json()["id"] == legacy.get_json()["id"]


def test_if_match_applies_as_on_patch(tenant: TenantFixture) -> None:
    define(tenant)
    tenant.api("PUT", by("Code", "C-1"), json={"Name": "Acme"})
    stale = tenant.api("PUT", by("Code", "C-1"), json={"Name": "B"}, headers={"If-Match": '"7"'})
    assert_envelope(stale, 412, "stale_version")
    fresh = tenant.api("PUT", by("Code", "C-1"), json={"Name": "B"}, headers={"If-Match": '"1"'})
    assert fresh.status_code == 200 and fresh.get_json()["version"] == 2
    # If-Match names a version of a record: with no record there is none to match.
    absent = tenant.api("PUT", by("Code", "C-2"), json={"Name": "C"}, headers={"If-Match": '"1"'})
    assert_envelope(absent, 412, "stale_version")


def test_bad_upserts_are_refused_and_change_nothing(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    not_external = assert_envelope(
        tenant.api("PUT", by("City", "Oslo"), json={"Name": "A"}), 422, "not_an_external_id"
    )
    assert "Code" in not_external["error"] and "Legacy" in not_external["error"]
    assert_envelope(tenant.api("PUT", by("Nope", "x"), json={}), 422, "not_an_external_id")
    mismatch = tenant.api("PUT", by("Code", "C-1"), json={"Name": "A", "Code": "C-2"})
    assert_envelope(mismatch, 422, "external_id_mismatch")
    assert_envelope(tenant.api("PUT", by("Legacy", "abc"), json={"Name": "A"}), 422)
    assert_envelope(tenant.api("PUT", by("Code", "C-1"), json={}), 422)  # Name is required
    assert_envelope(tenant.api("PUT", by("Code", "C-1"), json=[1]), 400, "malformed_json")
    assert customers(app, tenant) == 0


def test_concurrent_upserts_of_one_new_value_make_one_record(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        object_id = connection.execute(
            sa.text("SELECT id FROM meta_objects WHERE api_name = 'Customer'")
        ).scalar_one()
    # Hold the value's lock so that both upserts are waiting on it at once.
    lock_key = f"unique:{object_id}:Code:{json.dumps('C-9')}"
    holder = database.connect(tenant.id)
    holder.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(lock_key, 0))))
    statuses: list[int] = []

    def upsert(city: str) -> None:
        response = tenant.api("PUT", by("Code", "C-9"), json={"Name": "Acme", "City": city})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=upsert, args=(city,)) for city in ("Oslo", "Rome")]
    for thread in threads:
        thread.start()
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    wait_for(lambda: count(app, tenant, waiting) == 2)
    holder.rollback()
    holder.close()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201]
    assert customers(app, tenant) == 1


def test_bulk_upserts_say_which_were_created_and_which_updated(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    existing = tenant.api("PUT", by("Code", "C-1"), json={"Name": "Acme"}).get_json()
    response = tenant.api(
        "POST",
        "/api/v1/objects/Customer/bulk",
        json={
            "operation": "upsert",
            "by": "Code",
            "records": [
                {"Code": "C-1", "City": "Oslo"},
                {"Code": "C-2", "Name": "Beta"},
                {"Name": "No code"},
                {"Code": "C-2", "City": "Rome"},
                {"Code": "C-3"},
            ],
        },
    )
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] is False
    results = body["results"]
    assert [(r["ok"], r.get("created"), r.get("status")) for r in results] == [
        (True, False, 200),
        (True, True, 201),
        (False, None, 422),
        (True, False, 200),
        (False, None, 422),
    ]
    assert results[0]["id"] == existing["id"] and results[0]["record"]["City"] == "Oslo"
    assert results[3]["id"] == results[1]["id"] and results[3]["record"]["City"] == "Rome"
    assert "Code" in results[2]["errors"] and "Name" in results[4]["errors"]
    assert customers(app, tenant) == 2
    not_external = tenant.api(
        "POST",
        "/api/v1/objects/Customer/bulk",
        json={"operation": "upsert", "by": "City", "records": [{"City": "Oslo"}]},
    )
    assert_envelope(not_external, 422, "not_an_external_id")
    missing = tenant.api(
        "POST", "/api/v1/objects/Customer/bulk", json={"operation": "upsert", "records": [{}]}
    )
    assert_envelope(missing, 400)
    atomic = tenant.api(
        "POST",
        "/api/v1/objects/Customer/bulk",
        json={"operation": "upsert", "by": "Code", "atomic": True, "records": [{"Code": "C-7"}]},
    )
    assert_envelope(atomic, 422, "bulk_failed")
    assert customers(app, tenant) == 2


def _sales_rep(tenant: TenantFixture, *, create: bool = True) -> Member:
    rights = {**EVERY_RIGHT, "create": create}
    permission_set(tenant, "rep", objects={"Customer": rights})
    return person(tenant, "rep", "rep")


def test_a_record_the_caller_cannot_see_is_not_revealed(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    hidden = tenant.api("PUT", by("Code", "C-1"), json={"Name": "Secret"}).get_json()
    rep = _sales_rep(tenant)
    refused = rep.api("PUT", by("Code", "C-1"), json={"Name": "Mine"})
    body = assert_envelope(refused, 409, "external_id_taken")
    assert hidden["id"] not in refused.get_data(as_text=True) and "Secret" not in body["error"]
    bulk = rep.api(
        "POST",
        "/api/v1/objects/Customer/bulk",
        json={"operation": "upsert", "by": "Code", "records": [{"Code": "C-1", "Name": "x"}]},
    ).get_json()
    assert bulk["results"][0]["status"] == 409 and hidden["id"] not in json.dumps(bulk)
    # Their own records they upsert as anyone would.
    assert rep.api("PUT", by("Code", "C-2"), json={"Name": "Mine"}).status_code == 201
    assert rep.api("PUT", by("Code", "C-2"), json={"City": "Oslo"}).status_code == 200
    assert tenant.api("GET", f"/api/v1/objects/Customer/records/{hidden['id']}").get_json()[
        "Name"
    ] == ("Secret")


def test_a_create_needs_the_create_right_and_an_update_the_edit_right(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    rep = _sales_rep(tenant, create=False)
    assert_envelope(rep.api("PUT", by("Code", "C-5"), json={"Name": "New"}), 403)
    assert customers(app, tenant) == 0
    shared = tenant.api("PUT", by("Code", "C-6"), json={"Name": "Shared"}).get_json()
    share = tenant.api(
        "POST",
        f"/api/v1/objects/Customer/records/{shared['id']}/shares",
        json={"user": str(rep.id), "access": "read"},
    )
    assert share.status_code in (200, 201), share.get_data(as_text=True)
    # They may read it, not change it: a 403, not a duplicate.
    assert_envelope(rep.api("PUT", by("Code", "C-6"), json={"City": "Oslo"}), 403)
    assert customers(app, tenant) == 1


class Sku(FieldType):
    """A plugin type that declares it may be an external id, like the built-in text."""

    name = "acme_sku"
    operators = EQUALITY_OPERATORS
    usable_as_external_id = True

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.String(allow_none=True)


class SkuPlugin:
    @hookimpl
    def register_field_types(self, registry: Any) -> None:
        registry.register(Sku())


def test_a_plugin_type_declaring_the_capability_is_upserted_by(
    make_app: Any, tenant: TenantFixture
) -> None:
    app = make_app(plugins=(SkuPlugin(),))
    product = {
        "api_name": "Product",
        "label": "Product",
        "fields": [
            {"api_name": "Name", "type": "text"},
            {"api_name": "Sku", "type": "acme_sku", "external_id": True},
        ],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=product, app=app).status_code == 201
    url = "/api/v1/objects/Product/records/by/Sku/AB-1"
    first = tenant.api("PUT", url, json={"Name": "Bolt"}, app=app)
    second = tenant.api("PUT", url, json={"Name": "Nut"}, app=app)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == first.get_json()["id"]
