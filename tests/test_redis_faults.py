"""With Redis gone, requests answer at once and clearly: logins 503, metadata writes succeed.

Redis is down here in the plainest way, a local port nothing listens on, so every
attempt fails at once; the breaker's counters (not timings) show which requests tried.
"""

from __future__ import annotations

import re
import socket

import pytest
from conftest import TenantFixture
from flask import Flask
from helpers import assert_envelope
from test_metadata_api import ACCOUNT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def redis_down_app(make_app) -> Flask:
    return make_app(redis_url=f"redis://127.0.0.1:{_free_port()}/0")


def _login_form(client, tenant: TenantFixture) -> dict[str, str]:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return {
        "csrf_token": token,
        "tenant": tenant.slug,
        "email": tenant.admin_email,
        "password": tenant.admin_password,
    }


def test_login_answers_503_when_redis_is_down(redis_down_app: Flask, tenant: TenantFixture) -> None:
    client = redis_down_app.test_client()
    form = _login_form(client, tenant)
    response = client.post("/login", data=form, headers={"Accept": "application/json"})
    body = assert_envelope(response, 503, "service_unavailable")
    assert "Sign-in is unavailable" in body["error"]
    assert int(response.headers["Retry-After"]) > 0
    # The browser's form: the sign-in page again, saying why.
    page = client.post("/login", data=form)
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "Sign-in is unavailable" in html and 'name="password"' in html
    assert int(page.headers["Retry-After"]) > 0
    assert_envelope(client.get("/api/v1/me"), 401)  # no session was started


def test_after_a_failure_requests_skip_redis(redis_down_app: Flask, tenant: TenantFixture) -> None:
    breaker = redis_down_app.extensions["trellis"].redis_breaker
    client = redis_down_app.test_client()
    assert client.post("/login", data=_login_form(client, tenant)).status_code == 503
    assert breaker.failures == 1 and breaker.refused == 0 and breaker.is_open
    assert client.post("/login", data=_login_form(client, tenant)).status_code == 503
    # The second login did not reach for Redis at all.
    assert breaker.failures == 1 and breaker.refused == 1


def test_metadata_writes_succeed_when_redis_is_down(
    redis_down_app: Flask, tenant: TenantFixture
) -> None:
    breaker = redis_down_app.extensions["trellis"].redis_breaker
    created = tenant.api("POST", "/api/v1/meta/objects", json=ACCOUNT, app=redis_down_app)
    assert created.status_code == 201, created.get_json()
    # The index build's nudge was tried once and skipped; the periodic task builds it.
    assert breaker.failures == 1
    field = {"api_name": "Phone", "type": "text"}
    added = tenant.api(
        "POST", "/api/v1/meta/objects/Account/fields", json=field, app=redis_down_app
    )
    assert added.status_code == 201, added.get_json()
    assert breaker.failures == 1 and breaker.refused == 1
    listed = tenant.api("GET", "/api/v1/meta/objects/Account", app=redis_down_app).get_json()
    assert [f["api_name"] for f in listed["fields"]] == ["Name", "Phone"]
