"""Request ids, structured logs and Prometheus metrics.

Every request gets an id (a sane incoming ``X-Request-ID`` is kept so a proxy's id
follows the request through), echoed in the response header, attached to every
log line and to error envelopes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,128}")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, extras."""

    _standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {key: value for key, value in vars(record).items() if key not in self._standard}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return True


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("trellis")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False


def init_app(app: Flask) -> None:
    """Configure logging and give every request an id, security headers, metrics and an
    access log line."""
    config = app.extensions["trellis"].config
    configure_logging(config.log_level, config.log_json)
    access_log = logging.getLogger("trellis.access")
    # One registry per app, so that several apps in one process (tests) do not clash.
    registry = CollectorRegistry()
    metrics_for = _request_metrics(registry)
    app.extensions["trellis_metrics"] = registry

    @app.before_request
    def start_request() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response: Response) -> Response:
        headers = response.headers
        headers["X-Request-ID"] = g.get("request_id", "")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        count, seconds = metrics_for(request.method, endpoint, response.status_code)
        count.inc()
        seconds.observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
        return response


def _request_metrics(
    registry: CollectorRegistry,
) -> Callable[[str, str, int], tuple[Any, Any]]:
    """The request counter and latency histogram in ``registry``, as a lookup of one
    route's pair of children by method, endpoint and status."""
    requests_total = Counter(
        "trellis_http_requests_total",
        "HTTP requests.",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "trellis_http_request_seconds",
        "HTTP request latency.",
        ["method", "endpoint"],
        registry=registry,
    )
    # labels() validates and locks on every call; a route's children are reused instead.
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def metrics_for(method: str, endpoint: str, status: int) -> tuple[Any, Any]:
        key = (method, endpoint, status)
        found = children.get(key)
        if found is None:
            found = children[key] = (
                requests_total.labels(method, endpoint, status),
                latency.labels(method, endpoint),
            )
        return found

    return metrics_for


def metrics_response(app: Flask) -> Response:
    return Response(
        generate_latest(app.extensions["trellis_metrics"]), mimetype=CONTENT_TYPE_LATEST
    )
