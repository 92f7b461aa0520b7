"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from trellis.observability import metrics_response
from trellis.state import get_state

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up and serving; says nothing about its dependencies."""
    return jsonify({"ok": True})


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database and Redis answer; a load balancer routes traffic only when both do."""
    state = get_state()
    checks: dict[str, str] = {}
    try:
        with state.database.platform() as connection:
            connection.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        state.redis.ping()
        checks["redis"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["redis"] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify({"ok": ready, "checks": checks}), 200 if ready else 503


@blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    return metrics_response(current_app)
