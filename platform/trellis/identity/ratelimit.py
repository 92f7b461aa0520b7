"""Login rate limiting in Redis: a fixed window of failures per account and per address.

Counting failures (not attempts) means a user who logs in correctly is never
slowed down, while guessing is capped at ``attempts`` per window per account. An
address gets ten times that, since offices share one address behind NAT.

Second-factor codes count in the same windows as passwords (one budget of guesses per
account, whichever factor is guessed), at sign-in and wherever a signed-in user proves
the factor again (switching it off, new recovery codes).

Every call goes through the app's :class:`~trellis.redis_client.RedisBreaker`, so with
Redis down each method raises :class:`~trellis.errors.ServiceUnavailable` at once.
"""

from __future__ import annotations

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
