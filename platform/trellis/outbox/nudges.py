"""Coalesced worker nudges: one message for many record writes.

Every record write commits an outbox event, and the worker should dispatch it at
once rather than at the next periodic sweep. Sending a Celery message per write
would cost each request a Redis round trip and kombu's serialisation, more than
the write's own SQL. Instead a write *requests* a nudge; a background thread sends
one message for everything requested meanwhile, at once after a quiet spell (a lone
write waits for nothing) and at most one per ``interval`` under sustained writes
(each message wakes a thread and costs a round trip: per window, not per write).
Each message is sent after the commits that requested it, so the dispatcher it
wakes sees their events; a lost message loses nothing (the periodic sweep remains).

Web processes send their nudges as task names pushed onto a short Redis list
(:class:`ListNudges`, one round trip) rather than as Celery messages (about a
millisecond of kombu per message, in the process that serves requests); in each
worker a :func:`listener_step` waits on the list and sends the Celery tasks.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import bootsteps
from flask import current_app

from trellis.state import get_state

# At most this many names wait on the list: with no worker listening it stays small, and
# it expires: a nudge nobody took within the hour is moot (the periodic sweep did the work).
LIST_LIMIT = 50
LIST_TTL_SECONDS = 3600
# How long a listener's BLPOP waits for a name (its client's read timeout must allow it).
LISTEN_SECONDS = 1

log = logging.getLogger(__name__)


class Nudger:
    def __init__(self, send: Callable[[str], None], interval: float = 0.05) -> None:
        self._send = send
        self._interval = interval
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
                self._thread = threading.Thread(
                    target=self._run, name="trellis-nudger", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        last_sent = -self._interval
        while True:
            self._wake.wait()
            # The requests that arrive meanwhile join this message.
            time.sleep(max(0.0, last_sent + self._interval - time.monotonic()))
            last_sent = time.monotonic()
            with self._lock:
                self._wake.clear()
                tasks, self._pending = self._pending, set()
            for task in sorted(tasks):
                try:
                    self._send(task)
                except Exception:
                    log.warning("could not enqueue %s", task, exc_info=True)


def schedule_event_dispatch() -> None:
    """After a request's record writes committed: have their outbox events dispatched
    now rather than at the next periodic sweep; many writes share one message. Every
    channel that writes records (the API, the screens) calls this."""
    extensions = current_app.extensions
    if "trellis.nudger" not in extensions:
        state = get_state()
        extensions["trellis.nudger"] = Nudger(
            ListNudges(state.redis, nudge_key(state.config.redis_namespace))
        )
    extensions["trellis.nudger"].request("trellis.dispatch_new_events")


def nudge_key(namespace: str) -> str:
    """The Redis list of a deployment's nudges (its namespace, like Celery's keys)."""
    return f"{namespace}:trellis:nudges"


class ListNudges:
    """A :class:`Nudger`'s ``send``: push the task name onto the nudge list."""

    def __init__(self, redis: Any, key: str) -> None:
        self._redis = redis
        self._key = key

    def __call__(self, task: str) -> None:
        pipeline = self._redis.pipeline(transaction=False)
        pipeline.rpush(self._key, task)
        pipeline.ltrim(self._key, -LIST_LIMIT, -1)
        pipeline.expire(self._key, LIST_TTL_SECONDS)
        pipeline.execute()


def listener_step(redis: Any, key: str, send_task: Callable[[str], Any]) -> type:
    """A worker bootstep whose thread turns the names on the nudge list into Celery tasks,
    each distinct name once per batch (workers share the list: each name wakes one)."""

    class NudgeListener(bootsteps.StartStopStep):
        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self._stopping = threading.Event()
            self._thread: threading.Thread | None = None

        def start(self, parent: Any) -> None:
            self._thread = threading.Thread(target=self._listen, name="trellis-nudges", daemon=True)
            self._thread.start()

        def stop(self, parent: Any) -> None:
            self._stopping.set()
            if self._thread is not None:
                self._thread.join(timeout=5)

        def _listen(self) -> None:
            while not self._stopping.is_set():
                try:
                    first = redis.blpop([key], timeout=LISTEN_SECONDS)
                    if first is None:
                        continue
                    pipeline = redis.pipeline()  # MULTI: take the rest atomically
                    pipeline.lrange(key, 0, -1)
                    pipeline.delete(key)
                    rest, _ = pipeline.execute()
                    for task in sorted({name.decode() for name in [first[1], *rest]}):
                        send_task(task)
                except Exception:
                    log.warning("nudge listener: Redis unavailable", exc_info=True)
                    self._stopping.wait(1)

    return NudgeListener
