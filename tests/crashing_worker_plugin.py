"""A plugin whose worker bootstep fails the first time a worker starts (a marker file
remembers it): Celery stops on it as on any unrecoverable error."""

from __future__ import annotations

import os
from typing import Any

from celery import bootsteps

from trellis.hookspecs import hookimpl


class FailFirstStart(bootsteps.StartStopStep):
    def start(self, worker: Any) -> None:
        marker = os.environ["TRELLIS_TEST_CRASH_MARKER"]
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("the first start fails")


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    celery.steps["worker"].add(FailFirstStart)
