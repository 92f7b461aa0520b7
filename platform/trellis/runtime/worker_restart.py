"""``trellis worker`` outlives Celery's unrecoverable errors.

Celery stops its worker for good on an error it cannot recover from, and some come
from the broker going away at the wrong moment: with late acknowledgement, kombu's
Redis transport can fail while closing a channel that still holds unacknowledged
messages, and the worker exits instead of reconnecting. Nothing is lost (runs,
deliveries and events wait in PostgreSQL), but a worker that stays down runs nothing.
So the command starts over in the same process (``exec``: the same pid, so a
supervisor or a test that signals it still reaches it), after a delay that doubles
with each quick failure. A clean stop (SIGTERM, SIGINT) ends the process as usual.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import NoReturn

log = logging.getLogger(__name__)
RESTARTS = "TRELLIS_WORKER_RESTARTS"
STABLE_SECONDS = 60  # a worker that ran this long before failing starts afresh
MAX_DELAY_SECONDS = 30


def restart_delay(restarts: int) -> int:
    """Seconds to wait before the next start: 1, 2, 4 … at most 30."""
    return min(2**restarts, MAX_DELAY_SECONDS)


def run_restarting(run: Callable[[], object], argv: list[str]) -> None:
    """Run ``run()`` (the Celery worker command); if Celery stopped the worker on an
    error rather than on request, ``exec`` the interpreter with ``argv`` to start over."""
    from celery import signals
    from celery.worker import state

    stopped: dict[str, object] = {}

    def note_exit_code(sender: object, **_: object) -> None:
        stopped["code"] = getattr(sender, "exitcode", None)

    # The command itself returns nothing useful: Celery reports the exit code only to
    # the click context, so it is read off the worker as it stops.
    signals.worker_shutdown.connect(note_exit_code, weak=False)
    started = time.monotonic()
    run()
    code = stopped.get("code")
    requested = any(
        flag is not None and flag is not False  # a shutdown signal
        for flag in (state.should_stop, state.should_terminate)
    )
    if code not in (0, None) and not requested:
        _start_over(argv, ran_for=time.monotonic() - started, code=code)


def _start_over(argv: list[str], *, ran_for: float, code: object) -> NoReturn:
    restarts = 0 if ran_for > STABLE_SECONDS else int(os.environ.get(RESTARTS, "0"))
    delay = restart_delay(restarts)
    log.error("Celery stopped the worker (exit code %s); starting again in %s s", code, delay)
    time.sleep(delay)
    os.environ[RESTARTS] = str(restarts + 1)
    os.execv(sys.executable, [sys.executable, *argv])
