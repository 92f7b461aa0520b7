"""Tasks run on a real worker through real Redis, inside the app context."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from trellis.runtime.migrate import current_revision


def test_ping_task_runs_on_a_worker(worker_app: Flask, celery_worker: Any) -> None:
    result = celery_worker.tasks["trellis.ping"].delay("hello")
    answer = result.get(timeout=30)
    assert answer == {
        "pong": "hello",
        "schema": current_revision(worker_app.extensions["trellis"].database),
    }
    assert celery_worker.conf.task_always_eager is False


def test_a_worker_that_celery_stops_on_an_error_starts_over(
    worker_pool, tmp_path, monkeypatch, test_settings
) -> None:
    """Celery gives up on an unrecoverable error (kombu can raise one when Redis goes
    away mid-task); ``trellis worker`` starts over in the same process and serves."""
    tests = str(Path(__file__).resolve().parents[1])  # where crashing_worker_plugin is
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    marker = tmp_path / "crashed"
    monkeypatch.setenv("TRELLIS_TEST_CRASH_MARKER", str(marker))
    pool = worker_pool(plugin_modules=f"{test_settings['plugin_modules']},crashing_worker_plugin")
    process = pool.start(wait=False)
    celery = pool.app.extensions["celery"]
    assert celery.tasks["trellis.ping"].delay("again").get(timeout=120)["pong"] == "again"
    assert marker.exists()  # the first start did fail...
    assert process.poll() is None  # ...and the same process serves now
