"""Field indexes are built concurrently by a real worker and used by list queries."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from factories import setup_sales
from flask import Flask
from helpers import assert_envelope


@pytest.fixture()
def worker_tenant(tenant: TenantFixture, worker_app: Flask, celery_worker: Any) -> TenantFixture:
    """The test tenant, acting through the app whose index builds a real worker runs."""
    return dataclasses.replace(tenant, app=worker_app)


def wait_for_indexes(tenant: TenantFixture, obj: str, timeout: float = 60) -> dict[str, dict]:
    """Index status by field once nothing is building any more (the worker is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        fields = tenant.api("GET", f"/api/v1/meta/objects/{obj}/fields").get_json()["data"]
        status = {f["api_name"]: f["index"] for f in fields if f.get("index")}
        if all(s["status"] != "building" for s in status.values()) or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_indexed_unique_and_lookup_fields_get_partial_indexes(
    app: Flask, worker_tenant: TenantFixture
) -> None:
    tenant = worker_tenant
    setup_sales(tenant)
    tenant.api("PATCH", "/api/v1/meta/objects/Account/fields/Name", json={"unique": True})
    opportunity = wait_for_indexes(tenant, "Opportunity")
    assert opportunity == {
        "Amount": {"status": "ready", "unique": False, "error": None},
        "Account": {"status": "ready", "unique": False, "error": None},
    }
    assert wait_for_indexes(tenant, "Account")["Name"]["status"] == "ready"
    with app.extensions["trellis"].database.owner() as connection:
        definitions = (
            connection.execute(
                sa.text(
                    "SELECT i.indexdef FROM pg_indexes i "
                    "JOIN field_indexes f ON f.index_name = i.indexname "
                    "WHERE f.tenant_id = :t"
                ),
                {"t": tenant.id},
            )
            .scalars()
            .all()
        )
        valid = connection.execute(
            sa.text(
                "SELECT bool_and(x.indisvalid) FROM pg_index x "
                "JOIN pg_class c ON c.oid = x.indexrelid "
                "JOIN field_indexes f ON f.index_name = c.relname WHERE f.tenant_id = :t"
            ),
            {"t": tenant.id},
        ).scalar()
    assert len(definitions) == 3 and valid
    assert all(f"tenant_id = '{tenant.id}'" in d for d in definitions)
    assert any("UNIQUE" in d and "(data ->> 'Name'::text)" in d for d in definitions)
    assert any("((data ->> 'Amount'::text))::numeric" in d for d in definitions)
    # The unique index itself refuses duplicates, even from code that skips the service.
    account = tenant.api("POST", "/api/v1/objects/Account/records", json={"Name": "Solo"})
    assert account.status_code == 201
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        object_id = connection.execute(
            sa.text("SELECT object_id FROM records WHERE id = :id"),
            {"id": account.get_json()["id"]},
        ).scalar()
    try:
        with app.extensions["trellis"].database.tenant(tenant.id) as connection:
            connection.execute(
                sa.text("INSERT INTO records (tenant_id, object_id, data) VALUES (:t, :o, :d)"),
                {"t": tenant.id, "o": object_id, "d": '{"Name": "Solo"}'},
            )
        raise AssertionError("duplicate accepted")
    except sa.exc.IntegrityError:
        pass


def test_filtered_sorted_pages_use_the_partial_index(
    app: Flask, worker_tenant: TenantFixture
) -> None:
    tenant = worker_tenant
    setup_sales(tenant)
    assert wait_for_indexes(tenant, "Opportunity")["Amount"]["status"] == "ready"
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        object_id = connection.execute(
            sa.text("SELECT id FROM meta_objects WHERE api_name = 'Opportunity'")
        ).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO records (tenant_id, object_id, data) SELECT :t, :o, "
                "jsonb_build_object('Name', 'n' || g, 'Amount', g) FROM generate_series(1, 3000) g"
            ),
            {"t": tenant.id, "o": object_id},
        )
    # As the table's owner: the app role may not analyze a table it does not own (it
    # would be skipped with a warning, and the plan would rest on stale statistics).
    with app.extensions["trellis"].database.owner() as connection:
        connection.execute(sa.text("ANALYZE records"))
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        plan = "\n".join(
            connection.execute(
                sa.text(
                    "EXPLAIN SELECT id FROM records WHERE tenant_id = :t AND object_id = :o "
                    "AND deleted_at IS NULL AND ((data->>'Amount')::numeric) >= 2500 "
                    "ORDER BY ((data->>'Amount')::numeric) DESC LIMIT 20"
                ),
                {"t": tenant.id, "o": object_id},
            ).scalars()
        )
    assert "Index" in plan and "rx_" in plan, plan
    # Under RLS the filter could only be applied row by row (jsonb ->> is not LEAKPROOF);
    # the list query's reader role lets it become an index condition.
    from trellis.db import index_friendly_reads

    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        with index_friendly_reads(connection):
            plan = "\n".join(
                connection.execute(
                    sa.text(
                        "EXPLAIN SELECT id FROM records WHERE tenant_id = :t AND object_id = :o "
                        "AND deleted_at IS NULL AND ((data->>'Amount')::numeric) >= 2500 "
                        "ORDER BY ((data->>'Amount')::numeric) DESC LIMIT 20"
                    ),
                    {"t": tenant.id, "o": object_id},
                ).scalars()
            )
        assert connection.execute(sa.text("SELECT current_user")).scalar() == "trellis_app"
    assert "Index Cond" in plan and "Amount" in plan.split("Index Cond")[1], plan
    page = tenant.api("GET", "/api/v1/objects/Opportunity/records?Amount__gte=2990&sort=-Amount")
    assert [row["Amount"] for row in page.get_json()["data"]] == list(range(3000, 2989, -1))


def test_a_failing_build_is_reported(make_app, test_settings, tenant: TenantFixture) -> None:
    """Duplicates that slip in before a unique index is built make the build fail visibly.

    The app uses a Redis namespace no worker listens on and builds nothing in the
    request (as on a large table), so the build runs here, concurrently, after the
    duplicates exist.
    """
    from trellis.metadata.indexes import build_pending_indexes

    # Under the session's namespace, whose keys are deleted when the tests end.
    app = make_app(
        redis_namespace=f"{test_settings['redis_namespace']}-no-worker", index_plain_build_mb=0
    )
    client = app.test_client()
    client.post(
        "/api/v1/meta/objects",
        headers=tenant.headers(),
        json={
            "api_name": "Thing",
            "label": "Thing",
            "fields": [{"api_name": "Code", "type": "text"}],
        },
    )
    client.patch(
        "/api/v1/meta/objects/Thing/fields/Code", headers=tenant.headers(), json={"unique": True}
    )
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        object_id = connection.execute(
            sa.text("SELECT id FROM meta_objects WHERE api_name = 'Thing'")
        ).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO records (tenant_id, object_id, data) VALUES "
                '(:t, :o, \'{"Code": "x"}\'), (:t, :o, \'{"Code": "x"}\')'
            ),
            {"t": tenant.id, "o": object_id},
        )
    results = build_pending_indexes(database.owner_engine, tenant.id)
    assert list(results.values()) == ["failed"]
    status = client.get(
        "/api/v1/meta/objects/Thing/fields/Code", headers=tenant.headers()
    ).get_json()["index"]
    assert status["status"] == "failed" and "duplicate" in status["error"].lower()
    with database.owner() as connection:
        leftovers = connection.execute(
            sa.text("SELECT count(*) FROM pg_class WHERE relname = ANY(:names)"),
            {"names": list(results)},
        ).scalar()
    assert leftovers == 0, "an invalid index was left behind"


def test_unindexable_types_are_refused(tenant: TenantFixture) -> None:
    response = tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Doc",
            "label": "Doc",
            "fields": [
                {
                    "api_name": "Tags",
                    "type": "multi_picklist",
                    "values": ["a", "b"],
                    "indexed": True,
                }
            ],
        },
    )
    assert "cannot be indexed" in str(assert_envelope(response, 422)["errors"])


def test_field_statistics_let_a_sorted_page_walk_the_sort_index(
    app: Flask, worker_tenant: TenantFixture
) -> None:
    """A filter on one indexed field matching a quarter of the rows, sorted by another: the
    planner must walk the sort field's index, which it only does once it knows (from the
    statistics the builder creates) that the filter is not selective."""
    tenant = worker_tenant
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Deal",
            "label": "Deal",
            "fields": [
                {"api_name": "Size", "type": "number", "indexed": True},
                {
                    "api_name": "Phase",
                    "type": "picklist",
                    "indexed": True,
                    "values": ["One", "Two", "Three", "Four"],
                },
            ],
        },
    )
    assert {s["status"] for s in wait_for_indexes(tenant, "Deal").values()} == {"ready"}
    # The worker computes the statistics once the indexes are ready.
    deadline = time.monotonic() + 60
    while True:
        with app.extensions["trellis"].database.owner() as connection:
            statistics = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_statistic_ext WHERE stxname LIKE 'rs_%' AND "
                    "(pg_get_statisticsobjdef(oid) LIKE '%Size%' OR "
                    "pg_get_statisticsobjdef(oid) LIKE '%Phase%')"
                )
            ).scalar_one()
        if statistics == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert statistics == 2
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        object_id = connection.execute(
            sa.text("SELECT id FROM meta_objects WHERE api_name = 'Deal'")
        ).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO records (tenant_id, object_id, data) "
                "SELECT :t, :o, jsonb_build_object("
                "'Size', g, 'Phase', (ARRAY['One','Two','Three','Four'])[1 + g % 4]) "
                "FROM generate_series(1, 20000) g"
            ),
            {"t": tenant.id, "o": object_id},
        )
    with app.extensions["trellis"].database.owner() as connection:
        connection.execute(sa.text("ANALYZE records"))
    from trellis.db import index_friendly_reads

    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        with index_friendly_reads(connection):
            plan = "\n".join(
                connection.execute(
                    sa.text(
                        f"EXPLAIN SELECT id FROM records WHERE tenant_id = '{tenant.id}' "
                        f"AND object_id = '{object_id}' AND deleted_at IS NULL "
                        "AND (data->>'Phase') = 'Two' AND ((data->>'Size')::numeric) >= 10 "
                        "ORDER BY ((data->>'Size')::numeric) DESC, id LIMIT 51"
                    )
                ).scalars()
            )
    assert "Index Scan Backward" in plan and "Bitmap" not in plan, plan
    page = tenant.api(
        "GET", "/api/v1/objects/Deal/records?Phase=Two&Size__gte=10&sort=-Size&limit=3"
    )
    assert [row["Size"] for row in page.get_json()["data"]] == [19997, 19993, 19989]
