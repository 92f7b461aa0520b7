"""Liveness, readiness and metrics."""

from __future__ import annotations

from flask import Flask


def test_healthz_and_readyz(client) -> None:
    assert client.get("/healthz").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_fails_when_redis_is_unreachable(make_app) -> None:
    app: Flask = make_app(redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok" and checks["redis"].startswith("unavailable")


def test_metrics_count_requests(client) -> None:
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'trellis_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in text
    assert "trellis_http_request_seconds_bucket" in text


def test_a_dropped_database_connection_is_replaced_unseen(
    make_app, tenant, pg_engine, database_url: str
) -> None:
    """The app engine has no per-checkout ping: a pooled connection the server dropped (a
    restart, an idle timeout) is found by the first statement and replaced, once."""
    import sqlalchemy as sa

    url = database_url
    application_name = f"drop-test-{tenant.id.hex[:8]}"
    app: Flask = make_app(
        database_url=f"{url}{'&' if '?' in url else '?'}application_name={application_name}"
    )
    assert tenant.api("GET", "/api/v1/me", app=app).status_code == 200
    with pg_engine.connect() as connection:
        dropped = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": application_name},
        ).scalar_one()
    assert dropped >= 1
    for _ in range(3):  # every pooled connection was dropped; each request still succeeds
        response = tenant.api("GET", "/api/v1/me", app=app)
        assert response.status_code == 200, response.get_json()
