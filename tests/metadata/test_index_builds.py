"""Where a field's index is built: at once in the request while ``records`` is small, by
the worker, concurrently, where it is large (``index_plain_build_mb``)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from flask import Flask

THING = {
    "api_name": "Thing",
    "label": "Thing",
    "fields": [{"api_name": "Code", "type": "text"}, {"api_name": "Size", "type": "number"}],
}


@pytest.fixture()
def no_worker(make_app: Any, test_settings: dict[str, Any]) -> Any:
    """``no_worker(**settings)``: an app on a Redis namespace no worker listens on, so
    whatever the request leaves for the worker stays pending."""

    def factory(**overrides: Any) -> Flask:
        return make_app(
            redis_namespace=f"{test_settings['redis_namespace']}-no-worker", **overrides
        )

    return factory


def _listen(app: Flask, seen: list[str]) -> None:
    """Collect the CREATE INDEX statements the app's owner connections send."""

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("CREATE") and " INDEX " in statement:
            seen.append(statement)

    owner = app.extensions["trellis"].database.owner_engine
    sa.event.listen(owner, "before_cursor_execute", listen)


def _setup(app: Flask, tenant: TenantFixture) -> Any:
    client = app.test_client()
    assert (
        client.post("/api/v1/meta/objects", headers=tenant.headers(), json=THING).status_code == 201
    )
    return client


VALID_INDEXES = sa.text(
    "SELECT f.field, x.indisvalid FROM field_indexes f "
    "JOIN pg_class c ON c.relname = f.index_name "
    "JOIN pg_index x ON x.indexrelid = c.oid WHERE f.tenant_id = :t"
)


def _valid_indexes(app: Flask, tenant: TenantFixture) -> dict[str, bool]:
    """Whether each of the tenant's field indexes that exists is valid, by field."""
    with app.extensions["trellis"].database.owner() as connection:
        return dict(connection.execute(VALID_INDEXES, {"t": tenant.id}).all())


def _index_size(
    no_worker: Any, tenant: TenantFixture, plain_build_mb: float
) -> tuple[Flask, Any, list[str], Any]:
    """An app with that setting, the Thing object, and the answer to indexing its Size
    field; with the CREATE INDEX statements seen."""
    app = no_worker(index_plain_build_mb=plain_build_mb)
    seen: list[str] = []
    _listen(app, seen)
    client = _setup(app, tenant)
    response = client.patch(
        "/api/v1/meta/objects/Thing/fields/Size", headers=tenant.headers(), json={"indexed": True}
    )
    return app, client, seen, response


def test_a_small_table_has_the_index_ready_when_the_request_answers(
    no_worker: Any, tenant: TenantFixture
) -> None:
    app, client, seen, response = _index_size(no_worker, tenant, plain_build_mb=10_000)
    assert response.status_code == 200
    assert response.get_json()["index"] == {"status": "ready", "unique": False, "error": None}
    assert _valid_indexes(app, tenant) == {"Size": True}
    assert len(seen) == 1 and "CONCURRENTLY" not in seen[0], seen
    created = client.post(
        "/api/v1/objects/Thing/records", headers=tenant.headers(), json={"Size": 7}
    )
    assert created.status_code == 201
    page = client.get(
        "/api/v1/objects/Thing/records?Size__gte=5&sort=-Size", headers=tenant.headers()
    )
    assert [row["Size"] for row in page.get_json()["data"]] == [7]


def test_a_large_table_is_left_to_the_worker_which_builds_concurrently(
    no_worker: Any, tenant: TenantFixture
) -> None:
    from trellis.metadata.indexes import build_pending_indexes

    app, client, seen, response = _index_size(no_worker, tenant, plain_build_mb=0)
    assert response.get_json()["index"]["status"] == "building"
    assert seen == [] and _valid_indexes(app, tenant) == {}
    # What the worker's task runs, with the same setting.
    owner = app.extensions["trellis"].database.owner_engine
    assert list(build_pending_indexes(owner, tenant.id, 0).values()) == ["ready"]
    assert len(seen) == 1 and "CREATE INDEX CONCURRENTLY" in seen[0], seen
    field = client.get("/api/v1/meta/objects/Thing/fields/Size", headers=tenant.headers())
    assert field.get_json()["index"]["status"] == "ready"
    assert _valid_indexes(app, tenant) == {"Size": True}


def test_a_plain_build_that_would_wait_for_writes_is_left_to_the_worker(
    no_worker: Any, tenant: TenantFixture
) -> None:
    """A write in progress holds the table: the request does not queue every other write
    behind a waiting CREATE INDEX; it answers ``building`` and the worker builds the
    index concurrently (here after the write ends)."""
    from trellis.metadata.indexes import build_pending_indexes

    app = no_worker(index_plain_build_mb=10_000)
    seen: list[str] = []
    _listen(app, seen)
    client = _setup(app, tenant)
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as writing:
        writing.execute(
            sa.text(
                "INSERT INTO records (tenant_id, object_id, data) "
                "SELECT :t, id, '{\"Size\": 3}' FROM meta_objects WHERE api_name = 'Thing'"
            ),
            {"t": tenant.id},
        )
        response = client.patch(
            "/api/v1/meta/objects/Thing/fields/Size",
            headers=tenant.headers(),
            json={"indexed": True},
        )
        assert response.status_code == 200
        assert response.get_json()["index"]["status"] == "building"
    assert len(seen) == 1 and "CONCURRENTLY" not in seen[0]
    results = build_pending_indexes(database.owner_engine, tenant.id, 10_000)
    assert list(results.values()) == ["ready"]
    assert _valid_indexes(app, tenant) == {"Size": True}
    page = client.get("/api/v1/objects/Thing/records?sort=Size", headers=tenant.headers())
    assert [row["Size"] for row in page.get_json()["data"]] == [3]


def test_a_failing_plain_build_is_reported_in_the_answer(
    no_worker: Any, tenant: TenantFixture
) -> None:
    """A value too large for a B-tree entry makes the build fail: the answer says so with
    PostgreSQL's reason, nothing is left behind, and the records are untouched."""
    app = no_worker(index_plain_build_mb=10_000)
    client = _setup(app, tenant)
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        # Incompressible text, larger than a B-tree entry may be (about 2.7 kB).
        connection.execute(
            sa.text(
                "INSERT INTO records (tenant_id, object_id, data) SELECT :t, id, "
                "jsonb_build_object('Code', (SELECT string_agg(md5(g::text), '') "
                "FROM generate_series(1, 400) g)) FROM meta_objects WHERE api_name = 'Thing'"
            ),
            {"t": tenant.id},
        )
    response = client.patch(
        "/api/v1/meta/objects/Thing/fields/Code", headers=tenant.headers(), json={"indexed": True}
    )
    assert response.status_code == 200
    status = response.get_json()["index"]
    assert status["status"] == "failed" and "index row" in status["error"].lower(), status
    assert _valid_indexes(app, tenant) == {}, "a failed build left an index behind"
    rows = client.get("/api/v1/objects/Thing/records", headers=tenant.headers()).get_json()
    assert [len(row["Code"]) for row in rows["data"]] == [400 * 32]
