"""Automations under faults, on real worker processes: a worker killed in the middle of
a run, and Redis stopped during a burst of writes. Each time every automation runs
exactly once in effect: records are not doubled, and a webhook delivered again carries
the same ``X-Trellis-Delivery`` id so that its receiver can recognise it."""

from __future__ import annotations

import dataclasses
import http.server
import json
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TenantFixture, WorkerPool
from factories import CRM_OPPORTUNITY, CRM_TASK, add_automation, records, runs
from helpers import wait_for

from trellis.automation.event_runs import stale_runs
from trellis.webhooks.signing import verify

SECRET = "fault-test-secret"


class HoldingReceiver(http.server.BaseHTTPRequestHandler):
    """Records each delivery; holds every request until the test opens ``gate``."""

    deliveries: list[dict]
    arrived: threading.Event
    gate: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).deliveries.append({"headers": dict(self.headers), "body": body})
        type(self).arrived.set()
        type(self).gate.wait(timeout=120)
        try:
            self.send_response(200)
            self.end_headers()
        except OSError:
            pass  # the worker that sent it was killed meanwhile

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[tuple[str, type[HoldingReceiver]]]:
    handler = type(
        "Held",
        (HoldingReceiver,),
        {"deliveries": [], "arrived": threading.Event(), "gate": threading.Event()},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/deal", handler
    handler.gate.set()
    server.shutdown()
    server.server_close()


def crm_on(pool: WorkerPool, tenant: TenantFixture, url: str) -> TenantFixture:
    """The tenant acting through the pool's app, with an automation that creates a task
    and then calls the webhook at ``url`` for every new opportunity."""
    crm = dataclasses.replace(tenant, app=pool.app)
    for definition in (CRM_OPPORTUNITY, CRM_TASK):
        assert crm.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    add_automation(
        crm,
        {
            "api_name": "kickoff",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {
                    "type": "create_record",
                    "object": "Task",
                    "values": {"Subject": '"Kick-off: " & Name', "Opportunity": "Id"},
                },
                {"type": "call_webhook", "url": url, "secret": SECRET, "payload": {"name": "Name"}},
            ],
        },
    )
    return crm


def sweep(pool: WorkerPool) -> None:
    """What the beat schedule does every few seconds: dispatch events, re-send stale runs."""
    pool.app.extensions["celery"].send_task("trellis.dispatch_events").get(timeout=60)


def stale_run_ids(pool: WorkerPool) -> set[int]:
    return {
        run_id for _, run_id in stale_runs(pool.app.extensions["trellis"].database, max_attempts=2)
    }


def test_a_worker_killed_mid_run_is_replaced_and_nothing_is_doubled(
    worker_pool: Any, tenant: TenantFixture, receiver: Any
) -> None:
    url, handler = receiver
    pool = worker_pool()
    crm = crm_on(pool, tenant, url)
    first = pool.start()
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Acme"})
    # The task is created and committed; the worker now waits on the webhook.
    assert handler.arrived.wait(timeout=60)
    [run] = runs(crm)
    assert run["status"] == "running" and run["actions_done"] == [0] and run["attempts"] == 1
    # A slow but alive worker holds the run's lease: the sweep leaves its run alone.
    assert run["id"] not in stale_run_ids(pool)

    first.send_signal(signal.SIGKILL)
    first.wait()
    # PostgreSQL drops the dead worker's lease with its connection.
    assert wait_for(lambda: run["id"] in stale_run_ids(pool))
    handler.gate.set()
    assert runs(crm)[0]["status"] == "running"  # nobody finishes it on their own
    pool.start()
    sweep(pool)

    [done] = wait_for(lambda: runs(crm, status="succeeded"))
    assert done["id"] == run["id"] and done["attempts"] == 2 and done["actions_done"] == [0, 1]
    tasks = records(crm, "Task")
    assert [task["Subject"] for task in tasks] == ["Kick-off: Acme"]
    # Delivered again after the crash (at least once), with the same delivery id.
    assert len(handler.deliveries) == 2
    assert {d["headers"]["X-Trellis-Delivery"] for d in handler.deliveries} == {f"{run['id']}:1"}
    for delivery in handler.deliveries:
        assert verify(
            SECRET,
            delivery["headers"]["X-Trellis-Timestamp"],
            delivery["headers"]["X-Trellis-Signature"],
            delivery["body"],
        )
        assert json.loads(delivery["body"])["data"] == {"name": "Acme"}

    # The killed worker's message is still unacknowledged in Redis and comes back once
    # the broker's visibility timeout passes: that redelivery changes nothing.
    again = (
        pool.app.extensions["celery"]
        .send_task("trellis.run_automation", args=[str(tenant.id), run["id"]])
        .get(timeout=60)
    )
    assert again == "succeeded"
    assert len(records(crm, "Task")) == 1 and len(handler.deliveries) == 2
    assert runs(crm)[0]["attempts"] == 2


def test_a_worker_killed_on_the_last_attempt_leaves_a_dead_run_to_replay(
    worker_pool: Any, tenant: TenantFixture, receiver: Any
) -> None:
    url, handler = receiver
    pool = worker_pool(automation_max_attempts=1)
    crm = crm_on(pool, tenant, url)
    first = pool.start()
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Hooli"})
    assert handler.arrived.wait(timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    handler.gate.set()
    pool.start()
    # A run that kills its worker on every attempt must not loop: the sweep gives up.
    wait_for(lambda: sweep(pool) or runs(crm, status="dead"))
    [dead] = runs(crm)
    assert dead["status"] == "dead" and dead["attempts"] == 1
    assert "stopped before it finished" in dead["error"]
    assert crm.api("POST", f"/api/v1/automation-runs/{dead['id']}/replay").status_code == 202
    [done] = wait_for(lambda: runs(crm, status="succeeded"))
    assert done["actions_done"] == [0, 1]
    assert len(records(crm, "Task")) == 1
    assert {d["headers"]["X-Trellis-Delivery"] for d in handler.deliveries} == {f"{dead['id']}:1"}


class RedisServer:
    """A Redis server of the test's own, to stop and restart (the shared one stays up).
    It keeps nothing on disk: a restart loses every queued message, as a crash would."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(lambda: _answers(self.port), timeout=30)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def test_redis_stopped_during_a_burst_every_automation_runs_once(
    worker_pool: Any, tenant: TenantFixture, receiver: Any, own_redis: RedisServer, tmp_path: Path
) -> None:
    url, handler = receiver
    handler.gate.set()  # this receiver answers at once
    pool = worker_pool(redis_url=own_redis.url)
    crm = crm_on(pool, tenant, url)
    # With beat, as deployed: the periodic sweep is what recovers the lost hand-offs.
    pool.start("--beat", "--schedule", str(tmp_path / "celerybeat-schedule"))

    def create(names: list[str]) -> None:
        for name in names:
            response = crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": name})
            assert response.status_code == 201  # writes never depend on Redis

    before, during, after = (
        [f"{part}-{n}" for n in range(8)] for part in ("before", "during", "after")
    )
    create(before)
    own_redis.kill()  # in the middle of the burst: queued messages are lost with it
    create(during)
    own_redis.start()
    create(after)
    names = before + during + after

    def settled() -> bool:
        done = runs(crm, status="succeeded", limit="100")
        return len(done) == len(names)

    assert wait_for(settled, timeout=180)
    subjects = sorted(task["Subject"] for task in records(crm, "Task", "limit=100"))
    assert subjects == sorted(f"Kick-off: {name}" for name in names)
    assert len(runs(crm, limit="100")) == len(names)
    # Deliveries are at least once; by their ids, exactly one per run.
    by_id: dict[str, set[str]] = {}
    for delivery in handler.deliveries:
        by_id.setdefault(delivery["headers"]["X-Trellis-Delivery"], set()).add(
            json.loads(delivery["body"])["data"]["name"]
        )
    assert len(by_id) == len(names)
    assert sorted(name for delivered in by_id.values() for name in delivered) == sorted(names)
