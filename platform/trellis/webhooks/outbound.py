"""Outbound HTTP: the one way Trellis calls other servers (automation webhooks, subscriptions).

Every call is signed (:mod:`trellis.webhooks.signing`), checked against server-side
request forgery (:mod:`trellis.webhooks.destinations`), bounded in time, never
redirected, and guarded by a per-destination circuit breaker in Redis
(:mod:`trellis.webhooks.circuit_breaker`). :func:`deliver` connects to the very
addresses it checked, while still sending the original ``Host`` header and, over HTTPS,
the original name for SNI and certificate verification.
"""

from __future__ import annotations

import dataclasses
import functools
import http.client
import json
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

from trellis.webhooks.circuit_breaker import CircuitBreaker
from trellis.webhooks.destinations import DestinationRefused, Target, parse_target, resolve
from trellis.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_headers

USER_AGENT = "Trellis-Webhooks/1"
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


def _describe(error: BaseException, target: Target, timeout: float) -> str:
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


def _checked_request(method: str, headers: Mapping[str, str] | None) -> tuple[str, dict[str, str]]:
    """The method in upper case and the caller's headers, refusing what is a caller bug."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    extra_headers = dict(headers or {})
    reserved = sorted(name for name in extra_headers if name.lower() in RESERVED_HEADERS)
    if reserved:
        raise ValueError(f"headers set by Trellis cannot be overridden: {reserved}")
    return method, extra_headers


def _connect(target: Target, addresses: list[str], deadline: float) -> _PinnedHTTPConnection:
    """An unopened connection to ``target`` pinned to its checked ``addresses``."""
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            target.host,
            target.port,
            addresses=addresses,
            timeout=_remaining(deadline),
            context=_tls_context(),
        )
    return _PinnedHTTPConnection(
        target.host, target.port, addresses=addresses, timeout=_remaining(deadline)
    )


def _send(
    connection: _PinnedHTTPConnection,
    sock: socket.socket,
    method: str,
    path: str,
    body: bytes,
    extra_headers: dict[str, str],
    signature: dict[str, str],
    deadline: float,
) -> http.client.HTTPResponse:
    """Send the request and wait for the status line, each step within the deadline."""
    sock.settimeout(_remaining(deadline))
    connection.request(
        method,
        path,
        body=body,
        headers={
            **extra_headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature,
        },
    )
    sock.settimeout(_remaining(deadline))
    return connection.getresponse()


def _read_excerpt(response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> str:
    """The start of the response body, as much as arrives before the deadline."""
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
    return _excerpt(raw, response.headers.get_content_charset())


def _redirect_error(response: http.client.HTTPResponse) -> str | None:
    if 300 <= response.status < 400:
        location = response.getheader("Location") or "nowhere"
        return f"redirect to {location} not followed; use the final URL"
    return None


def _record_outcome(breaker: CircuitBreaker | None, target: Target, status: int | None) -> None:
    """A 5xx, a 429 or no answer is a failure; any other answer shows the destination is up."""
    if breaker is not None:
        if status is None or status >= 500 or status == 429:
            breaker.record_failure(target.destination)
        else:
            breaker.record_success(target.destination)


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
    method, extra_headers = _checked_request(method, headers)
    target = parse_target(url)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    started = time.monotonic()
    deadline = started + timeout

    def finish(status: int | None, excerpt: str = "", error: str | None = None) -> Delivery:
        ok = error is None and status is not None and 200 <= status < 300
        _record_outcome(breaker, target, status)
        return Delivery(status, ok, round((time.monotonic() - started) * 1000), excerpt, error)

    if breaker is not None and not breaker.allow(target.destination):
        return Delivery(None, False, 0, "", "circuit open")

    connection: _PinnedHTTPConnection | None = None
    response: http.client.HTTPResponse | None = None
    try:
        # DNS has no timeout of its own: its time counts against the deadline afterwards.
        addresses = resolve(target, allow_private=allow_private)
        connection = _connect(target, addresses, deadline)
        connection.connect()
        sock = connection.sock  # kept: the connection forgets it once the response closes
        signature = signature_headers(secret, body)
        response = _send(
            connection, sock, method, target.path, body, extra_headers, signature, deadline
        )
        excerpt = _read_excerpt(response, sock, deadline)
        return finish(response.status, excerpt, _redirect_error(response))
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
