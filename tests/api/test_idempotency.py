"""Idempotency keys on record writes: a retry gets the first answer and writes nothing,
another request under the same key is refused, a key in use is a 409, keys belong to
one tenant and one actor, refusals are kept and failures of ours are not, and expired
keys are purged."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from access_worlds import EVERY_RIGHT, permission_set, person
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope

from trellis.api.idempotency_store import Scope
from trellis.api.idempotency_tasks import purge_all
from trellis.hookspecs import hookimpl

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Code", "type": "text", "external_id": True},
    ],
}
RECORDS = "/api/v1/objects/Account/records"


def define(tenant: TenantFixture) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects", json=ACCOUNT)
    assert response.status_code == 201, response.get_data(as_text=True)


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def rows(app: Flask, tenant: TenantFixture) -> dict[str, int]:
    """How many records (of Account), history rows, events and keys the tenant has."""
    counts = {
        "records": "SELECT count(*) FROM records r JOIN meta_objects o ON o.id = r.object_id "
        "WHERE o.api_name = 'Account'",
        "history": "SELECT count(*) FROM record_history",
        "events": "SELECT count(*) FROM events",
        "keys": "SELECT count(*) FROM idempotency_keys",
    }
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return {name: connection.execute(sa.text(sql)).scalar_one() for name, sql in counts.items()}


def test_a_retried_create_gets_the_first_answer_and_writes_nothing(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    first = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("create-1"))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    after_first = rows(app, tenant)
    assert after_first["records"] == 1 and after_first["keys"] == 1
    # The same body with its keys in another order is the same request.
    retry = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("create-1"))
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_data() == first.get_data()
    for header in ("ETag", "Location", "Content-Type"):
        assert retry.headers[header] == first.headers[header]
    assert rows(app, tenant) == after_first
    # Without a key, or with another, the same body is a new record.
    assert tenant.api("POST", RECORDS, json={"Name": "Acme"}).status_code == 201
    other = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("create-2"))
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert rows(app, tenant)["records"] == 3


def test_updates_upserts_and_bulk_writes_are_idempotent(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    record = tenant.api("POST", RECORDS, json={"Name": "Acme"}).get_json()
    url = f"{RECORDS}/{record['id']}"
    patch = tenant.api(
        "PATCH", url, json={"Name": "Beta"}, headers=keyed("k", **{"If-Match": '"1"'})
    )
    assert patch.status_code == 200 and patch.get_json()["version"] == 2
    before = rows(app, tenant)
    again = tenant.api(
        "PATCH", url, json={"Name": "Beta"}, headers=keyed("k", **{"If-Match": '"1"'})
    )
    assert again.status_code == 200 and again.get_json() == patch.get_json()
    upsert_url = "/api/v1/objects/Account/records/by/Code/A-1"
    created = tenant.api("PUT", upsert_url, json={"Name": "Gamma"}, headers=keyed("u"))
    assert created.status_code == 201
    replay = tenant.api("PUT", upsert_url, json={"Name": "Gamma"}, headers=keyed("u"))
    # The retry says "created" again rather than "updated": it is the first answer.
    assert replay.status_code == 201 and replay.get_json() == created.get_json()
    bulk = {"operation": "create", "records": [{"Name": "One"}, {"Name": "Two"}]}
    first = tenant.api("POST", "/api/v1/objects/Account/bulk", json=bulk, headers=keyed("b"))
    retried = tenant.api("POST", "/api/v1/objects/Account/bulk", json=bulk, headers=keyed("b"))
    assert first.status_code == retried.status_code == 200
    assert retried.get_data() == first.get_data()
    counts = rows(app, tenant)
    assert counts["records"] == before["records"] + 3
    assert counts["history"] == before["history"] + 3 and counts["keys"] == before["keys"] + 2


def test_the_same_key_with_another_request_is_refused(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("same"))
    before = rows(app, tenant)
    for method, path, body in (
        ("POST", RECORDS, {"Name": "Other"}),
        ("PUT", "/api/v1/objects/Account/records/by/Code/X", {"Name": "Acme"}),
    ):
        refused = tenant.api(method, path, json=body, headers=keyed("same"))
        error = assert_envelope(refused, 422, "idempotency_key_reused")
        assert "Idempotency-Key" in error["errors"]
    assert rows(app, tenant) == before
    for bad in ("", "x" * 256, "tab\there"):
        assert_envelope(
            tenant.api("POST", RECORDS, json={"Name": "A"}, headers=keyed(bad)),
            400,
            "invalid_idempotency_key",
        )
    assert rows(app, tenant) == before


def test_a_refusal_is_kept_and_replayed(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    refused = tenant.api("POST", RECORDS, json={"Code": "A-1"}, headers=keyed("bad"))
    body = assert_envelope(refused, 422)
    assert "Name" in body["errors"]
    assert rows(app, tenant)["records"] == 0 and rows(app, tenant)["keys"] == 1
    again = tenant.api("POST", RECORDS, json={"Code": "A-1"}, headers=keyed("bad"))
    assert again.status_code == 422 and again.get_json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert rows(app, tenant)["records"] == 0


def test_a_key_in_use_is_a_conflict(app: Flask, tenant: TenantFixture) -> None:
    define(tenant)
    database = app.extensions["trellis"].database
    scope = Scope(tenant.id, f"user:{tenant.admin_id}", "busy")
    # Another request holding the key: its transaction holds the key's lock.
    holder = database.connect(tenant.id)
    key_lock = sa.func.hashtextextended(scope.lock_key, 0)
    holder.execute(sa.select(sa.func.pg_advisory_xact_lock(key_lock)))
    try:
        busy = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("busy"))
        assert_envelope(busy, 409, "idempotency_key_in_use")
        assert rows(app, tenant)["records"] == 0 and rows(app, tenant)["keys"] == 0
    finally:
        holder.rollback()
        holder.close()
    done = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("busy"))
    assert done.status_code == 201


def test_keys_belong_to_one_tenant_and_one_actor(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    define(tenant)
    define(other_tenant)
    permission_set(tenant, "worker", all_objects=EVERY_RIGHT)
    colleague = person(tenant, "colleague")
    mine = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("shared"))
    theirs = colleague.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("shared"))
    elsewhere = other_tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("shared"))
    assert mine.status_code == theirs.status_code == elsewhere.status_code == 201
    assert all("Idempotent-Replayed" not in each.headers for each in (theirs, elsewhere))
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert rows(app, tenant)["records"] == 2 and rows(app, other_tenant)["records"] == 1
    assert rows(app, tenant)["keys"] == 2 and rows(app, other_tenant)["keys"] == 1


def _expire(app: Flask, tenant: TenantFixture, key: str) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        connection.execute(
            sa.text(
                "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' "
                "WHERE key = :key"
            ),
            {"key": key},
        )


def test_expired_keys_are_not_replayed_and_are_purged(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    define(tenant)
    define(other_tenant)
    first = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("old"))
    tenant.api("POST", RECORDS, json={"Name": "Kept"}, headers=keyed("young"))
    other_tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("old"))
    _expire(app, tenant, "old")
    _expire(app, other_tenant, "old")
    # An expired key is a new request: it writes again, and its answer is kept anew.
    fresh = tenant.api("POST", RECORDS, json={"Name": "Acme"}, headers=keyed("old"))
    assert fresh.status_code == 201 and fresh.get_json()["id"] != first.get_json()["id"]
    _expire(app, tenant, "old")
    assert purge_all(app.extensions["trellis"].database) >= 2
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        kept = connection.execute(sa.text("SELECT key FROM idempotency_keys")).scalars().all()
    assert kept == ["young"] and rows(app, other_tenant)["keys"] == 0


def test_a_failure_of_ours_is_not_kept(make_app: Any, tenant: TenantFixture) -> None:
    """A 5xx answer is not stored: the retry runs again (and here succeeds)."""
    define(tenant)
    failing = make_app(plugins=(_Breaks(),))
    broken = tenant.api("POST", RECORDS, json={"Name": "Boom"}, headers=keyed("flaky"), app=failing)
    assert_envelope(broken, 500, "internal_error")
    assert rows(tenant.app, tenant)["keys"] == 0 and rows(tenant.app, tenant)["records"] == 0
    retried = tenant.api(
        "POST", RECORDS, json={"Name": "Boom"}, headers=keyed("flaky"), app=tenant.app
    )
    assert retried.status_code == 201


class _Breaks:
    """A plugin whose record hook fails on a record named Boom, as a bug would."""

    @hookimpl
    def before_record_save(self, data: dict[str, Any]) -> set[str] | None:
        if data.get("Name") == "Boom":
            raise RuntimeError("a bug")
        return None
