"""Generated records API benchmark: Trellis vs a hand-written Flask + psycopg endpoint.

Run: ``python benchmarks/api_bench.py [--records 100000] [--seconds 10] [--concurrency 8]``
(``--help`` lists the rest). It needs PostgreSQL (user ``postgres``, trust) and
Redis on 127.0.0.1, like the tests, and ``wrk`` (``apt-get install -y wrk``); without
wrk it falls back to a Python keep-alive client and says so.

What it does, all in one run:

1. creates a fresh database ``trellis_bench`` (dropped first), applies the Trellis
   migrations, creates a tenant, an admin user and an API token, creates the
   Opportunity object through ``MetadataService``, builds its field indexes with
   ``build_pending_indexes`` and bulk-loads N records with one
   ``INSERT … SELECT … generate_series`` (then ``VACUUM ANALYZE``);
2. records in-process which SQL Trellis issues per request, and runs
   ``EXPLAIN (ANALYZE, BUFFERS)`` of the list page query as the app role;
3. serves Trellis and ``benchmarks/baseline_app.py`` as real HTTP servers in two
   subprocesses (served alike: waitress, or ``--processes`` gunicorn workers; same
   thread count, same pool size) and checks that both
   answer the same requests with the same data;
4. measures, one server at a time and alternating (baseline, Trellis, baseline,
   Trellis …), GET by id, the filtered sorted list page, create and bulk create;
5. prints one table (best run per side; every run is listed too) and drops the
   database unless ``--keep``.

Nothing is asserted: it prints measured numbers, ratios and the targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import decimal
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATABASE = "trellis_bench"
OBJECT = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "plural_label": "Opportunities",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "Amount", "type": "currency", "indexed": True},
        {
            "api_name": "Stage",
            "type": "picklist",
            "indexed": True,
            "values": ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"],
        },
        {"api_name": "CloseDate", "type": "date"},
    ],
}
STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
BASE = "/api/v1/objects/Opportunity"
LIST_PATH = f"{BASE}/records?Stage=Negotiation&Amount__gte=5000&sort=-Amount&limit=50"
BULK_SIZE = 200
ID_SAMPLE = 20_000
TARGET_RATIO = 0.70
TARGET_LIST_P95_MS, TARGET_LIST_AT = 20.0, 1_000_000
# "A popular Node-based data platform with generated APIs", on this 2-core machine (req/s).
REFERENCE = {"get": 600, "list": 490, "create": 370}
OPERATIONS = ("get", "list", "create", "bulk")
LABELS = {
    "get": "GET record by id",
    "list": "filtered sorted page (50)",
    "create": "create (POST)",
    "bulk": f"bulk create ({BULK_SIZE}/request)",
}

# Realistic-looking data: log-uniform amounts from 1 to 500,000 (about a third >= 5,000,
# 3 % blank), a skewed stage mix, close dates over three years, creation over three years.
# Blank values are left out of ``data``, as Trellis stores them.
LOAD_SQL = """
INSERT INTO records (tenant_id, id, object_id, data, owner_id, created_at, created_by,
                     updated_at, updated_by)
SELECT CAST(:tenant AS uuid), id, CAST(:object AS uuid),
       jsonb_strip_nulls(jsonb_build_object(
         'Name', (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne',
                        'Wonka', 'Tyrell', 'Cyberdyne'])[1 + g % 10] || ' deal ' || g,
         'Amount', CASE WHEN r1 < 0.03 THEN NULL
                        ELSE round(CAST(exp(r2 * ln(500000)) AS numeric), 2)::float8 END,
         'Stage', CASE WHEN r3 < 0.40 THEN 'Prospecting' WHEN r3 < 0.65 THEN 'Negotiation'
                       WHEN r3 < 0.80 THEN 'Closed Won' ELSE 'Closed Lost' END,
         'CloseDate', to_char(DATE '2024-01-01' + CAST(r4 * 1095 AS int), 'YYYY-MM-DD'))),
       CAST(:user AS uuid), created, CAST(:user AS uuid), created, CAST(:user AS uuid)
FROM (SELECT g, gen_random_uuid() AS id, random() AS r1, random() AS r2, random() AS r3,
             random() AS r4, now() - random() * interval '1095 days' AS created
      FROM generate_series(1, :count) AS g
      ORDER BY id) AS generated  -- primary-key order: about 20 % faster than random order
"""

# wrk script: per-thread request generation (ids or bodies read from a file) and a
# machine-readable summary. Non-2xx/3xx answers are counted in errors.status.
WRK_LUA = r"""
local mode = os.getenv("BENCH_MODE")
local path = os.getenv("BENCH_PATH")
local file = os.getenv("BENCH_FILE")
local token = os.getenv("BENCH_TOKEN")
local lines = {}
local counter = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

function init(args)
  math.randomseed(os.time() + 7919 * (thread_id or 0))
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do lines[#lines + 1] = line end
  end
  counter = math.random(math.max(#lines, 1))
  wrk.headers["Authorization"] = "Bearer " .. token
  if mode == "create" or mode == "bulk" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if mode == "get" then
    return wrk.format("GET", path .. lines[math.random(#lines)])
  elseif mode == "list" then
    return wrk.format("GET", path)
  end
  counter = counter % #lines + 1
  return wrk.format("POST", path, nil, lines[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclasses.dataclass
class Fixture:
    url: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    token: str
    object_id: uuid.UUID


# -- setup ---------------------------------------------------------------------------------
def trellis_settings(
    url: str, redis_url: str, namespace: str, instance: str, pool_size: int
) -> dict[str, Any]:
    # A Redis namespace of this run's own: Trellis queues a Celery message per record write
    # and no worker consumes them here; they are deleted at the end.
    return {
        "database_url": url,
        "redis_url": redis_url,
        "redis_namespace": namespace,
        "instance_path": instance,
        "secret_key": "api-bench",
        "log_level": "WARNING",
        "log_json": False,
        "secure_cookies": False,
        "db_pool_size": pool_size,
        # A budget no run spends: the benchmarks drive thousands of requests a minute
        # through one token. Each request is still counted in Redis, as in production.
        "api_rate_limit": 1_000_000_000,
    }


def create_database(server_url: str, name: str = DATABASE) -> str:
    """A fresh database ``name`` (dropped first); returns its URL."""
    import sqlalchemy as sa

    drop_database(server_url, name)
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str = DATABASE) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench_tenant(database: Any, token_name: str) -> tuple[Any, Any, Any, str]:
    """Migrate; create the ``bench`` tenant, its admin and an API token.

    Returns the tenant, the system actor, the admin user and the token."""
    from trellis.actor import system_actor
    from trellis.identity.tenants import create_tenant
    from trellis.identity.tokens import create_token
    from trellis.identity.users import create_user
    from trellis.runtime.migrate import upgrade

    upgrade(database)
    with database.owner() as connection:
        tenant = create_tenant(connection, "bench", "Benchmark Inc.")
    actor = system_actor(tenant.id, tenant.slug)
    with database.tenant(tenant.id) as connection:
        user = create_user(
            connection,
            actor,
            email="admin@bench.test",
            password="correct horse battery",
            display_name="Admin",
            roles=["admin"],
        )
        token, _ = create_token(connection, actor, user_id=user.id, name=token_name)
    return tenant, actor, user, token


def setup(app: Any, url: str, records: int, index_first: bool) -> Fixture:
    """Migrate, create tenant/admin/token/object, load ``records`` rows, build the indexes.

    By default the field indexes are built after the load, as the background builder does
    when a field of an object with data becomes indexed (1M rows load in ~25 s instead of
    ~75 s with four B-trees maintained row by row); ``index_first`` builds them first.
    """
    import sqlalchemy as sa

    from trellis.metadata.indexes import build_pending_indexes
    from trellis.metadata.service import MetadataService

    state = app.extensions["trellis"]
    database = state.database
    started = time.perf_counter()
    tenant, actor, user, token = bench_tenant(database, "api-bench")
    with database.tenant(tenant.id) as connection:
        obj = MetadataService(connection, actor, state.metadata_cache).create_object(OBJECT)
    print(
        f"setup: migrated; tenant, admin, token and Opportunity created "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    def build_indexes() -> None:
        started = time.perf_counter()
        built = build_pending_indexes(database.owner_engine, tenant.id)
        if sorted(built.values()) != ["ready", "ready"]:
            raise SystemExit(f"index build failed: {built}")
        print(
            f"setup: build_pending_indexes built {len(built)} field indexes (Amount, Stage) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )

    if index_first:
        build_indexes()
    started = time.perf_counter()
    with database.owner() as connection:
        # Every row references the one object just created: skip the per-row FK trigger.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text("SET LOCAL work_mem = '256MB'"))  # sort ids in memory
        connection.execute(
            sa.text(LOAD_SQL),
            {
                "tenant": str(tenant.id),
                "object": str(obj.id),
                "user": str(user.id),
                "count": records,
            },
        )
    loaded = time.perf_counter() - started
    print(
        f"setup: loaded {records:,} records with one INSERT ... SELECT generate_series in "
        f"{loaded:.1f} s ({records / loaded:,.0f} rows/s)",
        flush=True,
    )
    if not index_first:
        build_indexes()
    started = time.perf_counter()
    with database.owner_engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(sa.text("VACUUM ANALYZE records"))
    print(f"setup: VACUUM ANALYZE records {time.perf_counter() - started:.1f} s", flush=True)
    return Fixture(url=url, tenant_id=tenant.id, user_id=user.id, token=token, object_id=obj.id)


# -- what Trellis sends to PostgreSQL --------------------------------------------------------
def probe_trellis_sql(app: Any, fixture: Fixture, record_id: str) -> tuple[dict[str, str], Any]:
    """Run each operation once in-process and count Trellis's database round trips.

    Returns a description per operation and the (statement, parameters) of the list query.
    """
    import sqlalchemy as sa

    engine = app.extensions["trellis"].database.engine
    events: list[tuple[str, Any]] = []
    pipelined: set[int] = set()  # indexes in events of statements sent in a pipeline

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if cursor.connection.pgconn.pipeline_status:
            pipelined.add(len(events))
        events.append((statement, parameters))

    # Record writes also ask a worker to dispatch their events: through a background
    # thread that sends at most one Redis message per 50 ms per process (trellis.outbox.nudges),
    # so no request waits for Redis and none is counted here.
    listeners = [
        ("before_cursor_execute", on_execute),
        ("begin", lambda *_: events.append(("<BEGIN>", None))),
        ("commit", lambda *_: events.append(("<COMMIT>", None))),
    ]
    headers = {"Authorization": f"Bearer {fixture.token}"}
    client = app.test_client()
    calls: dict[str, Callable[[], Any]] = {
        "get": lambda: client.get(f"{BASE}/records/{record_id}", headers=headers),
        "list": lambda: client.get(LIST_PATH, headers=headers),
        "create": lambda: client.post(
            f"{BASE}/records",
            headers=headers,
            json={"Name": "probe", "Amount": 10, "Stage": "Prospecting", "CloseDate": "2025-01-01"},
        ),
        "bulk": lambda: client.post(
            f"{BASE}/bulk",
            headers=headers,
            json={"records": [{"Name": "probe", "Amount": 11, "Stage": "Prospecting"}] * 2},
        ),
    }
    descriptions, list_sql = {}, None
    for operation, call in calls.items():
        call()  # warm caches (metadata, token last_used_at)
        for target, listener in listeners:
            sa.event.listen(engine, target, listener)
        events.clear()
        pipelined.clear()
        try:
            response = call()
        finally:
            for target, listener in listeners:
                sa.event.remove(engine, target, listener)
        if response.status_code >= 300:
            raise SystemExit(
                f"probe {operation}: HTTP {response.status_code} "
                f"{response.get_data(as_text=True)[:300]}"
            )
        names = [_statement_name(statement) for statement, _ in events]
        if operation == "list":
            list_sql = next(
                (statement, parameters)
                for statement, parameters in events
                if _statement_name(statement) == "page SELECT"
            )
        transactions = names.count("<BEGIN>")
        statements = len(names) - 2 * transactions
        # A run of statements sent as one pipeline is one round trip.
        trips = len(names) - sum(1 for i in pipelined if i - 1 in pipelined)
        shown = [
            ("| " if i in pipelined and i - 1 not in pipelined else "")
            + name
            + (" |" if i in pipelined and i + 1 not in pipelined else "")
            for i, name in enumerate(names)
            if name not in {"<BEGIN>", "<COMMIT>"}
        ]
        per_record = " (2 records)" if operation == "bulk" else ""
        descriptions[operation] = (
            f"{trips} database round trips{per_record}: "
            f"{transactions} transactions, {statements} statements"
            + (" (| … |: one pipeline)" if pipelined else "")
            + ": "
            + ", ".join(shown)
        )
    return descriptions, list_sql


def _statement_name(statement: str) -> str:
    if statement.startswith("<"):
        return statement
    text = " ".join(statement.split())
    for pattern, name in (
        (r"set_config", "set_config"),
        (r"FROM api_tokens", "token lookup"),
        (r"FROM metadata_revisions", "metadata revision"),
        (r"^SELECT users\.id", "owner check"),
        (r"^WITH .*INSERT INTO records", "INSERT records+history+events"),
        (r"^WITH .*INSERT INTO record_history", "INSERT history+event"),
        (r"^INSERT INTO records", "INSERT records"),
        (r"^INSERT INTO record_history", "INSERT history"),
        (r"^INSERT INTO events", "INSERT event"),
        (r"^SAVEPOINT", "SAVEPOINT"),
        (r"^RELEASE", "RELEASE"),
        (r"FROM records .*ORDER BY", "page SELECT"),
        (r"FROM records", "record SELECT"),
    ):
        if re.search(pattern, text):
            return name
    return text[:40]


def explain_list(fixture: Fixture, trellis_sql: tuple[str, Any], repeat: int = 7) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the list query: Trellis's statement and the baseline's,
    as the app role inside the tenant scope (what both servers run), and Trellis's statement
    once more as the table owner, whom row-level security does not apply to, for reference."""
    import psycopg

    baseline_app = _baseline_module()
    statement, parameters = trellis_sql
    cases = {
        "Trellis": (statement, parameters, True),
        "baseline": (
            baseline_app.LIST,
            (fixture.tenant_id, fixture.object_id, "Negotiation", decimal.Decimal("5000"), 51),
            True,
        ),
        "owner": (statement, parameters, False),
    }
    lines: list[str] = []
    plans = {}
    for side, (sql, params, as_app) in cases.items():
        with psycopg.connect(
            baseline_app.conninfo_from_url(fixture.url), autocommit=True
        ) as connection:
            if as_app:
                connection.execute('SET ROLE "trellis_app"')
            planning, execution = [], []
            for _ in range(repeat):
                with connection.transaction():
                    connection.execute(
                        "SELECT set_config('trellis.tenant_id', %s, true)",
                        (str(fixture.tenant_id),),
                    )
                    plan = [
                        row[0]
                        for row in connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    ]
                for line in plan:
                    if line.startswith("Planning Time"):
                        planning.append(float(line.split()[2]))
                    if line.startswith("Execution Time"):
                        execution.append(float(line.split()[2]))
        plans[side] = plan
        label = {
            "Trellis": "Trellis SQL as trellis_app (RLS applies)",
            "baseline": "baseline SQL as trellis_app (RLS applies)",
            "owner": "Trellis SQL as table owner (RLS bypassed), reference only",
        }[side]
        lines.append(
            f"  {label:58} execution median {statistics.median(execution):8.3f} ms "
            f"(min {min(execution):.3f}), planning {statistics.median(planning):.3f} ms"
        )
    shapes = {
        side: [
            re.sub(r"\s*\(cost=.*", "", line)
            for line in plan
            if "->" in line or line.lstrip().startswith(("Limit", "Index", "Sort"))
        ]
        for side, plan in plans.items()
    }
    lines.append(
        "  Trellis and baseline plans: "
        + ("the same shape" if shapes["Trellis"] == shapes["baseline"] else "DIFFERENT (see below)")
    )
    for side in ("Trellis", "owner"):
        conditions = [
            line.strip()
            for line in plans[side]
            if line.strip().startswith(("Index Cond", "Filter", "Rows Removed"))
        ]
        lines.append(f"  {side} conditions: " + " | ".join(conditions))
    lines.append("  Trellis plan (last run):")
    lines.extend("    " + line for line in plans["Trellis"])
    if shapes["Trellis"] != shapes["baseline"]:
        lines.append("  baseline plan (last run):")
        lines.extend("    " + line for line in plans["baseline"])
    return lines


def _baseline_module() -> Any:
    sys.path.insert(0, str(HERE))
    import baseline_app

    return baseline_app


# -- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, name: str, command: list[str], port: int, log_dir: Path) -> None:
        self.name, self.port = name, port
        self.application_name = f"api-bench-{name}"  # tells its PostgreSQL backends apart
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(HERE.parent)
        )
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise SystemExit(
            f"{self.name} server did not start:\n"
            f"{self.log_path.read_text(errors='replace')[-3000:]}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def serve_trellis(args: argparse.Namespace) -> None:
    """Subprocess entry point: the Trellis app as ``trellis serve`` runs it."""
    from trellis.config import load_config
    from trellis.runtime.app import create_app
    from trellis.runtime.server import serve

    serve(
        lambda: create_app(
            load_config(
                trellis_settings(
                    args.database_url,
                    args.redis_url,
                    args.redis_namespace,
                    args.instance,
                    args.pool_size,
                ),
                environ={},
            )
        ),
        host="127.0.0.1",
        port=args.port,
        threads=args.threads,
        processes=args.processes,
        quiet=True,
    )


# -- HTTP helpers ----------------------------------------------------------------------------
def http(method: str, url: str, token: str, body: Any = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def verify(servers: dict[str, Server], fixture: Fixture, record_id: str) -> list[str]:
    """Both servers must give the same answers for their speed to be comparable.

    Returns notes; a difference is reported as a ``WARNING`` note (Trellis changes under
    this benchmark, so the baseline may need to follow), an error answer stops the run.
    """
    notes = []
    bodies = {}
    for path, what in ((f"{BASE}/records/{record_id}", "GET by id"), (LIST_PATH, "list page")):
        for side, server in servers.items():
            status, bodies[side] = http("GET", server.base + path, fixture.token)
            if status != 200:
                raise SystemExit(f"{side} {what}: HTTP {status} {bodies[side][:300]!r}")
        rows = len(json.loads(bodies["trellis"]).get("data", [None]))
        detail = f"{len(bodies['trellis']):,} bytes" + (
            f", {rows} records" if what == "list page" else ""
        )
        if bodies["trellis"] == bodies["baseline"]:
            notes.append(f"{what}: identical bodies ({detail})")
        else:
            notes.append(
                f"WARNING {what}: the bodies differ (Trellis {detail}):\n"
                f"    trellis  {bodies['trellis'][:300]!r}\n"
                f"    baseline {bodies['baseline'][:300]!r}"
            )
    volatile = {"id", "created_at", "updated_at"}
    created: dict[str, Any] = {}
    sample = {"Name": "verify", "Amount": 12.5, "Stage": "prospecting", "CloseDate": "2025-03-04"}
    for side, server in servers.items():
        status, body = http("POST", server.base + f"{BASE}/records", fixture.token, sample)
        if status != 201:
            raise SystemExit(f"{side} create: HTTP {status} {body[:300]!r}")
        created[side] = json.loads(body)
        status, body = http(
            "POST",
            server.base + f"{BASE}/bulk",
            fixture.token,
            {"records": [sample, {**sample, "Amount": 3}]},
        )
        results = json.loads(body).get("results", [])
        if status != 200 or len(results) != 2 or not all(r["ok"] for r in results):
            raise SystemExit(f"{side} bulk: HTTP {status} {body[:300]!r}")
    strip = {
        side: {k: v for k, v in record.items() if k not in volatile}
        for side, record in created.items()
    }
    if strip["trellis"] != strip["baseline"]:
        notes.append(f"WARNING create: the returned records differ: {strip}")
    import sqlalchemy as sa

    engine = sa.create_engine(fixture.url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        written = {}
        for side, record in created.items():
            history = connection.execute(
                sa.text("SELECT action, changes FROM record_history WHERE record_id = :id"),
                {"id": record["id"]},
            ).all()
            event = connection.execute(
                sa.text("SELECT type, payload - 'record_id' FROM events WHERE record_id = :id"),
                {"id": record["id"]},
            ).all()
            written[side] = ([tuple(row) for row in history], [tuple(row) for row in event])
    engine.dispose()
    if written["trellis"] == written["baseline"]:
        notes.append(
            f"create: same record, and the same {len(written['trellis'][0])} "
            f"record_history and {len(written['trellis'][1])} events row(s) on both"
        )
    else:
        notes.append(
            f"WARNING create: the record_history/events rows differ (update "
            f"baseline_app.py to write what Trellis writes):\n"
            f"    trellis  {written['trellis']}\n    baseline {written['baseline']}"
        )
    notes.append("bulk: both created both records")
    return notes


# -- load generation -------------------------------------------------------------------------
def wrk_version() -> str | None:
    if shutil.which("wrk") is None:
        return None
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    match = re.search(r"wrk\s+(\S+)", result.stdout + result.stderr)
    return match.group(1) if match else "unknown version"


def run_wrk(
    lua: Path,
    base: str,
    mode: str,
    path: str,
    data_file: Path | None,
    token: str,
    seconds: float,
    concurrency: int,
    threads: int,
) -> dict[str, Any]:
    environment = {
        **os.environ,
        "BENCH_MODE": mode,
        "BENCH_PATH": path,
        "BENCH_TOKEN": token,
        "BENCH_FILE": str(data_file) if data_file else "",
    }
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(concurrency),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(lua),
        base + "/",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=seconds + 60
    )
    line = next((line for line in result.stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {result.stdout}\n{result.stderr}")
    return json.loads(line[len("WRKJSON ") :])


def run_python_client(
    base: str,
    mode: str,
    path: str,
    data_file: Path | None,
    token: str,
    warmup: float,
    seconds: float,
    concurrency: int,
    on_window: Callable[[str], None],
) -> dict[str, Any]:
    """Keep-alive http.client connections, one thread each, closed loop.

    Load runs continuously for ``warmup + seconds``; only requests *completed* inside the
    last ``seconds`` count, so requests that take seconds (bulk) are measured in steady
    state without the ramp-up and cut-off of a fixed window. ``on_window("start"/"end")``
    is called at the window's edges. In-flight requests are awaited before returning.
    """
    import http.client

    lines = data_file.read_text().splitlines() if data_file else []
    host, port = base.removeprefix("http://").split(":")
    stop = threading.Event()
    done: list[list[tuple[float, float, bool]]] = [[] for _ in range(concurrency)]

    def worker(index: int) -> None:
        generator = random.Random(index)
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while not stop.is_set():
            if mode == "get":
                method, target, body = "GET", path + generator.choice(lines), None
            elif mode == "list":
                method, target, body = "GET", path, None
            else:
                method, target, body = "POST", path, generator.choice(lines).encode()
            started = time.perf_counter()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
            finished = time.perf_counter()
            done[index].append((finished, finished - started, ok))
        connection.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in workers:
        thread.start()
    time.sleep(warmup)
    on_window("start")
    window_start = time.perf_counter()
    time.sleep(seconds)
    window_end = time.perf_counter()
    on_window("end")
    stop.set()
    for thread in workers:
        thread.join()
    inside = [
        (latency, ok)
        for results in done
        for finished, latency, ok in results
        if window_start <= finished < window_end
    ]
    samples = sorted(latency for latency, _ in inside)

    def percentile(fraction: float) -> int:
        return (
            int(samples[min(len(samples) - 1, int(len(samples) * fraction))] * 1e6)
            if samples
            else 0
        )

    return {
        "requests": len(inside),
        "duration_us": int((window_end - window_start) * 1e6),
        "p50_us": percentile(0.50),
        "p95_us": percentile(0.95),
        "p99_us": percentile(0.99),
        "max_us": percentile(1.0),
        "status": sum(1 for _, ok in inside if not ok),
        "connect": 0,
        "read": 0,
        "write": 0,
        "timeout": 0,
    }


def make_request_files(directory: Path, fixture: Fixture) -> dict[str, Path]:
    """Random ids to GET, and request bodies to POST (one per line)."""
    import sqlalchemy as sa

    engine = sa.create_engine(fixture.url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        ids = (
            connection.execute(
                sa.text(
                    "SELECT id FROM records WHERE object_id = :object ORDER BY random() LIMIT :n"
                ),
                {"object": fixture.object_id, "n": ID_SAMPLE},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    generator = random.Random(42)

    def record(index: int) -> dict[str, Any]:
        values: dict[str, Any] = {
            "Name": f"Bench deal {index}",
            "Stage": generator.choice(STAGES),
            "CloseDate": f"2025-{generator.randint(1, 12):02d}-{generator.randint(1, 28):02d}",
        }
        if generator.random() > 0.03:
            values["Amount"] = round(generator.uniform(100, 250_000), 2)
        return values

    files = {
        "get": directory / "ids.txt",
        "create": directory / "create.jsonl",
        "bulk": directory / "bulk.jsonl",
    }
    files["get"].write_text("\n".join(str(value) for value in ids) + "\n")
    files["create"].write_text("\n".join(json.dumps(record(i)) for i in range(2000)) + "\n")
    files["bulk"].write_text(
        "\n".join(
            json.dumps({"records": [record(b * BULK_SIZE + i) for i in range(BULK_SIZE)]})
            for b in range(20)
        )
        + "\n"
    )
    return files


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_cpu(pid: int) -> float:
    """CPU seconds of a server process and of its worker processes (gunicorn's)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return process_cpu(pid) + sum(process_cpu(int(child)) for child in children)


class CpuMeter:
    """CPU used by a server process and by its PostgreSQL backends (by application_name)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(
            _baseline_module().conninfo_from_url(url), autocommit=True
        )

    def snapshot(self, server: Server) -> tuple[float, dict[int, float]]:
        pids = [
            row[0]
            for row in self.connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (server.application_name,),
            )
        ]
        return server_cpu(server.process.pid), {pid: process_cpu(pid) for pid in pids}

    @staticmethod
    def used(
        before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]
    ) -> tuple[float, float]:
        database = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
        return after[0] - before[0], database

    def close(self) -> None:
        self.connection.close()


@dataclasses.dataclass
class LoadGenerator:
    name: str
    wrk_lua: Path | None
    wrk_threads: int
    concurrency: int

    def run(
        self,
        server: Server,
        operation: str,
        data_file: Path | None,
        token: str,
        seconds: float,
        warmup: float,
        meter: CpuMeter,
    ) -> tuple[dict[str, Any], tuple]:
        path = {
            "get": f"{BASE}/records/",
            "list": LIST_PATH,
            "create": f"{BASE}/records",
            "bulk": f"{BASE}/bulk",
        }[operation]
        snapshots: dict[str, Any] = {}
        # Bulk requests take seconds: wrk's fixed window would lose the ramp-up and the
        # requests cut off at the end, a large share of a few dozen; count in steady state.
        if self.wrk_lua is None or operation == "bulk":
            result = run_python_client(
                server.base,
                operation,
                path,
                data_file,
                token,
                max(warmup, 5.0) if operation == "bulk" else warmup,
                seconds,
                self.concurrency,
                lambda edge: snapshots.__setitem__(edge, meter.snapshot(server)),
            )
        else:
            if warmup > 0:
                run_wrk(
                    self.wrk_lua,
                    server.base,
                    operation,
                    path,
                    data_file,
                    token,
                    warmup,
                    self.concurrency,
                    self.wrk_threads,
                )
            snapshots["start"] = meter.snapshot(server)
            result = run_wrk(
                self.wrk_lua,
                server.base,
                operation,
                path,
                data_file,
                token,
                seconds,
                self.concurrency,
                self.wrk_threads,
            )
            snapshots["end"] = meter.snapshot(server)
        return result, CpuMeter.used(snapshots["start"], snapshots["end"])


@dataclasses.dataclass
class Run:
    side: str
    operation: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    app_cpu: float  # CPU seconds of the server process during the run
    db_cpu: float  # CPU seconds of its PostgreSQL backends during the run
    load_before: float  # 1-minute load average when the run started
    order: int = 0

    @property
    def units(self) -> int:
        """Requests, or records for bulk."""
        return self.requests * (BULK_SIZE if self.operation == "bulk" else 1)

    @property
    def rate(self) -> float:
        """Requests per second (records per second for bulk)."""
        return self.units / self.seconds if self.seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.units if self.units else float("nan")


def measure(
    generator: LoadGenerator,
    meter: CpuMeter,
    side: str,
    server: Server,
    operation: str,
    data_file: Path | None,
    fixture: Fixture,
    seconds: float,
    warmup: float,
    order: int,
) -> Run:
    load_before = os.getloadavg()[0]
    result, (app_cpu, db_cpu) = generator.run(
        server, operation, data_file, fixture.token, seconds, warmup, meter
    )
    errors = sum(result[key] for key in ("connect", "read", "write", "status", "timeout"))
    return Run(
        side=side,
        operation=operation,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p95_ms=result["p95_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=errors,
        app_cpu=app_cpu,
        db_cpu=db_cpu,
        load_before=load_before,
        order=order,
    )


# -- report ----------------------------------------------------------------------------------
def report(
    results: dict[str, dict[str, list[Run]]],
    latency: dict[str, Run],
    args: argparse.Namespace,
    context: dict[str, str],
) -> None:
    best = {
        operation: {side: max(runs, key=lambda run: run.rate) for side, runs in sides.items()}
        for operation, sides in results.items()
    }
    width = 121
    print()
    print("=" * width)
    print(
        f"Trellis generated records API vs hand-written Flask + psycopg baseline — "
        f"N = {args.records:,} Opportunity records"
    )
    for key in ("machine", "server", "database", "load", "method"):
        print(f"{key:>9}: {context[key]}")
    print("-" * width)
    print(
        f"{'operation':34} {'Trellis':>9} {'baseline':>9} {'ratio':>6}  {'target':16} "
        f"{'Trellis p50/p95 ms':>20} {'baseline p50/p95 ms':>20}"
    )
    for operation in OPERATIONS:
        if operation not in best:
            continue
        trellis, baseline = best[operation]["trellis"], best[operation]["baseline"]
        unit = "rec/s" if operation == "bulk" else "req/s"
        ratio = trellis.rate / baseline.rate if baseline.rate else float("nan")
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(
            f"{LABELS[operation] + ' (' + unit + ')':34} {trellis.rate:9,.1f} "
            f"{baseline.rate:9,.1f} {ratio:6.2f}  {'>= 0.70 ' + verdict:16} "
            f"{trellis.p50_ms:9.2f} / {trellis.p95_ms:8.2f} "
            f"{baseline.p50_ms:9.2f} / {baseline.p95_ms:8.2f}"
        )
    print("-" * width)
    print(
        "CPU per request (per record for bulk) in the best runs, ms: server process | "
        "its PostgreSQL backends"
    )
    for operation in OPERATIONS:
        if operation in best:
            trellis, baseline = best[operation]["trellis"], best[operation]["baseline"]
            print(
                f"  {LABELS[operation]:32} Trellis {trellis.cpu_ms(trellis.app_cpu):7.2f} | "
                f"{trellis.cpu_ms(trellis.db_cpu):6.2f}    baseline "
                f"{baseline.cpu_ms(baseline.app_cpu):7.2f} | "
                f"{baseline.cpu_ms(baseline.db_cpu):6.2f}"
            )
    print("-" * width)
    if latency:
        p95 = latency["trellis"].p95_ms
        at = (
            ""
            if args.records == TARGET_LIST_AT
            else f" (the target is for {TARGET_LIST_AT:,} records; this run has {args.records:,})"
        )
        print(
            f"list page latency, one client: Trellis p50/p95 {latency['trellis'].p50_ms:.2f} / "
            f"{p95:.2f} ms, baseline {latency['baseline'].p50_ms:.2f} / "
            f"{latency['baseline'].p95_ms:.2f} ms; target p95 < {TARGET_LIST_P95_MS:.0f} ms "
            f"at {TARGET_LIST_AT:,} records: {'met' if p95 < TARGET_LIST_P95_MS else 'NOT met'}"
            f"{at}"
        )
        saturated = best["list"]["trellis"].p95_ms
        print(
            f"  (at concurrency {args.concurrency}, where requests queue for the 2 cores: "
            f"Trellis p95 {saturated:.2f} ms, baseline {best['list']['baseline'].p95_ms:.2f} "
            f"ms)"
        )
    print(
        "reference: a popular Node-based data platform with generated APIs serves about "
        "600 GET-by-id, 490 filtered-list and\n  370 create req/s on this 2-core machine; "
        "Trellis should at least double that:"
    )
    for operation, reference in REFERENCE.items():
        if operation in best:
            rate = best[operation]["trellis"].rate
            print(
                f"  {LABELS[operation]:28} Trellis {rate:8,.1f} req/s = "
                f"{rate / reference:4.2f}x the reference {reference} "
                f"(target >= 2x = {2 * reference}): "
                f"{'met' if rate >= 2 * reference else 'NOT met'}"
            )
    print(
        "every run in the order measured (req/s or rec/s; p50/p95 ms; errors; 1-min load "
        "average at its start):"
    )
    for operation in OPERATIONS:
        if operation not in results:
            continue
        runs = sorted(
            (run for runs in results[operation].values() for run in runs), key=lambda run: run.order
        )
        print(
            f"  {LABELS[operation]:28} "
            + "; ".join(
                f"{run.side} {run.rate:,.0f} ({run.p50_ms:.1f}/{run.p95_ms:.1f}, {run.errors}, "
                f"load {run.load_before:.1f})"
                for run in runs
            )
        )
    failed = [
        run for sides in results.values() for runs in sides.values() for run in runs if run.errors
    ]
    if failed:
        print(
            "WARNING: some runs had errors (non-2xx answers or socket errors); "
            "their rates include failed requests:"
        )
        for run in failed:
            print(f"  {run.side} {run.operation}: {run.errors} errors of {run.requests}")


# -- main ------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records to load")
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    parser.add_argument("--concurrency", type=int, default=8, help="open client connections")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measured runs per side and operation (alternating)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="unmeasured seconds of load before each run (bulk: at least 5)",
    )
    parser.add_argument("--threads", type=int, default=8, help="request threads per server process")
    parser.add_argument(
        "--pool-size", type=int, default=8, help="database pool size per server process"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes per app (more than one: gunicorn workers)",
    )
    parser.add_argument(
        "--operations",
        default=",".join(OPERATIONS),
        help="comma-separated subset of get,list,create,bulk",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "TRELLIS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server URL with rights to create databases (a superuser: the "
        "bulk load skips the per-row foreign-key trigger)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("TRELLIS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--python-client",
        action="store_true",
        help="use the Python load generator even if wrk is installed",
    )
    parser.add_argument(
        "--index-first",
        action="store_true",
        help="build the field indexes before loading (slower load)",
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the {DATABASE} database afterwards"
    )
    # Internal: the Trellis server subprocess.
    parser.add_argument("--serve-trellis", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--redis-namespace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.operations.split(",")) - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    return args


def delete_redis_namespace(redis_url: str, namespace: str) -> None:
    """Remove the Celery messages and bindings this run left under its own namespace."""
    import redis

    try:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except redis.RedisError as error:
        print(f"could not clean Redis namespace {namespace}: {error}")


def with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def main() -> None:
    args = parse_args()
    if args.serve_trellis:
        serve_trellis(args)
        return
    import importlib.metadata

    import sqlalchemy as sa

    from trellis.config import load_config
    from trellis.runtime.app import create_app

    total_started = time.perf_counter()
    cores = os.cpu_count() or 0
    print(
        f"api_bench: {args.records:,} records, concurrency {args.concurrency}, "
        f"{args.seconds:g} s runs, {cores} cores, load average "
        f"{' '.join(f'{value:.2f}' for value in os.getloadavg())}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="trellis-api-bench-"))
    namespace = f"trellis-api-bench-{os.getpid()}"
    url = create_database(args.database_url)
    servers: dict[str, Server] = {}
    app = meter = None
    try:
        app = create_app(
            load_config(
                trellis_settings(
                    url, args.redis_url, namespace, str(work / "instance"), args.pool_size
                ),
                environ={},
            )
        )
        fixture = setup(app, url, args.records, args.index_first)
        files = make_request_files(work, fixture)
        record_id = files["get"].read_text().split()[0]
        sql_counts, list_sql = probe_trellis_sql(app, fixture, record_id)
        explain = explain_list(fixture, list_sql)
        with app.extensions["trellis"].database.owner() as connection:
            settings = dict(
                connection.execute(
                    sa.text(
                        "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name IN "
                        "('shared_buffers', 'synchronous_commit')"
                    )
                ).all()
            )
            pg_version = connection.execute(sa.text("SHOW server_version")).scalar_one()
        app.extensions["trellis"].database.dispose()

        common = [
            "--threads",
            str(args.threads),
            "--pool-size",
            str(args.pool_size),
            "--processes",
            str(args.processes),
        ]
        for name in ("baseline", "trellis"):
            port = free_port()
            server_url = with_application_name(url, f"api-bench-{name}")
            if name == "baseline":
                command = [
                    sys.executable,
                    str(HERE / "baseline_app.py"),
                    *common,
                    "--database-url",
                    server_url,
                    "--object-id",
                    str(fixture.object_id),
                ]
            else:
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--serve-trellis",
                    *common,
                    "--database-url",
                    server_url,
                    "--redis-url",
                    args.redis_url,
                    "--redis-namespace",
                    namespace,
                    "--instance",
                    str(work / "instance"),
                ]
            servers[name] = Server(name, [*command, "--port", str(port)], port, work)
        for server in servers.values():
            server.wait_ready()
        notes = verify(servers, fixture, record_id)
        print("verified:\n" + "\n".join(f"  {note}" for note in notes), flush=True)

        version = None if args.python_client else wrk_version()
        if version:
            lua = work / "bench.lua"
            lua.write_text(WRK_LUA)
            wrk_threads = max(1, min(cores, args.concurrency, 2))
            generator = LoadGenerator("wrk", lua, wrk_threads, args.concurrency)
            load_text = (
                f"wrk {version} ({wrk_threads} threads, {args.concurrency} keep-alive "
                f"connections, closed loop) on the same machine; bulk: Python "
                f"http.client, {args.concurrency} keep-alive connections, requests "
                f"completed in the window after >= 5 s of load"
            )
        else:
            print(
                "WARNING: wrk is not installed (apt-get install -y wrk); falling back to a "
                "Python multi-threaded http.client load generator. On a 2-core machine it "
                "competes with the servers for CPU and is likely the bottleneck: treat the "
                "absolute numbers as lower bounds.",
                flush=True,
            )
            generator = LoadGenerator("python", None, 0, args.concurrency)
            load_text = (
                f"Python http.client ({args.concurrency} threads, keep-alive) on the "
                f"same machine — WARNING: wrk missing, this client is likely the "
                f"bottleneck"
            )
        meter = CpuMeter(url)

        operations = [op for op in OPERATIONS if op in args.operations.split(",")]
        planned = sum(
            args.rounds
            * 2
            * (args.seconds + (max(args.warmup, 5) if op == "bulk" else args.warmup))
            for op in operations
        )
        print(
            f"measuring {', '.join(operations)}: {args.rounds} rounds x 2 sides, "
            f"about {planned / 60:.1f} min",
            flush=True,
        )
        results: dict[str, dict[str, list[Run]]] = {}
        latency: dict[str, Run] = {}
        order = 0
        for operation in operations:
            results[operation] = {"baseline": [], "trellis": []}
            for round_number in range(args.rounds):
                for side in ("baseline", "trellis"):
                    run = measure(
                        generator,
                        meter,
                        side,
                        servers[side],
                        operation,
                        files.get(operation),
                        fixture,
                        args.seconds,
                        args.warmup,
                        order,
                    )
                    order += 1
                    results[operation][side].append(run)
                    unit = "rec/s" if operation == "bulk" else "req/s"
                    print(
                        f"  {operation:6} round {round_number + 1} {side:8} "
                        f"{run.rate:9,.1f} {unit}  p50 {run.p50_ms:7.2f} ms  "
                        f"p95 {run.p95_ms:7.2f} ms  errors {run.errors}  CPU ms/"
                        f"{'record' if operation == 'bulk' else 'request'} app "
                        f"{run.cpu_ms(run.app_cpu):.2f} db {run.cpu_ms(run.db_cpu):.2f}  "
                        f"load {run.load_before:.2f}",
                        flush=True,
                    )
            if operation == "list":
                # The page's latency as one user sees it: a single client, so no request
                # waits behind others (at --concurrency the p95 is mostly queueing, on both
                # sides alike). Before the write runs, which add rows the filter matches.
                single = dataclasses.replace(
                    generator, wrk_threads=min(generator.wrk_threads, 1), concurrency=1
                )
                for side in ("baseline", "trellis"):
                    latency[side] = measure(
                        single,
                        meter,
                        side,
                        servers[side],
                        "list",
                        None,
                        fixture,
                        args.seconds,
                        args.warmup,
                        order,
                    )
                    order += 1
                    print(
                        f"  list   one client {side:8} {latency[side].rate:9,.1f} req/s  p50 "
                        f"{latency[side].p50_ms:7.2f} ms  p95 {latency[side].p95_ms:7.2f} ms",
                        flush=True,
                    )

        context = {
            "machine": f"{cores} cores (os.cpu_count), shared by the load generator, the server "
            f"under test and PostgreSQL (the other server idles)",
            "server": (
                f"waitress {importlib.metadata.version('waitress')}, {args.threads} "
                f"threads, one process per app; database pool {args.pool_size} per app"
                if args.processes == 1
                else f"gunicorn {importlib.metadata.version('gunicorn')}, {args.processes} "
                f"gthread workers x {args.threads} threads per app; database pool "
                f"{args.pool_size} per worker"
            ),
            "database": f"PostgreSQL {pg_version} on 127.0.0.1 (shared_buffers "
            f"{settings.get('shared_buffers')}, synchronous_commit "
            f"{settings.get('synchronous_commit')}); RLS applies to both apps",
            "load": f"{load_text}; concurrency {args.concurrency}",
            "method": f"servers measured one at a time, alternating baseline/Trellis, "
            f"{args.rounds} runs of {args.seconds:g} s each (after {args.warmup:g} s "
            f"warm-up); best run per side, its latencies",
        }
        report(results, latency, args, context)
        for note in notes:
            if note.startswith("WARNING"):
                print(f"COMPARABILITY {note}")
        print()
        print("database round trips per Trellis request (measured in-process):")
        for operation, text in sql_counts.items():
            print(f"  {operation:6} {text}")
        print(
            "  baseline (by construction): one transaction per request — BEGIN, set_config, "
            "token lookup, the data statement, COMMIT:\n  5 round trips for every operation "
            f"(one INSERT statement for a create and for a bulk create of {BULK_SIZE}); "
            "no Redis message"
        )
        print(
            f"EXPLAIN (ANALYZE, BUFFERS) of the list page query ({args.records:,} records, "
            f"before the write runs, 7 runs each):"
        )
        print("\n".join(explain))
        print(f"total benchmark time {time.perf_counter() - total_started:.0f} s")
    finally:
        if meter is not None:
            meter.close()
        for server in servers.values():
            server.stop()
        if app is not None:
            app.extensions["trellis"].database.dispose()
        if args.keep:
            print(f"kept database {DATABASE} ({url})")
        else:
            drop_database(args.database_url)
        shutil.rmtree(work, ignore_errors=True)
        delete_redis_namespace(args.redis_url, namespace)


if __name__ == "__main__":
    main()
