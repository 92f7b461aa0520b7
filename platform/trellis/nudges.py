"""Coalesced worker nudges: one Celery message for many record writes.

Every record write commits an outbox event, and the worker should dispatch it at
once rather than at the next periodic sweep. Sending a Celery message per write
would cost each request a Redis round trip and kombu's serialisation, more than
the write's own SQL. Instead a write *requests* a nudge; a background thread sends
one message at most every ``window`` seconds for everything requested meanwhile.
Each message is sent after the commits that requested it, so the dispatcher it
wakes sees their events; a lost message loses nothing (the periodic sweep remains).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Nudger:
    def __init__(self, send: Callable[[str], None], window: float = 0.01) -> None:
        self._send = send
        self._window = window
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def request(self, task: str) -> None:
        """Have ``task`` sent soon, after this call (the caller has committed)."""
        with self._lock:
            self._pending.add(task)
            # A forked server process inherits the object but not the thread.
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="trellis-nudger",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._window)        # let the writes of this window join in
            with self._lock:
                self._wake.clear()
                tasks, self._pending = self._pending, set()
            for task in sorted(tasks):
                try:
                    self._send(task)
                except Exception:  # noqa: BLE001 - durable work; the sweep picks it up
                    log.warning("could not enqueue %s", task, exc_info=True)
