"""``trellis serve``, ``trellis demo``, ``trellis worker`` and ``trellis beat``.

``serve`` and ``demo`` own what they start (see trellis.runtime.supervisor): they build
the app inside the supervision, so embedded servers started while it is built are
stopped with the rest.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from trellis.cli.base import app_state, load_app
from trellis.runtime.supervisor import Supervisor, supervised
from trellis.state import AppState

_HOST = click.option("--host", default="127.0.0.1", show_default=True)
_PORT = click.option("--port", default=5000, show_default=True, type=int)


@click.command("serve")
@_HOST
@_PORT
@click.option(
    "--threads", default=8, show_default=True, type=int, help="Request threads per process."
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (more than one: gunicorn; about one per core).",
)
def serve(host: str, port: int, threads: int, processes: int) -> None:
    """Serve the web app (with the embedded Redis, also run a worker beside it).

    Ctrl-C or SIGTERM stops the web server, the worker, then the embedded servers."""
    with supervised() as supervisor:
        app = load_app()
        with app.app_context():
            _serve(supervisor, app, host, port, threads, processes)


@click.command("demo")
@_HOST
@_PORT
def demo(host: str, port: int) -> None:
    """Serve Trellis with the demo tenant and its example data loaded.

    Ctrl-C or SIGTERM stops the web server, the worker, then the embedded servers."""
    from trellis.cli.demo_tenant import load_demo
    from trellis.runtime.migrate import upgrade

    with supervised() as supervisor:
        app = load_app()
        with app.app_context():
            upgrade(app_state().database)
            for line in load_demo(app):
                click.echo(line)
            if ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
                # The demo is plain HTTP on this machine; Secure cookies would never be sent back.
                app.config["SESSION_COOKIE_SECURE"] = False
            _serve(supervisor, app, host, port, threads=8)


def _serve(
    supervisor: Supervisor, app: Flask, host: str, port: int, threads: int, processes: int = 1
) -> None:
    from trellis.runtime.app import create_app
    from trellis.runtime.server import serve as run_server

    state = app_state()
    if state.redis_embedded and state.config.embedded_worker:
        _start_embedded_worker(supervisor, state)
    click.echo(f"Trellis is serving on http://{host}:{port}")
    try:
        if processes > 1:
            # Each worker process builds its own app, on the servers this one resolved
            # (embedded ones included); this process's pool is not carried into them.
            # (``trellis demo`` relaxes cookie security on loopback: so do the workers.)
            state.database.dispose()
            config = state.config.replace(secure_cookies=app.config["SESSION_COOKIE_SECURE"])
            run_server(
                lambda: create_app(config),
                host=host,
                port=port,
                threads=threads,
                processes=processes,
            )
        else:
            run_server(lambda: app, host=host, port=port, threads=threads)
    finally:
        state.database.dispose()


def _start_embedded_worker(supervisor: Supervisor, state: AppState) -> None:
    """Run a Celery worker as a child process, sharing this process's embedded servers."""
    environment = dict(
        os.environ,
        TRELLIS_DATABASE_URL=state.config.database_url,
        TRELLIS_REDIS_URL=state.redis_url,
        TRELLIS_INSTANCE_PATH=state.config.instance_path,
        TRELLIS_SECRET_KEY=state.config.secret_key,
    )
    # --beat: the periodic outbox sweep and index reconciliation run in this worker too.
    schedule = os.path.join(state.config.instance_path, "celerybeat-schedule")
    supervisor.spawn(
        "worker",
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
            "--beat",
            "--schedule",
            schedule,
        ],
        environment,
    )


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to ``celery worker``); it restarts itself
    if Celery stops on an error (see trellis.runtime.worker_restart)."""
    from trellis.runtime.worker_restart import run_restarting

    celery = current_app.extensions["celery"]
    run_restarting(
        lambda: celery.start(["worker", *celery_args]),
        ["-m", "trellis.cli", "worker", *celery_args],
    )


@click.command("beat", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def beat(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, the scheduler of periodic tasks."""
    current_app.extensions["celery"].start(["beat", *celery_args])
