"""Process ownership for ``trellis serve`` and ``trellis demo``.

A serving command owns everything it starts: the web server (in this process, or
gunicorn's workers), a Celery worker with beat (a child process) and, when no URLs are
configured, the embedded Redis and PostgreSQL. On Ctrl-C (SIGINT) or SIGTERM it stops
them in that order, each after whatever uses it, so that no process is stopped under
another that still needs it and none is left running; the command then exits with
status 0.

Children run in a process group of their own: a Ctrl-C at the terminal reaches only
the command, which then stops them in order, rather than every process at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType

from trellis.runtime.embedded import stop_embedded

log = logging.getLogger(__name__)
STOP_SECONDS = 30  # a child's warm shutdown (running tasks finish) gets this long


class Supervisor:
    """The child processes of a serving command, stopped in reverse order of start."""

    def __init__(self, stop_seconds: float = STOP_SECONDS) -> None:
        self._children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._stop_seconds = stop_seconds
        # gunicorn forks its workers from this process, and a worker leaves by raising
        # SystemExit through the same stack: only the process that owns the children
        # may stop them (and the embedded servers every worker is using).
        self._owner = os.getpid()

    def spawn(
        self, name: str, argv: Sequence[str], env: Mapping[str, str]
    ) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(list(argv), env=dict(env), process_group=0)
        self._children.append((name, child))
        return child

    def stop(self) -> None:
        """Stop the children (SIGTERM, then SIGKILL after the grace period), then the
        embedded servers. A second Ctrl-C does not cut this short."""
        if os.getpid() != self._owner:
            return
        # gunicorn's arbiter reaps any child on SIGCHLD; the children here are waited for.
        handling = {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN}
        handling[signal.SIGCHLD] = signal.SIG_DFL
        previous = {signum: signal.signal(signum, handler) for signum, handler in handling.items()}
        try:
            while self._children:
                self._stop_child(*self._children.pop())
            stop_embedded()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop_child(self, name: str, child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(self._stop_seconds)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %s) did not stop in time; killing it", name, child.pid)
            child.kill()
            child.wait()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM stops the command the way Ctrl-C does (waitress closes on KeyboardInterrupt).
    raise KeyboardInterrupt


@contextlib.contextmanager
def supervised() -> Iterator[Supervisor]:
    """Run a serving command: on SIGINT or SIGTERM, or when the body ends for any other
    reason, stop what it started. An interruption is the normal way out, not an error."""
    supervisor = Supervisor()
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt),
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
    }
    try:
        yield supervisor
    except KeyboardInterrupt:
        pass
    finally:
        for signum in previous:  # no interruption between here and the end of the stop
            signal.signal(signum, signal.SIG_IGN)
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
