"""Tasks run on a real worker through real Redis, inside the app context."""
from __future__ import annotations

from typing import Any

from flask import Flask

from trellis.migrate import current_revision


def test_ping_task_runs_on_a_worker(worker_app: Flask, celery_worker: Any) -> None:
    result = celery_worker.tasks["trellis.ping"].delay("hello")
    answer = result.get(timeout=30)
    assert answer == {"pong": "hello", "schema": current_revision(worker_app.extensions["trellis"].database)}
    assert celery_worker.conf.task_always_eager is False
