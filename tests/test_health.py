"""Liveness, readiness and metrics."""
from __future__ import annotations

from flask import Flask


def test_healthz_and_readyz(client) -> None:  # noqa: ANN001
    assert client.get("/healthz").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_fails_when_redis_is_unreachable(make_app) -> None:  # noqa: ANN001
    app: Flask = make_app(redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok" and checks["redis"].startswith("unavailable")


def test_metrics_count_requests(client) -> None:  # noqa: ANN001
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'trellis_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in text
    assert "trellis_http_request_seconds_bucket" in text
