"""Outbound HTTP: the one way Trellis calls other servers (automation webhooks, subscriptions).

Every call is signed, checked against server-side request forgery, bounded in time,
never redirected, and guarded by a per-destination circuit breaker in Redis.

**Signatures.** Each request carries ``X-Trellis-Timestamp`` (Unix seconds) and
``X-Trellis-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's
secret of ``f"{timestamp}."`` followed by the raw request body. A receiver:

1. reads the raw body bytes (before any JSON parsing, which would change them);
2. refuses the request when the timestamp is more than five minutes from its own
   clock (the replay window: a captured request cannot be replayed later);
3. computes the HMAC over ``timestamp + "." + body`` with the shared secret and
   compares it to the header in constant time (``hmac.compare_digest``);
4. optionally remembers signatures seen within the window to refuse exact replays.

:func:`verify` does exactly that, for Python receivers and for tests.

**Destinations.** :func:`check_destination` resolves the host and refuses loopback,
private, link-local, multicast, reserved, unspecified and other non-global addresses
(IPv4 addresses embedded in IPv6 included), so a tenant cannot point a webhook at
the cloud metadata service or at Trellis's own Redis. :func:`deliver` then connects
to the very addresses it checked (no second DNS lookup an attacker could answer
differently), while still sending the original ``Host`` header and, over HTTPS, the
original name for SNI and certificate verification.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import redis

from trellis.config import Config
from trellis.errors import TrellisError

USER_AGENT = "Trellis-Webhooks/1"
TIMESTAMP_HEADER = "X-Trellis-Timestamp"
SIGNATURE_HEADER = "X-Trellis-Signature"
REPLAY_WINDOW_SECONDS = 300
EXCERPT_CHARS = 1000
# Enough bytes for EXCERPT_CHARS characters of UTF-8; the rest of the body is never read.
_EXCERPT_BYTES = EXCERPT_CHARS * 4
METHODS = frozenset({"POST", "PUT", "PATCH"})
# Headers Trellis sets itself; a caller setting them is a bug, not a configuration.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "user-agent",
        TIMESTAMP_HEADER.lower(),
        SIGNATURE_HEADER.lower(),
    }
)
DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(TrellisError, ValueError):
    """A URL Trellis will not call: wrong scheme, no host, or an address it must not reach."""

    status, code = 422, "destination_refused"


# --- Signatures ---------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body`` with ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that let a receiver authenticate ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"sha256={sign(secret, timestamp, body)}",
    }


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    *,
    tolerance_seconds: int = REPLAY_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether a request's signature headers are valid for ``body`` and recent enough."""
    try:
        timestamp = int(timestamp_header)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    scheme, _, signature = (signature_header or "").partition("=")
    return scheme == "sha256" and hmac.compare_digest(signature, sign(secret, timestamp, body))


# --- Destinations -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # without IPv6 brackets, lower case
    port: int
    path: str  # path and query, what goes on the request line

    @property
    def destination(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _parse(url: str) -> _Target:
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    if any(
        character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in url
    ):
        raise DestinationRefused("The URL contains spaces or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise DestinationRefused(
            f"Only http and https URLs can be called, not {scheme or 'a URL without a scheme'}."
        )
    if not parts.hostname:
        raise DestinationRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("The URL contains credentials; put them in a header instead.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise DestinationRefused("The URL's port is not a number from 1 to 65535.")
    host = parts.hostname
    try:
        host.encode("idna")
    except UnicodeError:
        raise DestinationRefused(f"The URL's host {host!r} is not a valid name.") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, path)


def destination_of(url: str) -> str:
    """The circuit breaker's key for ``url``: scheme, host and port (``https://h:443``)."""
    return _parse(url).destination


def _refusal_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address must not be called, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside IPv6 reaches the IPv4 host: judge that host. (Python
        # 3.11 does not call ::ffff:127.0.0.1 loopback, and 2002::/16 counts as global.)
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _refusal_reason(embedded)
    for reason, matches in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        # 100.64.0.0/10 and the like: internal in many clouds.
        ("not globally routable", not address.is_global),
    ):
        if matches:
            return reason
    return None


def _resolve(target: _Target, *, allow_private: bool) -> list[str]:
    """The addresses of ``target``'s host, all checked; raises OSError when DNS fails."""
    results = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in results))
    if not addresses:
        raise socket.gaierror(f"no addresses for {target.host}")
    if not allow_private:
        for address in addresses:
            reason = _refusal_reason(ipaddress.ip_address(address))
            if reason:
                # Refuse the whole host, not just this address: a name that resolves
                # to an internal address is not a webhook receiver.
                shown = "" if address == target.host else f" resolves to {address}, which"
                raise DestinationRefused(
                    f"{target.host}{shown} is a {reason} address; webhooks can only call "
                    "public addresses.",
                    extra={"address": address, "reason": reason},
                )
    return addresses


def check_destination(url: str, *, allow_private: bool) -> None:
    """Raise :class:`DestinationRefused` unless Trellis may call ``url``.

    Resolves the host now, so call it when saving a webhook to give the user an early
    answer; :func:`deliver` checks again at send time, against the addresses it uses.
    """
    target = _parse(url)
    try:
        _resolve(target, allow_private=allow_private)
    except OSError as error:
        raise DestinationRefused(
            f"The host {target.host} could not be resolved.", extra={"reason": str(error)}
        ) from None


# --- Circuit breaker ----------------------------------------------------------------

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


# --- Delivery -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Delivery:
    """The outcome of one call. ``status_code`` is None when no response arrived."""

    status_code: int | None
    ok: bool
    duration_ms: int
    response_excerpt: str = ""
    error: str | None = None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to already checked addresses; ``host`` still names the Host header."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def _connect_pinned(self) -> socket.socket:
        last_error: OSError | None = None
        for address in self.addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def connect(self) -> None:
        self.sock = self._connect_pinned()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """Like the HTTP one, with TLS: SNI and certificate checked against ``host``."""

    default_port = http.client.HTTPS_PORT

    def __init__(
        self, host: str, port: int, *, addresses: list[str], timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, addresses=addresses, timeout=timeout)
        self.tls_context = context

    def connect(self) -> None:
        raw = self._connect_pinned()
        try:
            self.sock = self.tls_context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the system CAs takes a few milliseconds; one context serves every call.
    return ssl.create_default_context()


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("timed out")
    return remaining


def _describe(error: BaseException, target: _Target, timeout: float) -> str:
    """A message a user can act on, for the delivery log."""
    if isinstance(error, socket.gaierror):
        return f"could not resolve {target.host}"
    if isinstance(error, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return f"timed out after {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response: {type(error).__name__}"
    if isinstance(error, OSError):
        return f"network error: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def _excerpt(raw: bytes, charset: str | None) -> str:
    try:
        text = raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]


def deliver(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str,
    method: str = "POST",
    timeout: float = 10.0,
    allow_private: bool = False,
    breaker: CircuitBreaker | None = None,
    headers: Mapping[str, str] | None = None,
) -> Delivery:
    """Send ``payload`` as signed JSON to ``url`` and report what happened.

    Remote failures (DNS, refused or reset connections, timeouts, TLS, any status)
    come back as a :class:`Delivery`; only :class:`DestinationRefused` and caller bugs
    (an unknown method, a reserved header, a payload that is not JSON) raise.
    ``timeout`` bounds the whole call, from DNS to the response excerpt. Redirects
    are reported, never followed. A 5xx, a 429 or no answer counts as a failure for
    the breaker; any other answer, 3xx and 4xx included, shows the destination is
    up and counts as a success.
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    extra_headers = dict(headers or {})
    reserved = sorted(name for name in extra_headers if name.lower() in RESERVED_HEADERS)
    if reserved:
        raise ValueError(f"headers set by Trellis cannot be overridden: {reserved}")
    target = _parse(url)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    started = time.monotonic()
    deadline = started + timeout

    def finish(status: int | None, excerpt: str = "", error: str | None = None) -> Delivery:
        ok = error is None and status is not None and 200 <= status < 300
        if breaker is not None:
            if status is None or status >= 500 or status == 429:
                breaker.record_failure(target.destination)
            else:
                breaker.record_success(target.destination)
        return Delivery(status, ok, round((time.monotonic() - started) * 1000), excerpt, error)

    if breaker is not None and not breaker.allow(target.destination):
        return Delivery(None, False, 0, "", "circuit open")

    connection: _PinnedHTTPConnection | None = None
    response: http.client.HTTPResponse | None = None
    try:
        # DNS has no timeout of its own: its time counts against the deadline afterwards.
        addresses = _resolve(target, allow_private=allow_private)
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host,
                target.port,
                addresses=addresses,
                timeout=_remaining(deadline),
                context=_tls_context(),
            )
        else:
            connection = _PinnedHTTPConnection(
                target.host, target.port, addresses=addresses, timeout=_remaining(deadline)
            )
        connection.connect()
        sock = connection.sock  # kept: the connection forgets it once the response closes
        sock.settimeout(_remaining(deadline))
        connection.request(
            method,
            target.path,
            body=body,
            headers={
                **extra_headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **signature_headers(secret, body),
            },
        )
        sock.settimeout(_remaining(deadline))
        response = connection.getresponse()
        raw = b""
        try:
            # The excerpt is for people reading the delivery log; the status line is
            # the answer, so a body that arrives too slowly just ends the excerpt.
            while len(raw) < _EXCERPT_BYTES:
                sock.settimeout(_remaining(deadline))
                chunk = response.read1(_EXCERPT_BYTES - len(raw))
                if not chunk:
                    break
                raw += chunk
        except (OSError, http.client.HTTPException):
            pass
        excerpt = _excerpt(raw, response.headers.get_content_charset())
        error = None
        if 300 <= response.status < 400:
            location = response.getheader("Location") or "nowhere"
            error = f"redirect to {location} not followed; use the final URL"
        return finish(response.status, excerpt, error)
    except DestinationRefused:
        raise
    except (OSError, http.client.HTTPException) as error:
        return finish(None, error=_describe(error, target, timeout))
    finally:
        # Closed without reading the rest of the body: this connection is never reused.
        if response is not None:
            response.close()
        if connection is not None:
            connection.close()
