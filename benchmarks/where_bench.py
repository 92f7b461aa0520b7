"""List pages filtered by a ``where=`` formula vs the equivalent plain field filter.

Run: ``python benchmarks/where_bench.py [--records 1000000] [--iterations 300] [--keep]``.
It needs PostgreSQL (user ``postgres``, trust) and Redis on 127.0.0.1, like the tests.

What it does, all in one run, through Trellis itself:

1. creates a scratch database ``trellis_where_bench`` (dropped first), builds a
   Trellis app on it and applies the migrations; creates a tenant, an admin user
   and an API token (as ``tests/conftest.py`` ``new_tenant`` does); creates the
   Opportunity object through the metadata API (Name text, Amount currency
   indexed, Stage picklist indexed, CloseDate date); bulk-loads N records with
   one ``INSERT ... SELECT ... generate_series``; builds the field indexes with
   ``build_pending_indexes``; ``VACUUM ANALYZE``;
2. checks that the list requests return the same page, and captures the SQL
   each one sends (SQLAlchemy ``before_cursor_execute``);
3. times the requests through the Flask test client, alternating them so that
   they see the same machine load, and prints p50/p95 per request;
4. prints the ``EXPLAIN (ANALYZE)`` execution time of each captured query as
   the app runs it (tenant scope, inside ``trellis.db.index_friendly_reads``:
   the RLS-bypassing reader role where it exists), and for reference as the
   plain application role, under row-level security, with the index conditions
   and filters of each plan;
5. drops the database unless ``--keep``.

The requests:

* ``where``: ``?where=AND(ISPICKVAL(Stage,"Negotiation"), Amount >= 5000)``, as
  the app serves it (``records/filters.py`` compiles the formula with
  ``CompiledFormula.to_sql_condition``: a bare condition, no COALESCE);
* ``plain``: ``?Stage=Negotiation&Amount__gte=5000``.

``records/query.py`` builds one statement per request shape (filters and operators,
a ``where=`` formula's source text, sort, projection, limit) and caches it per
metadata revision, with the filter values as bind parameters; so after the warm-up
call every timed request reuses the cached statement, and what is timed is the
steady state, not the statement build.

Nothing is asserted: it prints measured numbers and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import uuid
from typing import Any

import api_bench  # a sibling script: benchmarks/ is on sys.path when run as a script

DATABASE = "trellis_where_bench"
# The same object as the API benchmark, so figures from both describe the same data.
OBJECT = api_bench.OBJECT
PAGE = "/api/v1/objects/Opportunity/records"
WHERE_QUERY = {
    "where": 'AND(ISPICKVAL(Stage,"Negotiation"), Amount >= 5000)',
    "sort": "-Amount",
    "limit": "50",
}
PLAIN_QUERY = {"Stage": "Negotiation", "Amount__gte": "5000", "sort": "-Amount", "limit": "50"}

# Log-uniform amounts from 1 to 500,000 (about a third >= 5,000; 3 % blank), a skewed
# stage mix, close dates over three years. Blank values are left out of ``data``, as
# Trellis stores them.
LOAD_SQL = """
INSERT INTO records (tenant_id, object_id, data, owner_id, created_by, updated_by)
SELECT CAST(:tenant AS uuid), CAST(:object AS uuid),
       jsonb_strip_nulls(jsonb_build_object(
         'Name', 'Deal ' || g,
         'Amount', CASE WHEN r1 < 0.03 THEN NULL
                        ELSE round(CAST(exp(r2 * ln(500000)) AS numeric), 2)::float8 END,
         'Stage', CASE WHEN r3 < 0.40 THEN 'Prospecting' WHEN r3 < 0.65 THEN 'Negotiation'
                       WHEN r3 < 0.80 THEN 'Closed Won' ELSE 'Closed Lost' END,
         'CloseDate', to_char(DATE '2024-01-01' + CAST(r4 * 1095 AS int), 'YYYY-MM-DD'))),
       CAST(:user AS uuid), CAST(:user AS uuid), CAST(:user AS uuid)
FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4
      FROM generate_series(1, :count) AS g) AS generated
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--iterations", type=int, default=300, help="timed requests per variant (after --warmup)"
    )
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--explain-runs", type=int, default=7)
    add_scratch_arguments(parser)
    return parser.parse_args()


# -- the scratch database every in-process benchmark runs on ------------------------------
def add_scratch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--server-url``, ``--redis-url`` and ``--keep``, as every benchmark here takes them."""
    parser.add_argument(
        "--server-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="an existing database on the server, to create the scratch one from",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")


def scratch_app(args: argparse.Namespace, database: str, namespace: str) -> Any:
    """The app on a new scratch database (dropped first), or with ``--reuse`` on the one
    a ``--keep`` run left (which ``--reuse`` then keeps too)."""
    import sqlalchemy as sa

    args.keep = args.keep or getattr(args, "reuse", False)
    if not getattr(args, "reuse", False):
        admin_execute(args.server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin_execute(args.server_url, f'CREATE DATABASE "{database}"')
    url = sa.make_url(args.server_url).set(database=database).render_as_string(hide_password=False)
    return create_app(url, args.redis_url, namespace)


def clean_up(app: Any, args: argparse.Namespace, database: str) -> None:
    """Close the app's connections, delete its Redis keys and drop its scratch database
    (kept with ``--keep``)."""
    state = app.extensions["trellis"]
    state.database.dispose()
    namespace = state.config.redis_namespace
    for key in state.redis.scan_iter(f"{namespace}*"):
        state.redis.delete(key)
    if args.keep:
        print(f"kept database {database}")
    else:
        admin_execute(args.server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def step(message: str, started: float) -> None:
    print(f"setup: {message} in {time.perf_counter() - started:.1f} s", flush=True)


# -- setup ------------------------------------------------------------------------------
def admin_execute(server_url: str, statement: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(statement))
    admin.dispose()


def create_app(database_url: str, redis_url: str, name: str = "where-bench") -> Any:
    from trellis.config import load_config
    from trellis.runtime.app import create_app as trellis_app

    # A Redis namespace of its own: no worker listens on it, so the index builds (and
    # share recomputations) the API enqueues wait for the script to run them.
    return trellis_app(
        load_config(
            {
                "database_url": database_url,
                "redis_url": redis_url,
                "redis_namespace": f"{name}-{uuid.uuid4().hex[:8]}",
                "instance_path": f"/tmp/{name}",
                "log_level": "WARNING",
                # A budget no run spends (each request is still counted in Redis).
                "api_rate_limit": 1_000_000_000,
            },
            environ={},
        )
    )


def setup(app: Any, records: int) -> tuple[uuid.UUID, str]:
    """Migrate, create tenant/admin/token and the object, load rows, build indexes."""
    import sqlalchemy as sa

    from trellis.actor import system_actor
    from trellis.identity.tenants import create_tenant
    from trellis.identity.tokens import create_token
    from trellis.identity.users import create_user
    from trellis.metadata.indexes import build_pending_indexes
    from trellis.runtime.migrate import upgrade

    database = app.extensions["trellis"].database
    started = time.perf_counter()
    upgrade(database)
    slug = f"wb-{uuid.uuid4().hex[:12]}"
    with database.owner() as connection:
        tenant = create_tenant(connection, slug, f"Tenant {slug}")
    actor = system_actor(tenant.id, slug)
    with database.tenant(tenant.id) as connection:
        user = create_user(
            connection,
            actor,
            email=f"admin@{slug}.test",
            password="correct horse battery",
            display_name="Admin",
            roles=["admin"],
        )
        token, _ = create_token(connection, actor, user_id=user.id, name="where-bench")
    response = app.test_client().post(
        "/api/v1/meta/objects", json=OBJECT, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 201:
        raise SystemExit(f"creating the object failed: {response.get_data(as_text=True)}")
    with database.owner() as connection:
        object_id = connection.execute(
            sa.text(
                "SELECT id FROM meta_objects WHERE tenant_id = :t AND api_name = 'Opportunity'"
            ),
            {"t": tenant.id},
        ).scalar_one()
    print(
        f"setup: migrated; tenant, admin, token and Opportunity (metadata API) created in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    started = time.perf_counter()
    with database.owner() as connection:
        connection.execute(
            sa.text(LOAD_SQL),
            {
                "tenant": str(tenant.id),
                "object": str(object_id),
                "user": str(user.id),
                "count": records,
            },
        )
    print(
        f"setup: loaded {records:,} records with one INSERT ... SELECT generate_series in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    started = time.perf_counter()
    built = build_pending_indexes(database.owner_engine, tenant.id)
    if sorted(built.values()) != ["ready", "ready"]:
        raise SystemExit(f"index build failed: {built}")
    with database.owner_engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(sa.text("VACUUM ANALYZE records"))
    print(
        f"setup: build_pending_indexes built {len(built)} indexes (Amount, Stage) and "
        f"VACUUM ANALYZE ran in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return tenant.id, token


# -- measuring --------------------------------------------------------------------------
def capture_page_sql(app: Any, call: Any) -> tuple[Any, tuple[str, Any]]:
    """Run ``call`` once and return its response and the page query it sent."""
    import sqlalchemy as sa

    engine = app.extensions["trellis"].database.engine
    seen: list[tuple[str, Any]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        response = call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    page = [item for item in seen if "FROM records" in item[0] and "ORDER BY" in item[0]]
    if len(page) != 1:
        raise SystemExit(f"expected one page query, saw {len(page)}")
    return response, page[0]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def time_requests(calls: dict[str, Any], iterations: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per request, the variants alternating so they share the machine's load."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for round_number in range(warmup + iterations):
        for name, call in calls.items():
            started = time.perf_counter()
            response = call()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
            if round_number >= warmup:
                timings[name].append(elapsed)
    return timings


def explain(
    app: Any,
    tenant_id: uuid.UUID,
    query: tuple[str, Any],
    runs: int,
    under_rls: bool = False,
    options: str = "ANALYZE",
) -> tuple[list[float], list[str]]:
    """Execution times of ``EXPLAIN (ANALYZE)`` in the tenant scope, and the last plan:
    as the app runs list queries (``index_friendly_reads``, where this Trellis has it),
    or ``under_rls`` as the plain application role."""
    from trellis import db

    reads = getattr(db, "index_friendly_reads", None)
    database = app.extensions["trellis"].database
    statement, parameters = query
    times, plan = [], []
    for _ in range(runs):
        with database.tenant(tenant_id) as connection:
            scope = contextlib.nullcontext() if under_rls or reads is None else reads(connection)
            with scope:
                plan = [
                    row[0]
                    for row in connection.exec_driver_sql(
                        f"EXPLAIN ({options}) " + statement, parameters
                    )
                ]
        times.extend(float(line.split()[2]) for line in plan if line.startswith("Execution Time"))
    return times, plan


def where_clause(statement: str) -> str:
    """The WHERE part of a page query, on one line."""
    text = " ".join(statement.split())
    start = text.find(" WHERE ")
    end = text.find(" ORDER BY ", start)
    return text[start + 1 : end] if start >= 0 else text


def plan_outline(plan: list[str]) -> list[str]:
    """The nodes, index conditions and filters of a plan, without costs."""
    keep = (
        "->",
        "Limit",
        "Index Cond",
        "Filter",
        "Rows Removed",
        "Seq Scan",
        "Index Scan",
        "Bitmap",
        "Sort",
    )
    return [line.strip().split("  (cost=")[0] for line in plan if line.strip().startswith(keep)]


def report(
    timings: dict[str, list[float]],
    explained: dict[tuple[str, bool], Any],
    queries: dict[str, tuple[str, Any]],
    args: argparse.Namespace,
) -> None:
    print()
    print(
        f"List page at {args.records:,} records, {args.iterations} requests per variant "
        "through the Flask test client (variants alternating):"
    )
    for name, samples in timings.items():
        print(
            f"  {name:7} p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 0.95):7.2f} ms   mean {statistics.fmean(samples):7.2f} ms"
        )
    plain_p50 = statistics.median(timings["plain"])
    plain_p95 = percentile(timings["plain"], 0.95)
    print(
        f"  where/plain: p50 {statistics.median(timings['where']) / plain_p50:.2f}x, "
        f"p95 {percentile(timings['where'], 0.95) / plain_p95:.2f}x"
    )
    print()
    print(
        f"EXPLAIN (ANALYZE) execution time of the captured page queries "
        f"({args.explain_runs} runs each; median, min-max):"
    )
    for under_rls in (False, True):
        print(
            "  as the plain app role, under row-level security (reference):"
            if under_rls
            else "  as the app runs the page query:"
        )
        for name in queries:
            times, _ = explained[(name, under_rls)]
            print(
                f"    {name:7} {statistics.median(times):8.3f} ms "
                f"({min(times):.3f}-{max(times):.3f})"
            )
    for name, (statement, _) in queries.items():
        print()
        print(f"  {name} SQL: {where_clause(statement)}")
        for under_rls in (False, True):
            print(f"    plan {'under RLS' if under_rls else 'as the app runs it'}:")
            for line in plan_outline(explained[(name, under_rls)][1]):
                print(f"      {line}")


def main() -> None:
    args = parse_args()
    import sqlalchemy as sa

    admin_execute(args.server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin_execute(args.server_url, f'CREATE DATABASE "{DATABASE}"')
    database_url = (
        sa.make_url(args.server_url).set(database=DATABASE).render_as_string(hide_password=False)
    )
    app = create_app(database_url, args.redis_url)
    try:
        tenant_id, token = setup(app, args.records)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        calls = {
            "where": lambda: client.get(PAGE, query_string=WHERE_QUERY, headers=headers),
            "plain": lambda: client.get(PAGE, query_string=PLAIN_QUERY, headers=headers),
        }
        queries, pages = {}, {}
        for name, call in calls.items():
            call()  # warm the metadata, formula, statement and token caches
            response, queries[name] = capture_page_sql(app, call)
            pages[name] = response.get_json()["data"]
        if pages["where"] != pages["plain"]:
            raise SystemExit("the where= page and the plain filter page differ")
        print(f"check: both requests return the same {len(pages['plain'])} records")
        timings = time_requests(calls, args.iterations, args.warmup)
        explained = {
            (name, under_rls): explain(app, tenant_id, query, args.explain_runs, under_rls)
            for under_rls in (False, True)
            for name, query in queries.items()
        }
        report(timings, explained, queries, args)
    finally:
        clean_up(app, args, DATABASE)


if __name__ == "__main__":
    main()
