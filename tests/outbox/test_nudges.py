"""Worker nudges through the Redis list: web processes push task names, workers send
the Celery tasks."""

from __future__ import annotations

import threading
import uuid

from flask import Flask
from helpers import wait_for

from trellis.outbox.nudges import LIST_LIMIT, LIST_TTL_SECONDS, ListNudges, Nudger, listener_step


def test_a_listener_sends_each_named_task_once_per_batch(app: Flask) -> None:
    redis = app.extensions["trellis"].redis
    key = f"test-nudges-{uuid.uuid4().hex}"
    sent: list[str] = []
    arrived = threading.Event()

    def send_task(name: str) -> None:
        sent.append(name)
        arrived.set()

    push = ListNudges(redis, key)
    for name in ("b", "a", "b", "a"):  # waiting before any listener: one batch
        push(name)
    listener = listener_step(redis, key, send_task)(None)
    listener.start(None)
    try:
        wait_for(lambda: len(sent) >= 2)
        assert sorted(sent) == ["a", "b"] and redis.llen(key) == 0
        arrived.clear()
        Nudger(push, interval=0.001).request("c")  # through the coalescing thread
        assert arrived.wait(30)
        assert sent[2:] == ["c"]
    finally:
        listener.stop(None)
        redis.delete(key)


def test_with_no_worker_listening_the_list_stays_short(app: Flask) -> None:
    redis = app.extensions["trellis"].redis
    key = f"test-nudges-{uuid.uuid4().hex}"
    push = ListNudges(redis, key)
    try:
        for index in range(LIST_LIMIT + 30):
            push(f"task-{index}")
        assert redis.llen(key) == LIST_LIMIT
        assert 0 < redis.ttl(key) <= LIST_TTL_SECONDS
        assert redis.lindex(key, -1) == f"task-{LIST_LIMIT + 29}".encode()
    finally:
        redis.delete(key)
