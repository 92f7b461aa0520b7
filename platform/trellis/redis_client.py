"""Redis as the app reaches it: short timeouts, and a breaker that skips it after a failure.

No request may wait on Redis: what must survive an outage is already in PostgreSQL
(record events in the outbox, planned indexes), so a lost worker nudge costs only
the wait for the periodic sweep, and logins answer 503 (see trellis.views.ui). Every
connect and reply therefore gives up after ``redis_timeout_seconds``, and after a
failure :class:`RedisBreaker` skips Redis for ``redis_pause_seconds`` instead of
letting every request find out again.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator

import kombu.exceptions
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from trellis.errors import ServiceUnavailable

log = logging.getLogger(__name__)

# What an outage looks like to redis-py, and to kombu (which publishes Celery's messages).
OUTAGES: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
)


def connect(url: str, timeout_seconds: float, *, blocking_seconds: float = 0) -> redis.Redis:
    """A client whose connects and replies give up after ``timeout_seconds``; one that runs
    blocking commands (BLPOP) passes the longest they block as ``blocking_seconds``."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds + blocking_seconds,
        # One immediate retry replaces a pooled connection the server has closed (a Redis
        # restart); more, a backoff, or retrying a timeout would only multiply the wait.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


class RedisBreaker:
    """Per process: after a call to Redis fails, refuse calls for ``pause_seconds``.

    trellis.webhooks.outbound.CircuitBreaker keeps its state in Redis so that all workers
    share it; this one cannot keep state in what it guards, and needs not: every process
    sees a Redis outage alike. After the pause the next calls try again (no single trial:
    with short timeouts a few concurrent tries cost little), and a failure reopens it.
    ``failures`` counts calls that tried and failed, ``refused`` calls skipped meanwhile.
    """

    def __init__(self, pause_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.pause_seconds = pause_seconds
        self.failures = 0
        self.refused = 0
        self._clock = clock
        self._open_until = -math.inf
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._clock() < self._open_until

    def _unavailable(self) -> ServiceUnavailable:
        wait = max(1, math.ceil(self._open_until - self._clock()))
        return ServiceUnavailable("Redis is unavailable.", retry_after=wait)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Run the block's Redis calls; raise :class:`ServiceUnavailable` for an outage, and
        at once, without trying, while the breaker is open."""
        if self.is_open:
            with self._lock:
                self.refused += 1
            raise self._unavailable()
        try:
            yield
        except OUTAGES as error:
            with self._lock:
                self.failures += 1
                self._open_until = self._clock() + self.pause_seconds
            log.warning("Redis unavailable (%s); skipping it for %ss", error, self.pause_seconds)
            raise self._unavailable() from error
