"""``trellis`` as a new user runs it, with nothing configured: the embedded servers start
only for commands that need them, and ``trellis demo`` stops everything it started."""

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
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest


def unconfigured_environment(instance: Path) -> dict[str, str]:
    """The environment of a fresh machine: no TRELLIS_* URLs, state under ``instance``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    environment.update(
        TRELLIS_INSTANCE_PATH=str(instance), TRELLIS_LOG_JSON="false", TRELLIS_LOG_LEVEL="WARNING"
    )
    return environment


def processes_using(instance: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(instance) in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.mark.parametrize("arguments", [["--help"], ["settings"], ["user", "--help"]])
def test_commands_without_a_database_start_none(tmp_path: Path, arguments: list[str]) -> None:
    instance = tmp_path / "instance"
    result = subprocess.run(
        [sys.executable, "-m", "trellis.cli", *arguments],
        env=unconfigured_environment(instance),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert not (instance / "postgres").exists() and not (instance / "redis").exists()
    assert processes_using(instance) == []


def test_version_names_the_distribution(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trellis.cli", "--version"],
        env=unconfigured_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"trellis-crm {version('trellis-crm')}"


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll ``check`` until it holds; fail the test if it does not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


def answers(url: str, process: subprocess.Popen, stderr: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"exited with {process.returncode}:\n{stderr.read_text()}")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def embedded_server_pids(instance: Path) -> tuple[int, int]:
    """The embedded PostgreSQL and Redis: daemons, so not in the command's process tree."""
    postgres = int((instance / "postgres" / "postmaster.pid").read_text().split()[0])
    registry = json.loads((instance / "redis" / "redis.db.settings").read_text())
    redis = int(Path(registry["pidfile"]).read_text().strip())
    return postgres, redis


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, whole_group",
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-at-the-terminal", "sigterm-to-the-command"],
)
def test_demo_stops_everything_it_started(
    tmp_path: Path, signum: signal.Signals, whole_group: bool
) -> None:
    """Ctrl-C reaches the terminal's whole process group; a service manager's SIGTERM
    reaches the command. Either way: exit 0, no traceback, no process left behind."""
    instance = tmp_path / "instance"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        demo = subprocess.Popen(
            [sys.executable, "-m", "trellis.cli", "demo", "--port", str(port)],
            env=unconfigured_environment(instance),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    started: list[psutil.Process] = []
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        wait_for(lambda: answers(url, demo, stderr), "the demo to answer HTTP", timeout=300)
        command = psutil.Process(demo.pid)
        postgres, redis = embedded_server_pids(instance)
        started = [command, *command.children(recursive=True)]
        started += [psutil.Process(postgres), *psutil.Process(postgres).children(recursive=True)]
        started.append(psutil.Process(redis))
        assert any("worker" in child.cmdline() for child in command.children())

        if whole_group:
            os.killpg(demo.pid, signum)
        else:
            demo.send_signal(signum)
        demo.wait(timeout=120)

        assert demo.returncode == 0, stderr.read_text()
        assert "Traceback" not in stderr.read_text()
        left = [p.pid for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert left == [], f"still running: {left}"
    finally:
        for process in started:
            if process.is_running():
                process.kill()
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_a_forked_process_does_not_stop_the_supervised_children() -> None:
    """A gunicorn worker is a fork of the serving command and exits through its stack:
    its exit must not stop the command's worker (nor its embedded servers)."""
    from trellis.runtime.supervisor import Supervisor

    supervisor = Supervisor(stop_seconds=10)
    sleeper = psutil.Process(supervisor.spawn("sleeper", ["sleep", "60"], os.environ).pid)
    try:
        pid = os.fork()
        if pid == 0:  # the fork leaves as a gunicorn worker would
            try:
                supervisor.stop()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert sleeper.is_running() and sleeper.status() != psutil.STATUS_ZOMBIE
        supervisor.stop()
        assert not sleeper.is_running()
    finally:
        if sleeper.is_running():
            sleeper.kill()
