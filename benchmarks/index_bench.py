"""Newly indexed field benchmark: how soon a field that becomes ``indexed`` is usable,
against a plain synchronous ``CREATE INDEX`` of the same expression.

Run: ``python benchmarks/index_bench.py [--records 100000,1000000] [--rounds 3]``.
It needs PostgreSQL (user ``postgres``, trust, a superuser) and Redis on 127.0.0.1.

Per record count, on a fresh database ``trellis_index_bench`` loaded as ``api_bench``
loads it (the Opportunity object, Amount and Stage indexed, CloseDate not), with a real
``trellis worker`` process running:

- **Trellis**: ``PATCH /api/v1/meta/objects/Opportunity/fields/CloseDate`` with
  ``{"indexed": true}`` through the Flask test client; the clock starts when the call
  returns (and, reported too, when it is called) and stops when, polling every 5 ms,
  the field's index status (``GET`` of the field) is ``ready`` and a list page filtered
  and sorted on the field has answered 200.
  Then the field is made unindexed again, and the index and the field's planner
  statistics are dropped, so that every round indexes a field that never was.
- **Baseline**: ``CREATE INDEX`` (not concurrently) of the same expression with the same
  predicate on the owner's connection, then ``DROP INDEX``.

The two alternate; the report gives each round and the medians, and the ratio of the
medians against the 2x target. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import api_bench
import sqlalchemy as sa

DATABASE = "trellis_index_bench"
FIELD_PATH = "/api/v1/meta/objects/Opportunity/fields/CloseDate"
PAGE_PATH = f"{api_bench.BASE}/records?CloseDate__gte=2025-06-01&sort=CloseDate&limit=50"
POLL_SECONDS = 0.005
TARGET = 2.0


def start_worker(settings: dict[str, Any], log: Path) -> subprocess.Popen:
    """``trellis worker`` on the benchmark's database and Redis namespace."""
    environment = {f"TRELLIS_{name.upper()}": str(value) for name, value in settings.items()}
    return subprocess.Popen(
        [sys.executable, "-m", "trellis.cli", "worker", "--pool", "threads", "--concurrency", "2"],
        env={**os.environ, **environment},
        cwd=str(api_bench.HERE.parent),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def index_row(app: Any, tenant_id: uuid.UUID) -> Any:
    with app.extensions["trellis"].database.owner() as connection:
        return connection.execute(
            sa.text(
                "SELECT index_name, object_id, expression, is_unique FROM field_indexes "
                "WHERE tenant_id = :t AND field = 'CloseDate'"
            ),
            {"t": tenant_id},
        ).first()


def trellis_round(app: Any, fixture: api_bench.Fixture) -> tuple[float, float, str]:
    """Seconds from the PATCH returning to the field being usable, the PATCH's own
    seconds, and the index status the PATCH answered."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {fixture.token}"}
    called = time.perf_counter()
    response = client.patch(FIELD_PATH, headers=headers, json={"indexed": True})
    started = time.perf_counter()
    if response.status_code != 200:
        raise SystemExit(f"PATCH failed: {response.status_code} {response.get_data(True)}")
    answered = (response.get_json().get("index") or {}).get("status", "none")
    while True:
        field = client.get(FIELD_PATH, headers=headers).get_json()
        status = (field.get("index") or {}).get("status")
        if status == "failed":
            raise SystemExit(f"index build failed: {field['index']}")
        if status == "ready" and client.get(PAGE_PATH, headers=headers).status_code == 200:
            return time.perf_counter() - started, started - called, answered
        time.sleep(POLL_SECONDS)


def reset(app: Any, fixture: api_bench.Fixture, spec: Any) -> None:
    """Unindex the field, wait for the index to go and drop its planner statistics."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {fixture.token}"}
    client.patch(FIELD_PATH, headers=headers, json={"indexed": False})
    database = app.extensions["trellis"].database
    while True:
        with database.owner() as connection:
            left = connection.execute(
                sa.text("SELECT count(*) FROM pg_class WHERE relname = :name"),
                {"name": spec.index_name},
            ).scalar_one()
        if not left:
            break
        time.sleep(0.05)
    with database.owner() as connection:
        names = connection.execute(
            sa.text(
                "SELECT stxname FROM pg_statistic_ext "
                "WHERE pg_get_statisticsobjdef(oid) LIKE '%CloseDate%'"
            )
        ).scalars()
        for name in names:
            connection.execute(sa.text(f"DROP STATISTICS {name}"))


def baseline_round(app: Any, fixture: api_bench.Fixture, spec: Any) -> float:
    from trellis.metadata.indexes import index_ddl

    ddl = index_ddl(fixture.tenant_id, "bench_plain_index", spec, concurrently=False)
    engine = app.extensions["trellis"].database.owner_engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        started = time.perf_counter()
        connection.execute(sa.text(ddl))
        elapsed = time.perf_counter() - started
        connection.execute(sa.text("DROP INDEX bench_plain_index"))
    return elapsed


def measure(records: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from trellis.config import load_config
    from trellis.runtime.app import create_app

    url = api_bench.create_database(args.database_url, DATABASE)
    namespace = f"trellis-index-bench-{os.getpid()}-{records}"
    settings = api_bench.trellis_settings(url, args.redis_url, namespace, str(work), 4)
    app = create_app(load_config(settings, environ={}))
    worker = start_worker(settings, work / f"worker-{records}.log")
    try:
        fixture = api_bench.setup(app, url, records, index_first=False)
        app.extensions["celery"].tasks["trellis.ping"].delay("ready").get(timeout=120)
        trellis: list[tuple[float, float, str]] = []
        plain: list[float] = []
        spec = None
        for _ in range(args.rounds):
            trellis.append(trellis_round(app, fixture))
            spec = spec or index_row(app, fixture.tenant_id)
            reset(app, fixture, spec)
            plain.append(baseline_round(app, fixture, spec))
        return {"records": records, "trellis": trellis, "plain": plain}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.extensions["trellis"].database.dispose()
        api_bench.delete_redis_namespace(args.redis_url, namespace)
        if not args.keep:
            api_bench.drop_database(args.database_url, DATABASE)


def report(result: dict[str, Any]) -> None:
    after = [seconds for seconds, _, _ in result["trellis"]]
    whole = [seconds + patch for seconds, patch, _ in result["trellis"]]
    answered = sorted({status for _, _, status in result["trellis"]})
    plain = statistics.median(result["plain"])

    def line(label: str, values: list[float]) -> None:
        print(f"  {label:<34}" + "  ".join(f"{seconds * 1000:8.1f} ms" for seconds in values))

    print(f"\n{result['records']:,} records:")
    line("trellis  PATCH returned -> usable", after)
    line("trellis  PATCH called -> usable", whole)
    line("plain    CREATE INDEX", result["plain"])
    print(f"  (the PATCH answered index status: {', '.join(answered)})")
    for label, values in (("returned", after), ("called", whole)):
        ratio = statistics.median(values) / plain
        print(
            f"  median from the PATCH {label}: trellis {statistics.median(values) * 1000:.1f} "
            f"ms, plain {plain * 1000:.1f} ms, ratio {ratio:.2f}x "
            f"(target within {TARGET:g}x: {'met' if ratio <= TARGET else 'MISSED'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="100000,1000000", help="comma-separated counts")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", action="store_true", help=f"keep {DATABASE} (the last size)")
    args = parser.parse_args()
    print(
        f"index_bench: load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="trellis-index-bench-"))
    results = [measure(int(count), args, work) for count in args.records.split(",")]
    for result in results:
        report(result)
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; worker logs: {work}")


if __name__ == "__main__":
    main()
