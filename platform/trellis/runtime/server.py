"""Serving the web app: one waitress process, or several gunicorn worker processes.

A Python process runs one thread at a time, so one process uses about one core however
many threads it has. ``processes > 1`` pre-forks gunicorn workers (threaded, like
waitress) that share the listening socket; each builds its own app, database pool and
Redis connections after the fork, so nothing is shared between them but the socket.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask


def serve(
    make_app: Callable[[], Flask],
    *,
    host: str,
    port: int,
    threads: int,
    processes: int = 1,
    ident: str = "trellis",
    quiet: bool = False,
) -> None:
    """Serve ``make_app()`` on ``host:port`` until interrupted."""
    if processes <= 1:
        import waitress

        # waitress warns "Task queue depth is N" whenever a request waits for a free thread,
        # which under steady load is nearly every request: noise, and a cost per request.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

        waitress.serve(
            settled(make_app()), host=host, port=port, threads=threads, ident=ident, _quiet=quiet
        )
        return
    from gunicorn.app.base import BaseApplication

    class Workers(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": processes,
                "threads": threads,
                "worker_class": "gthread",
                "proc_name": ident,
                "loglevel": "warning" if quiet else "info",
                "accesslog": None,
                # No runtime control socket (gunicorn 24+): one fixed path per
                # user, which a second server on the machine would contend for.
                "control_socket_disable": True,
            }
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return settled(make_app())

    Workers().run()


def settled(app: Flask) -> Flask:
    """``app``, with everything built so far moved out of the garbage collector's reach.

    A built app holds over a hundred thousand long-lived objects (modules, SQLAlchemy
    tables, grammars, compiled metadata). Each full collection, which sustained writes
    trigger every second or so, would walk all of them again; frozen, they are skipped
    (and a forked worker's copy of them stays shared with its parent)."""
    gc.collect()
    gc.freeze()
    return app
