"""Two web server processes, one budget: the count lives in Redis, not in a process."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from conftest import TenantFixture


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, Message]:
    """The status and headers (looked up regardless of case) of a GET."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def _wait_until_up(server: subprocess.Popen, base: str, output: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, f"trellis serve exited:\n{output.read_text()}"
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.3)
    raise AssertionError(f"trellis serve did not start:\n{output.read_text()}")


@pytest.fixture()
def two_servers(test_settings: dict[str, Any], tmp_path: Path) -> Iterator[list[str]]:
    """``trellis serve`` twice, on two ports, on this run's database and Redis."""
    environment = {
        **os.environ,
        **{
            f"TRELLIS_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in test_settings.items()
        },
    }
    servers, bases = [], []
    try:
        for index in range(2):
            port = _free_port()
            output = tmp_path / f"server-{index}.txt"
            with output.open("w") as sink:
                servers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "trellis.cli", "serve", "--port", str(port)],
                        env=environment,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
            bases.append(f"http://127.0.0.1:{port}")
            _wait_until_up(servers[-1], bases[-1], output)
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_two_processes_spend_one_budget(two_servers: list[str], tenant: TenantFixture) -> None:
    changed = tenant.api("PATCH", "/api/v1/tenant/api-settings", json={"rate_limit": 4})
    assert changed.status_code == 200
    first, second = two_servers
    # Alternating between the servers: four requests in all, then neither lets one in.
    answers = [_get(f"{base}/api/v1/me", tenant.token) for base in (first, second) * 2]
    assert [status for status, _ in answers] == [200] * 4
    remaining = [headers["RateLimit"] for _, headers in answers]
    assert remaining == [
        f'"default";r={left};t={t}'
        for left, t in zip(
            (3, 2, 1, 0), [h["RateLimit"].rpartition("=")[2] for _, h in answers], strict=True
        )
    ]
    for base in two_servers:
        status, headers = _get(f"{base}/api/v1/me", tenant.token)
        assert status == 429
        assert int(headers["Retry-After"]) >= 1
        assert headers["RateLimit-Policy"] == '"default";q=4;w=60'
