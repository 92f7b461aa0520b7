"""With Redis gone, requests answer at once and clearly: logins 503, metadata writes succeed.

Redis is down here in the plainest way, a local port nothing listens on, so every
attempt fails at once, or hung: a server that accepts connections and never answers.
The breaker's counters and the connections the server saw (never timings) show which
requests tried.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from conftest import TenantFixture
from factories import SALES_ACCOUNT
from flask import Flask
from helpers import assert_envelope

from trellis.errors import ServiceUnavailable
from trellis.redis_client import RedisBreaker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def redis_down_app(make_app) -> Flask:
    return make_app(redis_url=f"redis://127.0.0.1:{_free_port()}/0")


class HungRedis:
    """Accepts connections and never answers, like a Redis stuck or behind a dead link.

    After ``hang_seconds`` it closes a connection, so that a client without timeouts
    fails the test (with a closed connection rather than a timeout) instead of hanging it.
    """

    def __init__(self, hang_seconds: float = 10) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.hang_seconds = hang_seconds
        self.connections: list[tuple[socket.socket, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"

    @property
    def accepted(self) -> int:
        return len(self.connections)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                self.connections.append((self.listener.accept()[0], time.monotonic()))
            for connection, accepted_at in self.connections:
                if time.monotonic() - accepted_at > self.hang_seconds:
                    connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        for connection, _ in self.connections:
            connection.close()
        self.listener.close()


@pytest.fixture()
def hung_redis() -> Iterator[HungRedis]:
    server = HungRedis()
    yield server
    server.stop()


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
    created = tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT, app=redis_down_app)
    assert created.status_code == 201, created.get_json()
    # The request's rate limit tried Redis once and let it through; the index build's
    # nudge then skipped Redis (the periodic task builds the index).
    assert breaker.failures == 1 and breaker.refused == 1
    field = {"api_name": "Phone", "type": "text"}
    added = tenant.api(
        "POST", "/api/v1/meta/objects/Account/fields", json=field, app=redis_down_app
    )
    assert added.status_code == 201, added.get_json()
    # Both skipped it this time: the rate limit and the nudge.
    assert breaker.failures == 1 and breaker.refused == 3
    listed = tenant.api("GET", "/api/v1/meta/objects/Account", app=redis_down_app).get_json()
    assert [f["api_name"] for f in listed["fields"]] == ["Name", "Phone"]


def test_a_hung_redis_times_out_and_is_then_skipped(
    make_app, hung_redis: HungRedis, tenant: TenantFixture
) -> None:
    app: Flask = make_app(redis_url=hung_redis.url)
    state = app.extensions["trellis"]
    with pytest.raises(redis.TimeoutError):  # the client gives up rather than wait
        state.redis.ping()
    client = app.test_client()
    assert client.post("/login", data=_login_form(client, tenant)).status_code == 503
    assert state.redis_breaker.failures == 1
    tried = hung_redis.accepted
    assert tried >= 1
    created = tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT, app=app)
    assert created.status_code == 201, created.get_json()
    assert client.post("/login", data=_login_form(client, tenant)).status_code == 503
    # Neither the write (its rate limit, its nudge) nor the second login opened a
    # connection to Redis.
    assert hung_redis.accepted == tried
    assert state.redis_breaker.refused == 3


def test_a_nudge_gives_up_on_a_hung_redis(
    make_app, hung_redis: HungRedis, tenant: TenantFixture, caplog: pytest.LogCaptureFixture
) -> None:
    """Celery's publisher has timeouts too: the write's nudge times out, once."""
    app: Flask = make_app(redis_url=hung_redis.url)
    logger = logging.getLogger("trellis.redis_client")  # the app's logging does not propagate
    logger.addHandler(caplog.handler)
    try:
        created = tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT, app=app)
    finally:
        logger.removeHandler(caplog.handler)
    assert created.status_code == 201, created.get_json()
    assert app.extensions["trellis"].redis_breaker.failures == 1
    outage = [r.getMessage() for r in caplog.records if r.name == "trellis.redis_client"]
    assert len(outage) == 1 and "timeout" in outage[0].lower(), outage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_tries_again_after_its_pause() -> None:
    clock = Clock()
    breaker = RedisBreaker(5, clock=clock)
    with pytest.raises(ServiceUnavailable) as failed, breaker.guard():
        raise redis.ConnectionError("refused")
    assert failed.value.retry_after == 5 and breaker.is_open
    clock.now = 3.5
    ran = False
    with pytest.raises(ServiceUnavailable) as refused, breaker.guard():
        ran = True
    assert not ran and refused.value.retry_after == 2
    clock.now = 5.0  # the pause is over: calls go through, and one failure reopens it
    with breaker.guard():
        ran = True
    assert ran and not breaker.is_open
    with pytest.raises(ServiceUnavailable), breaker.guard():
        raise redis.TimeoutError("no reply")
    assert breaker.is_open and (breaker.failures, breaker.refused) == (2, 1)
    clock.now = 10.0
    with pytest.raises(redis.ResponseError), breaker.guard():  # a bug, not an outage
        raise redis.ResponseError("wrong number of arguments")
    assert not breaker.is_open and breaker.failures == 2
