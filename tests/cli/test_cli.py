"""The ``trellis`` command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import TenantFixture
from flask import Flask
from flask.cli import ScriptInfo

from trellis.cli import cli


def run(app: Flask, *args: str):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_tenant_user_token_flow(app: Flask) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    created = run(app, "tenant", "create", slug, "--name", "CLI Co")
    assert created.exit_code == 0, created.output
    assert slug in created.output
    user = run(
        app,
        "user",
        "create",
        "--tenant",
        slug,
        "--email",
        "boss@cli.test",
        "--password",
        "long-enough-pw",
        "--admin",
    )
    assert user.exit_code == 0, user.output
    token_run = run(app, "token", "create", "--tenant", slug, "--email", "boss@cli.test")
    assert token_run.exit_code == 0, token_run.output
    token = token_run.stdout.strip().splitlines()[-1]
    assert token.startswith("trl_")
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["user"]["email"] == "boss@cli.test"
    assert me.get_json()["roles"] == ["admin"]


def test_cli_errors_are_one_clear_line(app: Flask) -> None:
    duplicate = f"dup-{uuid.uuid4().hex[:8]}"
    assert run(app, "tenant", "create", duplicate).exit_code == 0
    again = run(app, "tenant", "create", duplicate)
    assert again.exit_code == 1 and "already exists" in again.output
    bad = run(app, "tenant", "create", "Not A Slug")
    assert bad.exit_code == 1 and "slug" in bad.output
    unknown = run(app, "user", "create", "--tenant", "nope-nope", "--email", "a@b.cc")
    assert unknown.exit_code == 1 and "No tenant" in unknown.output
    weak = run(
        app, "user", "create", "--tenant", duplicate, "--email", "a@b.cc", "--password", "short"
    )
    assert weak.exit_code == 1 and "password" in weak.output
    missing = run(app, "token", "create", "--tenant", duplicate, "--email", "ghost@b.cc")
    assert missing.exit_code == 1 and "No user" in missing.output
    assert "Traceback" not in "".join(r.output for r in (again, bad, unknown, weak, missing))


def test_db_upgrade_is_idempotent(app: Flask) -> None:
    from trellis.runtime.migrate import current_revision

    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert current_revision(app.extensions["trellis"].database) is not None


def test_settings_lists_every_environment_variable(app: Flask) -> None:
    from trellis.config import SETTINGS

    output = run(app, "settings").output
    for setting in SETTINGS:
        assert setting.env_var in output


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _eventually(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_serve_with_several_processes(tenant: TenantFixture, test_settings: dict[str, Any]) -> None:
    """``trellis serve --processes 2``: gunicorn workers that each serve the API, and a
    killed worker is replaced while the others go on answering."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        **{f"TRELLIS_{name.upper()}": str(value) for name, value in test_settings.items()},
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trellis.cli",
            "serve",
            "--port",
            str(port),
            "--processes",
            "2",
            "--threads",
            "2",
        ],
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _eventually(lambda: _get(f"{base}/healthz")[0] == 200)
        workers = _eventually(lambda: len(_children(server.pid)) == 2 and _children(server.pid))
        status, body = _get(f"{base}/api/v1/me", tenant.headers())
        assert status == 200 and json.loads(body)["user"]["email"] == tenant.admin_email
        assert _get(f"{base}/api/v1/me")[0] == 401
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        replaced = _eventually(
            lambda: (
                len(_children(server.pid)) == 2
                and killed not in _children(server.pid)
                and _children(server.pid)
            )
        )
        assert replaced - workers and max(workers) in replaced
        for _ in range(6):  # new connections: both workers take their share
            assert _get(f"{base}/api/v1/me", tenant.headers())[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0
