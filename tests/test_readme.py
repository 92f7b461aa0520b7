"""The README's examples run as written, against a fresh ``trellis demo``.

Convention, for whoever edits README.md:

- Every block fenced as ```sh is run, in the order of the file, each by its own
  ``bash`` with ``set -euo pipefail`` (so variables do not carry from one block to the
  next). ``curl`` runs with ``--fail-with-body``: an answer outside 2xx fails the block.
- Commands that must not run here (installing, serving, the test suite itself,
  production settings) are fenced as ```text. No other shell fence (bash, shell,
  console, ...) is allowed, so nothing looks tested that is not.
- A ```json block right after a ```sh block (nothing but blank lines between them)
  is that block's output: the test parses what the block printed and compares.
- The blocks use the demo's address and token as a reader has them. The test gives
  them the live ones: ``http://127.0.0.1:5000`` becomes the test server's address,
  ``$TOKEN`` is set to the token ``trellis demo`` printed, the webhook receiver
  ``https://erp.example.com/trellis`` becomes an address on this machine (nothing is
  delivered: no worker runs), and ``trellis`` runs on this test run's database and
  Redis.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
DEMO_ADDRESS = "http://127.0.0.1:5000"
WEBHOOK_RECEIVER = "https://erp.example.com/trellis"
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SHELL_FENCES = {"bash", "shell", "console", "zsh", "shell-session", "sh-session"}
PRELUDE = """set -euo pipefail
curl() { command curl --silent --show-error --fail-with-body "$@"; }
"""


@dataclasses.dataclass
class Block:
    language: str
    text: str
    line: int
    expected: Any = None  # the parsed ```json block that follows, if any


def readme_blocks() -> list[Block]:
    source = README.read_text()
    blocks: list[Block] = []
    previous_end = None
    for match in FENCE.finditer(source):
        block = Block(match[1], match[2], source.count("\n", 0, match.start()) + 1)
        follows = previous_end is not None and not source[previous_end : match.start()].strip()
        if block.language == "json" and follows and blocks[-1].language == "sh":
            blocks[-1].expected = json.loads(block.text)
        else:
            blocks.append(block)
        previous_end = match.end()
    return blocks


def test_readme_fences_follow_the_convention() -> None:
    blocks = readme_blocks()
    unrun = [f"line {b.line}: {b.language}" for b in blocks if b.language in SHELL_FENCES]
    assert not unrun, f"Fence shell examples as sh (run) or text (not run): {unrun}"
    unlabelled = [b.line for b in blocks if not b.language]
    assert not unlabelled, f"Give these README blocks a language: lines {unlabelled}"
    assert sum(b.language == "sh" for b in blocks) >= 5
    for block in blocks:
        if block.language == "json":
            json.loads(block.text)  # examples of JSON are JSON


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@dataclasses.dataclass
class Demo:
    base: str
    token: str
    environment: dict[str, str]


def _wait_for_demo(server: subprocess.Popen, output: Path, base: str) -> str:
    """The token ``trellis demo`` printed, once the server answers."""
    deadline = time.monotonic() + 180  # the first run migrates and loads the example
    while time.monotonic() < deadline:
        assert server.poll() is None, f"trellis demo exited:\n{output.read_text()}"
        printed = re.search(r"^API token: (\S+)$", output.read_text(), re.MULTILINE)
        if printed:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    return printed[1]
            except OSError:
                pass
        time.sleep(0.3)
    raise AssertionError(f"trellis demo did not start:\n{output.read_text()}")


@pytest.fixture(scope="module")
def demo(test_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``trellis demo`` as a reader starts it, on this run's database and Redis."""
    port = _free_port()
    environment = {
        **os.environ,
        **{
            f"TRELLIS_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in test_settings.items()
        },
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    output = tmp_path_factory.mktemp("demo") / "output.txt"
    with output.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "trellis.cli", "demo", "--port", str(port)],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        token = _wait_for_demo(server, output, base)
        yield Demo(base, token, {**environment, "TOKEN": token})
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_block(block: Block, demo: Demo) -> str:
    script = block.text.replace(DEMO_ADDRESS, demo.base).replace(
        WEBHOOK_RECEIVER, f"{demo.base}/webhook-receiver"
    )
    result = subprocess.run(
        ["bash", "-c", PRELUDE + script],
        env=demo.environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"README.md line {block.line}: the block failed ({result.returncode})\n{script}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


@pytest.mark.slow
def test_readme_shell_examples_run(demo: Demo) -> None:
    blocks = [block for block in readme_blocks() if block.language == "sh"]
    for block in blocks:
        printed = run_block(block, demo)
        if block.expected is not None:
            assert json.loads(printed) == block.expected, f"README.md line {block.line}"
    # What the examples made is there: the object, its record and the webhook.
    headers = {"Authorization": f"Bearer {demo.token}"}
    status, listed = _get(f"{demo.base}/api/v1/objects/Contract/records", headers)
    assert status == 200 and [record["Name"] for record in listed["data"]] == ["Support 2025"]
    assert listed["data"][0]["Net"] == listed["data"][0]["Value"] * 0.9
    status, hooks = _get(f"{demo.base}/api/v1/webhooks", headers)
    assert status == 200 and [hook["name"] for hook in hooks["data"]] == ["ERP"]


@pytest.mark.slow
def test_readme_error_envelope_is_the_real_one(demo: Demo) -> None:
    shown = next(
        json.loads(block.text)
        for block in readme_blocks()
        if block.language == "json" and '"ok": false' in block.text
    )
    status, real = _get(
        f"{demo.base}/api/v1/objects/NoSuchObject/records",
        {"Authorization": f"Bearer {demo.token}"},
    )
    assert status == 404
    assert set(real) == set(shown)
