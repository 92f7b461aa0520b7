"""The checks a batch of new records makes at once (trellis.records.new_records): unique
values within the batch and against the table, under concurrent writers, and lookups
that must point at live records the writer may read."""

from __future__ import annotations

import random
import threading
from typing import Any

import sqlalchemy as sa
from access_helpers import member
from access_worlds import EVERY_RIGHT, permission_set
from conftest import TenantFixture
from flask import Flask
from helpers import wait_for

from trellis.records.service import RecordService

PRODUCT = {
    "api_name": "Product",
    "label": "Product",
    "fields": [
        {"api_name": "Sku", "type": "text", "unique": True},
        {"api_name": "Code", "type": "text", "unique": True},
        {"api_name": "Supplier", "type": "lookup", "target": "Supplier"},
    ],
}
SUPPLIER = {
    "api_name": "Supplier",
    "label": "Supplier",
    "sharing_model": "private",
    "fields": [{"api_name": "Name", "type": "text"}],
}


def define(tenant: TenantFixture) -> None:
    for definition in (SUPPLIER, PRODUCT):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()


def bulk(tenant: TenantFixture, records: list[dict[str, Any]], token: str | None = None) -> list:
    response = tenant.api(
        "POST", "/api/v1/objects/Product/bulk", json={"records": records}, token=token
    )
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["results"])


def create(tenant: TenantFixture, api_name: str, token: str | None = None, **values: Any) -> str:
    response = tenant.api("POST", f"/api/v1/objects/{api_name}/records", json=values, token=token)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def skus(app: Flask, tenant: TenantFixture) -> list[str]:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT data->>'Sku' FROM records WHERE deleted_at IS NULL "
                    "AND data ? 'Sku' ORDER BY 1"
                )
            ).scalars()
        )


def test_the_first_record_of_a_batch_keeps_a_value_and_a_refused_one_claims_none(
    tenant: TenantFixture,
) -> None:
    define(tenant)
    results = bulk(
        tenant,
        [
            {"Sku": "A", "Code": "1"},
            {"Sku": "A", "Code": "2"},  # Sku taken above: refused, so Code 2 stays free
            {"Sku": "B", "Code": "2"},
            {"Sku": "C", "Code": "1"},  # Code taken by the first
            {"Sku": "D", "Code": "4"},
            {"Sku": "D", "Code": "4"},  # both values repeat: both reported
        ],
    )
    assert [result["ok"] for result in results] == [True, False, True, False, True, False]
    assert results[1]["code"] == "duplicate_value" and list(results[1]["errors"]) == ["Sku"]
    assert list(results[3]["errors"]) == ["Code"]
    assert sorted(results[5]["errors"]) == ["Code", "Sku"]
    assert results[1]["errors"]["Sku"] == ["Another Product already has this value."]


def test_a_batch_is_checked_against_stored_records_and_lookups_first(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    create(tenant, "Product", Sku="A", Code="1")
    deleted = create(tenant, "Product", Sku="Gone")
    assert tenant.api("DELETE", f"/api/v1/objects/Product/records/{deleted}").status_code == 204
    supplier = create(tenant, "Supplier", Name="Old")
    assert tenant.api("DELETE", f"/api/v1/objects/Supplier/records/{supplier}").status_code == 204
    results = bulk(
        tenant,
        [
            {"Sku": "A"},  # a stored record holds it
            {"Sku": "Gone"},  # a deleted record frees its value
            {"Sku": "N", "Code": "1"},  # the stored record's other unique value
            {"Sku": "Z", "Supplier": supplier},  # a deleted target: refused for the lookup...
            {"Sku": "Z"},  # ...so its value is still free for this one
        ],
    )
    assert [result["ok"] for result in results] == [False, True, False, False, True]
    assert list(results[0]["errors"]) == ["Sku"] and list(results[2]["errors"]) == ["Code"]
    assert results[3]["errors"] == {"Supplier": [f"No Supplier record {supplier}."]}
    assert skus(app, tenant) == ["A", "Gone", "Z"]


def test_a_concurrent_batch_waits_for_the_first_and_then_refuses_its_values(
    app: Flask, tenant: TenantFixture, pg_engine: sa.engine.Engine
) -> None:
    """Two writers of the same value: the second waits on the first's locks until it
    commits, then finds the value taken. Exactly one record holds each value."""
    define(tenant)
    state = app.extensions["trellis"]
    second: list[Any] = []

    def create_many(connection: Any, items: list[dict[str, Any]]) -> list[Any]:
        schema = state.metadata_cache.get(connection, tenant.id)
        service = RecordService(connection, tenant.actor, schema, schema.object("Product"))
        return service.create_many(items)

    def later() -> None:
        with state.database.tenant(tenant.id) as connection:
            second.extend(create_many(connection, [{"Sku": "Y"}, {"Sku": "X"}, {"Sku": "W"}]))

    with state.database.tenant(tenant.id) as connection:
        first = create_many(connection, [{"Sku": "X"}, {"Sku": "Y"}])
        thread = threading.Thread(target=later)
        thread.start()
        wait_for(lambda: waiting_for_advisory_locks(pg_engine) > 0)
    thread.join()
    assert all(isinstance(result, dict) for result in first)
    assert [getattr(result, "code", "saved") for result in second] == [
        "duplicate_value",
        "duplicate_value",
        "saved",
    ]
    assert skus(app, tenant) == ["W", "X", "Y"]


def waiting_for_advisory_locks(engine: sa.engine.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            ).scalar_one()
        )


def test_concurrent_batches_of_the_same_values_in_any_order_neither_deadlock_nor_repeat(
    app: Flask, tenant: TenantFixture
) -> None:
    define(tenant)
    state = app.extensions["trellis"]
    values = [f"V{n}" for n in range(30)]
    saved: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        mine = random.Random(seed).sample(values, len(values))
        try:
            with state.database.tenant(tenant.id) as connection:
                schema = state.metadata_cache.get(connection, tenant.id)
                service = RecordService(connection, tenant.actor, schema, schema.object("Product"))
                results = service.create_many([{"Sku": value} for value in mine])
            with lock:
                saved.extend(r["Sku"] for r in results if isinstance(r, dict))
        except BaseException as error:  # noqa: BLE001 - a deadlock would land here
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(saved) == sorted(values)
    assert skus(app, tenant) == sorted(values)


def test_lookups_to_records_the_writer_may_not_read_are_refused_as_missing(
    tenant: TenantFixture,
) -> None:
    define(tenant)
    permission_set(tenant, "buyer", all_objects=EVERY_RIGHT)
    buyer = member(tenant, "buyer", permission_sets=["buyer"])
    hidden = create(tenant, "Supplier", Name="the administrator's")
    own = create(tenant, "Supplier", buyer.token, Name="the buyer's")
    results = bulk(
        tenant,
        [{"Sku": "1", "Supplier": own}, {"Sku": "2", "Supplier": hidden}, {"Sku": "3"}],
        buyer.token,
    )
    assert [result["ok"] for result in results] == [True, False, True]
    # Worded as for a record that does not exist: the refusal does not reveal it.
    assert results[1]["errors"] == {"Supplier": [f"No Supplier record {hidden}."]}
    # The administrator reads every supplier: the same batch is theirs to write.
    again = bulk(tenant, [{"Sku": "4", "Supplier": hidden}])
    assert again[0]["ok"], again


def test_a_batch_costs_the_same_statements_whatever_its_size(
    app: Flask, tenant: TenantFixture
) -> None:
    """Lookups, unique values, auto-numbers, history and events are checked and written
    per batch: ten times the records, not one statement more."""
    define(tenant)
    supplier = create(tenant, "Supplier", Name="S")
    state = app.extensions["trellis"]

    def statements(count: int, prefix: str) -> int:
        seen: list[str] = []
        with state.database.tenant(tenant.id) as connection:
            schema = state.metadata_cache.get(connection, tenant.id)
            service = RecordService(connection, tenant.actor, schema, schema.object("Product"))
            items = [
                {"Sku": f"{prefix}{n}", "Code": f"{prefix}{n}", "Supplier": supplier}
                for n in range(count)
            ]
            sa.event.listen(connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
            results = service.create_many(items)
        assert all(isinstance(result, dict) for result in results)
        return len(seen)

    assert statements(5, "a") == statements(50, "b")
