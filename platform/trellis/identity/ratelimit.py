"""Rate limiting in Redis: failed logins per account and address, and API requests per
token or user.

**Logins** count failures in a fixed window per account and per address.

Counting failures (not attempts) means a user who logs in correctly is never
slowed down, while guessing is capped at ``attempts`` per window per account. An
address gets ten times that, since offices share one address behind NAT.

Second-factor codes count in the same windows as passwords (one budget of guesses per
account, whichever factor is guessed), at sign-in and wherever a signed-in user proves
the factor again (switching it off, new recovery codes).

**API requests** follow GCRA (the generic cell rate algorithm): each key holds one
number, the "theoretical arrival time" by which its budget is whole again, moved on by
``window / limit`` per request. Unlike a fixed window it allows no double burst at a
window's edge (a full budget just before and again just after), and unlike a sliding log
it stores one value per key instead of one per request. One Lua script reads and moves
it, so concurrent requests from any number of web processes share one budget exactly;
the script takes its clock from Redis (``TIME``), so the web hosts' clocks never matter.
It uses only commands of Redis 6.2 (the embedded Redis).

Every call goes through the app's :class:`~trellis.redis_client.RedisBreaker`, so with
Redis down each method raises :class:`~trellis.errors.ServiceUnavailable` at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import redis

from trellis.errors import RateLimited
from trellis.redis_client import RedisBreaker
from trellis.state import get_state


class LoginLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        breaker: RedisBreaker,
        attempts: int,
        window_seconds: int,
        prefix: str,
    ) -> None:
        self.client = client
        self.breaker = breaker
        self.attempts = attempts
        self.window = window_seconds
        self.prefix = prefix

    def _keys(self, keys: Sequence[str]) -> list[str]:
        return [f"{self.prefix}:{key}" for key in keys]

    def keys_for(self, account: str, address: str | None) -> list[str]:
        return [f"account:{account}", f"address:{address}"]

    def check(self, keys: Sequence[str]) -> None:
        """Raise :class:`RateLimited` if any key has used up its failures."""
        full_keys = self._keys(keys)
        with self.breaker.guard():
            counts = self.client.mget(full_keys)
        for key, count in zip(full_keys, counts, strict=True):
            limit = self.attempts * (10 if ":address:" in key else 1)
            if count is not None and int(count) >= limit:
                with self.breaker.guard():
                    retry_after = max(int(self.client.ttl(key)), 1)
                raise RateLimited(
                    "Too many failed logins. Try again later.", retry_after=retry_after
                )

    def record_failure(self, keys: Sequence[str]) -> None:
        # The window starts at the first failure: SET NX creates the counter with its
        # expiry only when it is new, INCR keeps that expiry. (EXPIRE ... NX would say the
        # same in one command, but only from Redis 7; the embedded Redis is 6.2.) MULTI
        # makes the pair atomic, so no counter is ever left without an expiry.
        pipeline = self.client.pipeline()
        for key in self._keys(keys):
            pipeline.set(key, 0, ex=self.window, nx=True)
            pipeline.incr(key)
        with self.breaker.guard():
            pipeline.execute()

    def reset(self, keys: Sequence[str]) -> None:
        with self.breaker.guard():
            self.client.delete(*self._keys(keys))


# KEYS[1]: the budget's key. ARGV: the requests allowed per window, the window in
# microseconds. Returns {allowed (1/0), remaining, microseconds until the budget is whole
# (allowed) or until the next request may go (refused)}. Redis replicates the script's
# effects (the SET), so reading TIME before writing is allowed (the default since 5.0).
# Times are microseconds in doubles: exact integers up to 2^53, beyond any clock here
# (near today's clock their spacing is 0.25 µs, so a budget of more than about 200
# million a minute counts as unlimited, and the expiry is kept at 1 ms or more);
# the 1e-6 keeps a division that should be whole from rounding down.
GCRA_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
local next_arrival = arrival + interval
local allowed_at = next_arrival - window
if allowed_at > now then
  return {0, 0, math.ceil(allowed_at - now)}
end
local debt = next_arrival - now
redis.call('SET', KEYS[1], string.format('%.3f', next_arrival), 'PX',
  math.max(1, math.ceil(debt / 1000)))
return {1, math.floor((window - debt) / interval + 1e-6), math.ceil(debt)}
"""


@dataclasses.dataclass(frozen=True)
class Decision:
    """One request's place in its budget: whether it may go on, what is left, and in how
    many seconds the budget is whole again (allowed) or the next request may go (refused)."""

    allowed: bool
    remaining: int
    reset_seconds: int


class RequestLimiter:
    """Requests per ``window_seconds`` per key (an API token, a user), shared by every
    process through Redis."""

    def __init__(
        self, client: redis.Redis, *, breaker: RedisBreaker, window_seconds: int, prefix: str
    ) -> None:
        self.breaker = breaker
        self.window = window_seconds
        self.prefix = prefix
        self.script = client.register_script(GCRA_SCRIPT)

    def spend(self, key: str, limit: int) -> Decision:
        """Count one request against ``key``'s budget of ``limit`` per window."""
        with self.breaker.guard():
            allowed, remaining, wait = self.script(
                keys=[f"{self.prefix}:{key}"], args=[limit, self.window * 1_000_000]
            )
        return Decision(bool(allowed), int(remaining), max(1, math.ceil(int(wait) / 1_000_000)))


def request_limiter() -> RequestLimiter:
    """The app's limiter of API requests (one a minute-long window)."""
    state = get_state()
    return RequestLimiter(
        state.redis,
        breaker=state.redis_breaker,
        window_seconds=60,
        prefix=f"{state.config.redis_namespace}:requests",
    )


def login_limiter() -> LoginLimiter:
    """The app's limiter for sign-in attempts."""
    state = get_state()
    return LoginLimiter(
        state.redis,
        breaker=state.redis_breaker,
        attempts=state.config.login_attempts,
        window_seconds=state.config.login_window_seconds,
        prefix=f"{state.config.redis_namespace}:login",
    )


def account_key(tenant: str, email: str) -> str:
    """The per-account part of the limiter's keys: the workspace and email as typed."""
    return f"{tenant}:{email.lower()}"
