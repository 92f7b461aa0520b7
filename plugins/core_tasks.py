"""Built-in Celery tasks."""
from __future__ import annotations

from typing import Any

from trellis.hookspecs import hookimpl


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name="trellis.ping", shared=False)
    def ping(payload: str = "") -> dict:
        """Smoke task: answers from inside the app context with the database revision."""
        from trellis.migrate import current_revision
        from trellis.state import get_state

        return {"pong": payload, "schema": current_revision(get_state().database)}
