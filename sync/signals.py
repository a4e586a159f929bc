"""SIGTERM as an orderly exit.

Python's default action for SIGTERM ends the process on the spot: no `finally` block runs, so a
run stopped by its scheduler (a Kubernetes CronJob's deadline, `systemctl stop`, a CI timeout)
would leave its sinks' temporary files behind and its lock file naming a dead holder. Inside
`orderly_exit()` SIGTERM raises `Terminated` in the main thread instead, wherever it is waiting
(a socket read, a retry's sleep, a worker's result), so every `finally` and `except
BaseException` on the way up runs: temporary files are deleted, an open store transaction rolls
back, the lock is released. The CLI catches it and exits 143 (128 + 15, what a shell reports for
a process ended by SIGTERM). Nothing was committed, so the next run pulls the same changes again.

Guards keep the exit prompt and the cleanup whole:
- a second SIGTERM while the first is being handled is ignored, so it cannot cut a `finally`
  block short;
- a backstop ends the process GRACE_S seconds after the first SIGTERM if it is still alive, and
  AFTER_CLEANUP_S seconds after the cleanup reached the CLI: a worker thread blocked on a request
  that does not answer would otherwise keep the interpreter from exiting for that request's whole
  timeout (it only reads; nothing of it would be committed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
GRACE_S = 10.0
AFTER_CLEANUP_S = 1.0


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that `except Exception`
    handlers (a source that failed, a sink that failed) do not take it for an ordinary failure
    and carry on with the run."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def orderly_exit(grace_s: float = GRACE_S) -> Iterator[None]:
    """Within this block SIGTERM raises Terminated in the main thread; the previous handler is
    put back on the way out. Outside the main thread (where signals cannot be handled) it does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        if received:  # already cleaning up: let the cleanup finish
            return
        received = True
        _start_backstop(grace_s)
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if received:  # cleaned up: leave soon, whatever a worker thread is still waiting for
            _start_backstop(AFTER_CLEANUP_S)


def _start_backstop(grace_s: float) -> None:
    def expire() -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(EXIT_TERMINATED)

    timer = threading.Timer(grace_s, expire)
    timer.name = "goalsync-sigterm-backstop"
    timer.daemon = True
    timer.start()
