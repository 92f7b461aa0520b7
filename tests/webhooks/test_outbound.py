"""Outbound HTTP against a real local server: signatures, address checks, timeouts,
redirects and the Redis circuit breaker."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import http.server
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from trellis.config import load_config
from trellis.errors import TrellisError
from trellis.webhooks import outbound
from trellis.webhooks.circuit_breaker import CircuitBreaker
from trellis.webhooks.destinations import DestinationRefused, check_destination, destination_of
from trellis.webhooks.outbound import deliver
from trellis.webhooks.signing import sign, verify

SECRET = "whsec-test"


@dataclasses.dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests; the path picks the answer."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.release = threading.Event()  # ends /slow early at teardown
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    Received(
                        self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                    )
                )
                with contextlib.suppress(OSError):  # the client gave up (timeout tests)
                    receiver.answer(self)

            do_PUT = do_PATCH = do_POST  # noqa: N815 - the names http.server calls

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path == "/slow":
            self.release.wait(10)
        status, body, headers = {
            "/fail": (500, b"boom", {}),
            "/redirect": (302, b"", {"Location": "https://elsewhere.example/hook"}),
            "/gone": (410, b"no such hook", {}),
            "/big": (200, b"x" * 5000, {}),
        }.get(path, (200, "received ✓".encode(), {"Content-Type": "text/plain; charset=utf-8"}))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture()
def redis_client(server_urls: tuple[str, str]) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(server_urls[1])
    yield client
    client.close()


@pytest.fixture()
def make_breaker(redis_client: redis.Redis) -> Iterator[Callable[..., CircuitBreaker]]:
    """Breakers under a Redis prefix of this test's own, removed afterwards."""
    prefix = f"trellis-test-outbound-{uuid.uuid4().hex}"

    def factory(**options: Any) -> CircuitBreaker:
        return CircuitBreaker(redis_client, prefix=prefix, **options)

    yield factory
    for key in redis_client.scan_iter(f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture()
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names to answer with given addresses (resolving, not connecting, is faked)."""
    answers: dict[str, list[str]] = {}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list:
        if host in answers:
            if not answers[host]:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                result
                for address in answers[host]
                for result in real_getaddrinfo(address, port, *args, **kwargs)
            ]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def send(url: str, **options: Any) -> outbound.Delivery:
    return deliver(
        url,
        options.pop("payload", {"event": "test"}),
        secret=SECRET,
        allow_private=options.pop("allow_private", True),
        **options,
    )


# --- Signatures ---------------------------------------------------------------------


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b'{"a":1}') == expected


def test_verify_accepts_recent_signatures_and_refuses_stale_or_tampered_ones() -> None:
    body, now = b'{"a":1}', 1_700_000_000
    signature = f"sha256={sign(SECRET, now, body)}"
    assert verify(SECRET, str(now), signature, body, now=now + 10)
    assert not verify(SECRET, str(now), signature, body, now=now + 301)  # replayed late
    assert not verify(SECRET, str(now), signature, b'{"a":2}', now=now)
    assert not verify("other", str(now), signature, body, now=now)
    assert not verify(SECRET, str(now + 1), signature, body, now=now)
    assert not verify(SECRET, "soon", signature, body, now=now)
    assert not verify(SECRET, str(now), signature.replace("sha256", "sha1"), body, now=now)


def test_a_delivery_is_compact_signed_json(receiver: Receiver) -> None:
    payload = {"event": "record.created", "record": {"id": "r1", "name": "Zoë"}}
    delivery = send(
        receiver.url("/ok?source=trellis"),
        payload=payload,
        headers={"Authorization": "Bearer receiver-token"},
    )

    assert delivery.ok and delivery.status_code == 200 and delivery.error is None
    assert delivery.response_excerpt == "received ✓"
    assert delivery.duration_ms >= 0
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/ok?source=trellis")
    assert request.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(request.body) == payload
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Trellis-Webhooks/1"
    assert request.headers["Authorization"] == "Bearer receiver-token"
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    # What a receiver does, written out without Trellis's helpers.
    timestamp = request.headers["X-Trellis-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(
        SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Trellis-Signature"] == f"sha256={expected}"
    assert verify(SECRET, timestamp, request.headers["X-Trellis-Signature"], request.body)


def test_put_and_patch_are_allowed_other_methods_are_bugs(receiver: Receiver) -> None:
    assert send(receiver.url("/ok"), method="put").ok
    assert send(receiver.url("/ok"), method="PATCH").ok
    assert [request.method for request in receiver.requests] == ["PUT", "PATCH"]
    with pytest.raises(ValueError, match="method"):
        send(receiver.url("/ok"), method="GET")


def test_callers_cannot_override_trellis_headers_or_send_non_json(receiver: Receiver) -> None:
    with pytest.raises(ValueError, match="X-Trellis-Signature"):
        send(receiver.url("/ok"), headers={"X-Trellis-Signature": "sha256=forged"})
    with pytest.raises(ValueError, match="host"):
        send(receiver.url("/ok"), headers={"host": "elsewhere"})
    with pytest.raises(TypeError):
        send(receiver.url("/ok"), payload={"when": object()})
    assert receiver.requests == []


# --- Remote failures come back as deliveries ------------------------------------------


def test_a_slow_endpoint_times_out_with_an_error_delivery(receiver: Receiver) -> None:
    delivery = send(receiver.url("/slow"), timeout=0.5)

    assert not delivery.ok
    assert delivery.status_code is None
    assert delivery.error == "timed out after 0.5 s"
    assert delivery.duration_ms < 5000  # the server would have answered after 10 s
    assert len(receiver.requests) == 1


def test_redirects_are_reported_not_followed(receiver: Receiver) -> None:
    delivery = send(receiver.url("/redirect"))

    assert delivery.status_code == 302 and not delivery.ok
    assert "https://elsewhere.example/hook" in (delivery.error or "")
    assert [request.path for request in receiver.requests] == ["/redirect"]


def test_error_statuses_are_answers_not_errors(receiver: Receiver) -> None:
    delivery = send(receiver.url("/fail"))
    assert (delivery.status_code, delivery.ok, delivery.error) == (500, False, None)
    assert delivery.response_excerpt == "boom"


def test_the_response_excerpt_is_the_first_1000_characters(receiver: Receiver) -> None:
    delivery = send(receiver.url("/big"))
    assert delivery.ok and delivery.response_excerpt == "x" * 1000


def test_a_closed_port_is_an_error_delivery() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    delivery = send(f"http://127.0.0.1:{port}/hook")
    assert (delivery.status_code, delivery.ok, delivery.error) == (
        None,
        False,
        "connection refused",
    )


def test_an_unresolvable_host_is_an_error_delivery(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["gone.example"] = []
    delivery = send("https://gone.example/hook")
    assert delivery.error == "could not resolve gone.example" and not delivery.ok
    with pytest.raises(DestinationRefused, match="could not be resolved"):
        check_destination("https://gone.example/hook", allow_private=False)


# --- Pinning: connect to the checked address, speak to the original host --------------


def test_the_checked_address_is_used_with_the_original_host_header(
    receiver: Receiver, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["hooks.customer.example"] = ["127.0.0.1"]
    delivery = send(receiver.url("/ok", host="hooks.customer.example"))

    assert delivery.ok
    assert receiver.requests[0].headers["Host"] == f"hooks.customer.example:{receiver.port}"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=hooks.customer.example",
            "-addext",
            "subjectAltName=DNS:hooks.customer.example",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_checks_the_certificate_against_the_original_host(
    certificate: tuple[Path, Path], fake_dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setattr(
        outbound, "_tls_context", lambda: ssl.create_default_context(cafile=str(cert))
    )
    fake_dns["hooks.customer.example"] = ["127.0.0.1"]
    fake_dns["other.customer.example"] = ["127.0.0.1"]

    with Receiver(tls=server_context) as server:
        delivery = send(server.url("/ok", host="hooks.customer.example", scheme="https"))
        assert delivery.ok, delivery.error
        assert server.requests[0].headers["Host"] == f"hooks.customer.example:{server.port}"

        # Same address, another name: the certificate does not match, nothing is sent.
        mismatch = send(server.url("/ok", host="other.customer.example", scheme="https"))
        assert not mismatch.ok and mismatch.status_code is None
        assert (mismatch.error or "").startswith("TLS certificate not accepted")
        assert len(server.requests) == 1


# --- Destinations -------------------------------------------------------------------


def test_loopback_is_refused_unless_private_addresses_are_allowed(receiver: Receiver) -> None:
    with pytest.raises(DestinationRefused, match="loopback"):
        send(receiver.url("/ok"), allow_private=False)
    assert receiver.requests == []
    assert send(receiver.url("/ok"), allow_private=True).ok


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost/", "loopback"),
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://[::ffff:10.1.2.3]/", "private"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
        ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated)
        ("http://10.0.0.5/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.100.100.200/", "not globally routable"),  # shared address space
        ("http://2130706433/", "loopback"),  # 127.0.0.1 spelled as one number
    ],
)
def test_internal_addresses_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused, match=reason) as refused:
        check_destination(url, allow_private=False)
    assert "public addresses" in refused.value.message
    check_destination(url, allow_private=True)


def test_public_addresses_are_accepted(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["hooks.customer.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    check_destination("https://hooks.customer.example/in", allow_private=False)
    check_destination("http://8.8.8.8:8080/", allow_private=False)
    check_destination("https://[2001:4860:4860::8888]/", allow_private=False)


def test_a_name_with_any_internal_address_is_refused(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["rebind.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(DestinationRefused, match="rebind.example resolves to 10.0.0.7"):
        check_destination("https://rebind.example/", allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/x", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://internal.example:70/", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("//hooks.example/in", "without a scheme"),
        ("hooks.example/in", "without a scheme"),
        ("http:///in", "no host"),
        ("https://user:password@hooks.example/in", "credentials"),
        ("https://hooks.example:99999/in", "port"),
        ("https://hooks.example:0/in", "port"),
        ("https://hooks.example/in put", "spaces"),
        ("https://hooks.example/in\r\nX-Injected: 1", "control characters"),
    ],
)
def test_malformed_or_non_http_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(DestinationRefused, match=message):
        check_destination(url, allow_private=True)
    with pytest.raises(DestinationRefused, match=message):
        send(url)


def test_destination_refused_is_a_client_error() -> None:
    error = DestinationRefused("nope")
    assert isinstance(error, TrellisError) and isinstance(error, ValueError)
    assert (error.status, error.code) == (422, "destination_refused")


def test_destinations_are_scheme_host_and_port() -> None:
    assert destination_of("https://Hooks.Example/a?b=c") == "https://hooks.example:443"
    assert destination_of("http://hooks.example:8080/a") == "http://hooks.example:8080"
    assert destination_of("http://[::1]/") == "http://[::1]:80"


# --- Circuit breaker ----------------------------------------------------------------


def test_consecutive_failures_open_the_circuit(
    receiver: Receiver, make_breaker: Callable[..., CircuitBreaker]
) -> None:
    breaker = make_breaker(failures=3, cooldown_seconds=60)
    for _ in range(3):
        assert send(receiver.url("/fail"), breaker=breaker).status_code == 500

    refused = send(receiver.url("/ok"), breaker=breaker)

    assert (refused.ok, refused.status_code, refused.error) == (False, None, "circuit open")
    assert len(receiver.requests) == 3  # nothing reached the server once open
    # Another destination has a circuit of its own.
    other = send(receiver.url("/ok", host="localhost"), breaker=breaker)
    assert other.ok


def test_an_open_circuit_makes_no_dns_lookup(
    make_breaker: Callable[..., CircuitBreaker], fake_dns: dict[str, list[str]]
) -> None:
    breaker = make_breaker(failures=1, cooldown_seconds=60)
    fake_dns["down.example"] = []
    assert send("https://down.example/", breaker=breaker).error == "could not resolve down.example"
    fake_dns["down.example"] = ["10.0.0.1"]  # would be refused if it were looked up
    assert (
        send("https://down.example/", breaker=breaker, allow_private=False).error == "circuit open"
    )


def test_timeouts_and_refused_connections_count_as_failures(
    receiver: Receiver, make_breaker: Callable[..., CircuitBreaker]
) -> None:
    breaker = make_breaker(failures=2, cooldown_seconds=60)
    send(receiver.url("/slow"), timeout=0.2, breaker=breaker)
    send(receiver.url("/slow"), timeout=0.2, breaker=breaker)
    assert send(receiver.url("/ok"), breaker=breaker).error == "circuit open"


def test_answers_other_than_5xx_show_the_destination_is_up(
    receiver: Receiver, make_breaker: Callable[..., CircuitBreaker]
) -> None:
    breaker = make_breaker(failures=2, cooldown_seconds=60)
    for path in ("/fail", "/gone", "/fail", "/redirect", "/fail"):
        send(receiver.url(path), breaker=breaker)
    assert send(receiver.url("/ok"), breaker=breaker).ok  # never two failures in a row


def test_after_the_cooldown_one_trial_passes_and_its_success_closes_the_circuit(
    receiver: Receiver, make_breaker: Callable[..., CircuitBreaker]
) -> None:
    breaker = make_breaker(failures=2, cooldown_seconds=1)
    send(receiver.url("/fail"), breaker=breaker)
    send(receiver.url("/fail"), breaker=breaker)
    assert send(receiver.url("/ok"), breaker=breaker).error == "circuit open"

    time.sleep(1.2)
    trial = send(receiver.url("/ok"), breaker=breaker)

    assert trial.ok
    assert send(receiver.url("/ok"), breaker=breaker).ok
    assert [request.path for request in receiver.requests] == ["/fail", "/fail", "/ok", "/ok"]


def test_half_open_allows_a_single_trial_and_its_failure_reopens(
    make_breaker: Callable[..., CircuitBreaker],
) -> None:
    breaker = make_breaker(failures=2, cooldown_seconds=1)
    destination = "https://hooks.example:443"
    breaker.record_failure(destination)
    assert breaker.allow(destination)
    breaker.record_failure(destination)
    assert not breaker.allow(destination)

    time.sleep(1.2)
    assert breaker.allow(destination)  # the trial
    assert not breaker.allow(destination)  # everyone else waits for its outcome
    breaker.record_failure(destination)
    assert not breaker.allow(destination)  # open again for another cooldown

    time.sleep(1.2)
    assert breaker.allow(destination)
    breaker.record_success(destination)
    assert breaker.allow(destination) and breaker.allow(destination)


def test_a_success_resets_the_consecutive_failures(
    make_breaker: Callable[..., CircuitBreaker],
) -> None:
    breaker = make_breaker(failures=3, cooldown_seconds=60)
    destination = "https://hooks.example:443"
    for _ in range(2):
        breaker.record_failure(destination)
    breaker.record_success(destination)
    for _ in range(2):
        breaker.record_failure(destination)
    assert breaker.allow(destination)
    breaker.record_failure(destination)
    assert not breaker.allow(destination)


def test_the_breaker_and_timeout_come_from_settings(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    config = load_config(
        environ={
            "TRELLIS_INSTANCE_PATH": str(tmp_path),
            "TRELLIS_REDIS_NAMESPACE": "tenant-a",
            "TRELLIS_CIRCUIT_FAILURES": "7",
            "TRELLIS_CIRCUIT_COOLDOWN_SECONDS": "30",
            "TRELLIS_WEBHOOK_TIMEOUT_SECONDS": "2.5",
            "TRELLIS_WEBHOOK_ALLOW_PRIVATE": "true",
        }
    )
    breaker = CircuitBreaker.from_config(redis_client, config)
    assert (breaker.prefix, breaker.failures, breaker.cooldown_seconds) == (
        "tenant-a:circuit",
        7,
        30,
    )
    assert config.webhook_timeout_seconds == 2.5 and config.webhook_allow_private is True
    defaults = load_config(environ={"TRELLIS_INSTANCE_PATH": str(tmp_path)})
    assert (
        defaults.webhook_allow_private,
        defaults.webhook_timeout_seconds,
        defaults.circuit_failures,
        defaults.circuit_cooldown_seconds,
    ) == (False, 10.0, 5, 60)
