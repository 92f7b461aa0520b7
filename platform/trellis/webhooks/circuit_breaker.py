"""The per-destination circuit breaker in Redis: after repeated failures, outbound calls to
a destination are refused for a cooldown instead of piling up on a server that is down."""

from __future__ import annotations

import redis

from trellis.config import Config

# One hash per destination: ``failures`` (consecutive), ``opened_until`` (set once
# the circuit opens) and ``trial_until`` (the lease of the one half-open trial).
# Scripts make each step atomic across workers and use Redis's clock, so workers
# with skewed clocks agree on when a cooldown ends.
_ALLOW = """
local opened_until = redis.call('HGET', KEYS[1], 'opened_until')
if not opened_until then return 1 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
if now < tonumber(opened_until) then return 0 end
local trial_until = redis.call('HGET', KEYS[1], 'trial_until')
if trial_until and now < tonumber(trial_until) then return 0 end
redis.call('HSET', KEYS[1], 'trial_until', tostring(now + tonumber(ARGV[1])))
return 1
"""

_RECORD_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= tonumber(ARGV[1]) then
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
  redis.call('HSET', KEYS[1], 'opened_until', tostring(now + tonumber(ARGV[2])))
  redis.call('HDEL', KEYS[1], 'trial_until')
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return failures
"""

# Failure counts of a destination nobody calls any more disappear after a day.
_IDLE_EXPIRY_SECONDS = 86400


class CircuitBreaker:
    """Stop calling a destination after ``failures`` consecutive failures.

    Closed: calls pass. Open (after ``failures`` in a row): calls are refused for
    ``cooldown_seconds``. Half-open (after the cooldown): one trial call passes; its
    success closes the circuit, its failure opens it for another cooldown. A trial
    whose outcome is never recorded (a crashed worker) frees its slot after one more
    cooldown.
    """

    def __init__(
        self, client: redis.Redis, *, prefix: str, failures: int = 5, cooldown_seconds: float = 60
    ) -> None:
        if failures < 1 or cooldown_seconds <= 0:
            raise ValueError("failures must be at least 1 and cooldown_seconds positive")
        self.client = client
        self.prefix = prefix
        self.failures = failures
        self.cooldown_seconds = cooldown_seconds
        self._allow = client.register_script(_ALLOW)
        self._record_failure = client.register_script(_RECORD_FAILURE)

    @classmethod
    def from_config(cls, client: redis.Redis, config: Config) -> CircuitBreaker:
        """The breaker of an app: its Redis namespace and the ``circuit_*`` settings."""
        return cls(
            client,
            prefix=f"{config.redis_namespace}:circuit",
            failures=config.circuit_failures,
            cooldown_seconds=config.circuit_cooldown_seconds,
        )

    def _key(self, destination: str) -> str:
        return f"{self.prefix}:{destination}"

    def allow(self, destination: str) -> bool:
        """Whether a call may go out now (in half-open state, claims the one trial)."""
        return bool(self._allow(keys=[self._key(destination)], args=[self.cooldown_seconds]))

    def record_success(self, destination: str) -> None:
        self.client.delete(self._key(destination))

    def record_failure(self, destination: str) -> None:
        self._record_failure(
            keys=[self._key(destination)],
            args=[
                self.failures,
                self.cooldown_seconds,
                int(self.cooldown_seconds) + _IDLE_EXPIRY_SECONDS,
            ],
        )
