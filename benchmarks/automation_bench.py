"""After-save automation benchmark: actions per second per worker and commit-to-action
latency, against a bare Celery task doing the same write.

Run: ``python benchmarks/automation_bench.py [--records 300] [--paced 40]
[--concurrency 2]``. It needs PostgreSQL (user ``postgres``, trust) and Redis on
127.0.0.1, like the tests.

Both sides run one worker process with the same thread count, on the same machine,
in the same run, and do the same work per record change: one row written in its own
transaction by the worker.

* **Trellis**: an Opportunity is created through the records API (in-process test
  client), its commit writes an outbox event and nudges the dispatcher; the worker
  (``trellis worker``) claims the event, evaluates the automation's condition, writes
  an ``automation_runs`` row, runs the after-save ``create_record`` action (a Task
  through ``RecordService``: validation, history, its own event) and records the action
  as done.
* **Baseline**: a plain ``INSERT`` of a source row commits, then a bare Celery task
  (its own app, no Trellis code) is sent with the row id; the worker ``INSERT``s a result
  row. No outbox, no run log, no retries, no metadata.

Latency is the result row's ``created_at`` minus the source row's, both from
PostgreSQL's clock (transaction start times, so the source side is a little early).
Two phases per side: **paced** (one change at a time, waiting for its action: the
latency without a queue, p50/p95) and **backlog** (``--records`` changes committed with
their hand-off held back, as while Redis is down; then everything is handed off at once
and the worker drains it: actions per second from the hand-off to the last action, so
neither side's writer speed counts). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import api_bench  # a sibling script: benchmarks/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
DATABASE = "trellis_automation_bench"
OPPORTUNITY = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "currency"},
    ],
}
TASK = {
    "api_name": "Task",
    "label": "Task",
    "fields": [
        {"api_name": "Subject", "type": "text", "required": True},
        {
            "api_name": "Opportunity",
            "type": "lookup",
            "target": "Opportunity",
            "on_delete": "cascade",
        },
    ],
}
AUTOMATION = {
    "api_name": "followUp",
    "object": "Opportunity",
    "trigger": "created",
    "timing": "after_save",
    "condition": "Amount > 0",
    "actions": [
        {
            "type": "create_record",
            "object": "Task",
            "values": {"Subject": '"Follow up: " & Name', "Opportunity": "Id"},
        }
    ],
}
BASELINE_SQL = """
CREATE TABLE IF NOT EXISTS bench_sources (id bigserial PRIMARY KEY, name text NOT NULL,
                                          created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS bench_actions (id bigserial PRIMARY KEY, source_id bigint NOT NULL,
                                          created_at timestamptz NOT NULL DEFAULT now())
"""


# -- the baseline worker: a bare Celery app, no Trellis ------------------------------------
def baseline_celery(redis_url: str, namespace: str, database_url: str) -> Any:
    import psycopg
    from celery import Celery

    celery = Celery("bench-baseline", broker=redis_url)
    celery.conf.update(
        broker_transport_options={"global_keyprefix": f"{namespace}:"},
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    local = threading.local()
    url = database_url.replace("postgresql+psycopg://", "postgresql://")

    @celery.task(name="bench.write_action")
    def write_action(source_id: int) -> None:
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(url)
        with local.connection.transaction():
            local.connection.execute(
                "INSERT INTO bench_actions (source_id) VALUES (%s)", (source_id,)
            )

    return celery


# -- setup -----------------------------------------------------------------------------------
def setup_trellis(app: Any) -> tuple[Any, dict[str, str]]:
    """Migrate; create a tenant, an admin token, the objects and the automation."""
    tenant, _, _, token = api_bench.bench_tenant(
        app.extensions["trellis"].database, "automation-bench"
    )
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for path, body in (
        ("/api/v1/meta/objects", OPPORTUNITY),
        ("/api/v1/meta/objects", TASK),
        ("/api/v1/meta/automations", AUTOMATION),
    ):
        response = client.post(path, json=body, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"setup failed: {path} {response.get_json()}")
    return tenant, headers


def start_worker(command: list[str], environment: dict[str, str], log: Path) -> Any:
    return subprocess.Popen(
        command,
        env={**os.environ, **environment},
        cwd=str(HERE.parent),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(process: Any) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the two sides, as (write one change, count and read the latencies) --------------------
class Side:
    """One side of the comparison: ``write(name, hand_off)`` makes a change and returns at
    commit, handing it to the worker unless told not to; ``release()`` hands off every
    change held back and returns the database clock at that moment; ``done()`` counts the
    actions so far; ``latencies(prefix)`` reads (last action, per-change latencies in ms)
    for the changes named with ``prefix``."""

    def __init__(
        self,
        label: str,
        write: Callable[[str, bool], None],
        release: Callable[[], float],
        done: Callable[[], int],
        latencies: Callable[[str], tuple[float, list[float]]],
    ) -> None:
        self.label, self.write, self.release = label, write, release
        self.done, self.latencies = done, latencies


def trellis_side(app: Any, tenant: Any, headers: dict[str, str]) -> Side:
    import sqlalchemy as sa

    client, database = app.test_client(), app.extensions["trellis"].database
    celery = app.extensions["celery"]
    send_task = celery.send_task

    def write(name: str, hand_off: bool = True) -> None:
        # Held back, the commit's nudge to the dispatcher is dropped: the event waits in
        # the outbox, exactly as when Redis is unreachable.
        celery.send_task = send_task if hand_off else (lambda *args, **kwargs: None)
        response = client.post(
            "/api/v1/objects/Opportunity/records",
            json={"Name": name, "Amount": 100},
            headers=headers,
        )
        if response.status_code != 201:
            raise SystemExit(f"write failed: {response.get_json()}")

    def release() -> float:
        celery.send_task = send_task
        moment = _database_clock(database.engine)
        celery.send_task("trellis.dispatch_events")
        return moment

    def done() -> int:
        with database.tenant(tenant.id) as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM automation_runs WHERE status = 'succeeded'")
            ).scalar()

    def latencies(prefix: str) -> tuple[float, list[float]]:
        with database.tenant(tenant.id) as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT extract(epoch FROM o.created_at), extract(epoch FROM t.created_at) "
                    "FROM records o JOIN records t ON t.data->>'Opportunity' = o.id::text "
                    "WHERE o.data->>'Name' LIKE :prefix"
                ),
                {"prefix": f"{prefix}%"},
            ).all()
        return _summarise(rows)

    return Side("Trellis after-save create_record", write, release, done, latencies)


def baseline_side(database_url: str, celery: Any) -> Side:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    connection = psycopg.connect(url, autocommit=True)
    task = celery.tasks["bench.write_action"]
    held: list[int] = []

    def write(name: str, hand_off: bool = True) -> None:
        source_id = connection.execute(
            "INSERT INTO bench_sources (name) VALUES (%s) RETURNING id", (name,)
        ).fetchone()[0]
        if hand_off:
            task.delay(source_id)  # after the commit, as an after-commit hook would
        else:
            held.append(source_id)

    def release() -> float:
        moment = float(connection.execute("SELECT extract(epoch FROM now())").fetchone()[0])
        for source_id in held:
            task.delay(source_id)
        held.clear()
        return moment

    def done() -> int:
        return connection.execute("SELECT count(*) FROM bench_actions").fetchone()[0]

    def latencies(prefix: str) -> tuple[float, list[float]]:
        rows = connection.execute(
            "SELECT extract(epoch FROM s.created_at), extract(epoch FROM a.created_at) "
            "FROM bench_sources s JOIN bench_actions a ON a.source_id = s.id "
            "WHERE s.name LIKE %s",
            (f"{prefix}%",),
        ).fetchall()
        return _summarise(rows)

    return Side("bare Celery task writing a row", write, release, done, latencies)


def _database_clock(engine: Any) -> float:
    import sqlalchemy as sa

    with engine.connect() as connection:
        return float(connection.execute(sa.text("SELECT extract(epoch FROM now())")).scalar())


def _summarise(rows: list[Any]) -> tuple[float, list[float]]:
    commits = [float(row[0]) for row in rows]
    actions = [float(row[1]) for row in rows]
    return max(actions), [(a - c) * 1000 for c, a in zip(commits, actions, strict=True)]


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the worker")
        time.sleep(0.02)


def measure(side: Side, paced: int, records: int, warmup: int) -> dict[str, Any]:
    base = side.done()
    for number in range(warmup):
        side.write(f"warm-{number}")
    wait_until(lambda: side.done() >= base + warmup, 120)
    for number in range(paced):
        target = side.done() + 1
        side.write(f"paced-{number}")
        wait_until(lambda target=target: side.done() >= target, 60)
    _, paced_latencies = side.latencies("paced-")
    target = side.done() + records
    for number in range(records):
        side.write(f"backlog-{number}", False)
    started = side.release()
    wait_until(lambda: side.done() >= target, 600)
    last, _ = side.latencies("backlog-")
    return {
        "paced": paced_latencies,
        "per_second": records / (last - started),
        "drain_seconds": last - started,
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    trellis, baseline = results["trellis"], results["baseline"]
    print(
        f"\nAfter-save automations: one worker process, {args.concurrency} threads, "
        f"a backlog of {args.records} changes, {args.paced} paced changes\n"
    )
    print(f"{'':34}{'Trellis':>12}{'baseline':>12}{'ratio':>10}")

    def row(label: str, ours: float, theirs: float, unit: str) -> None:
        print(f"{label:34}{ours:>10.1f}{unit:2}{theirs:>10.1f}{unit:2}{ours / theirs:>9.2f}×")

    row("actions per second per worker", trellis["per_second"], baseline["per_second"], "/s")
    for name, fraction in (("p50", 0.5), ("p95", 0.95)):
        row(
            f"commit → action latency {name}",
            percentile(trellis["paced"], fraction),
            percentile(baseline["paced"], fraction),
            "ms",
        )
    print(
        "\nRatios: throughput is Trellis ÷ baseline (higher is better); latency is "
        "Trellis ÷ baseline (lower is better)."
    )
    print(
        f"Backlog drained in {trellis['drain_seconds']:.1f} s (Trellis) and "
        f"{baseline['drain_seconds']:.1f} s (baseline). Mean latency: Trellis "
        f"{statistics.mean(trellis['paced']):.1f} ms, baseline "
        f"{statistics.mean(baseline['paced']):.1f} ms. "
        f"1-minute load average at the end: {os.getloadavg()[0]:.2f}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records",
        type=int,
        default=300,
        help="changes in the backlog the worker drains (throughput)",
    )
    parser.add_argument(
        "--paced", type=int, default=40, help="changes made one at a time (latency without a queue)"
    )
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=2, help="worker threads per side")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "TRELLIS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server URL; the benchmark creates and drops its own database",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("TRELLIS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", help=argparse.SUPPRESS)
    parser.add_argument("--bench-database", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.baseline_worker:
        baseline_celery(args.redis_url, args.namespace, args.bench_database).worker_main(
            [
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(args.concurrency),
                "--loglevel",
                "WARNING",
            ]
        )
        return
    sys.path.insert(0, str(HERE))
    import psycopg
    from api_bench import delete_redis_namespace

    from trellis.config import load_config
    from trellis.runtime.app import create_app

    url = api_bench.create_database(args.database_url, DATABASE)
    namespace = f"automation-bench-{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="automation-bench-"))
    settings = {
        "database_url": url,
        "redis_url": args.redis_url,
        "redis_namespace": namespace,
        "instance_path": str(logs),
        "secret_key": "automation-bench",
        "log_level": "WARNING",
        "log_json": False,
        # A budget no run spends (each request is still counted in Redis).
        "api_rate_limit": 1_000_000_000,
    }
    app = create_app(load_config(settings, environ={}))
    workers = []
    try:
        tenant, headers = setup_trellis(app)
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as connection:
            for statement in BASELINE_SQL.split(";"):
                connection.execute(statement)
        workers.append(
            start_worker(
                [
                    sys.executable,
                    "-m",
                    "trellis.cli",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(args.concurrency),
                    "--loglevel",
                    "WARNING",
                ],
                {f"TRELLIS_{name.upper()}": str(value) for name, value in settings.items()},
                logs / "trellis-worker.log",
            )
        )
        baseline_namespace = f"{namespace}-baseline"
        workers.append(
            start_worker(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--baseline-worker",
                    "--namespace",
                    baseline_namespace,
                    "--bench-database",
                    url,
                    "--redis-url",
                    args.redis_url,
                    "--concurrency",
                    str(args.concurrency),
                ],
                {},
                logs / "baseline-worker.log",
            )
        )
        celery = baseline_celery(args.redis_url, baseline_namespace, url)
        sides = {
            "baseline": baseline_side(url, celery),
            "trellis": trellis_side(app, tenant, headers),
        }
        results = {}
        for name in ("baseline", "trellis"):
            print(f"measuring: {sides[name].label}", flush=True)
            results[name] = measure(sides[name], args.paced, args.records, args.warmup)
        report(results, args)
        print(f"Worker logs: {logs}")
    finally:
        for worker in workers:
            stop(worker)
        app.extensions["trellis"].database.dispose()
        delete_redis_namespace(args.redis_url, namespace)
        delete_redis_namespace(args.redis_url, f"{namespace}-baseline")
        if not args.keep:
            api_bench.drop_database(args.database_url, DATABASE)


if __name__ == "__main__":
    main()
