"""SIGTERM as an orderly exit.

Python's default action for SIGTERM ends the process on the spot: no `finally` block runs, so a
run stopped by its scheduler (a Kubernetes CronJob's deadline, `systemctl stop`, a CI timeout)
would leave its sinks' temporary files behind and its lock file naming a dead holder. Inside
`orderly_exit()` SIGTERM raises `Terminated` in the main thread instead, wherever it is waiting
(a socket read, a retry's sleep, a worker's result), so every `finally` and `except
BaseException` on the way up runs: temporary files are deleted, the lock is released. The CLI
catches it and exits 143 (128 + 15, what a shell reports for a process ended by SIGTERM).
Nothing was committed, so the next run pulls the same changes again.

A run that committed keeps its own exit code. The store commits inside `settling(code)`: once
the COMMIT went through, the run's outcome is settled, and a SIGTERM after it still stops what
is left (the summary, alerts, metrics) but `Terminated.exit_code` is the run's own code, 0 or
3, not 143: a scheduler must not record a failure for a run that published and committed. The
same holds for the backstop below. After `orderly_exit()` ends, a committed run's process
ignores SIGTERM (SIG_IGN, not a Python handler: the interpreter's shutdown resets Python handlers
to the default, which would end it with 143 in its last milliseconds). A SIGTERM during the
commit's transaction waits for its end (`deferred()`, used by the store): the sinks already
hold the publish, so the commit is finished rather than thrown away.

Guards keep the exit prompt and the cleanup whole:
- a second SIGTERM while the first is being handled is ignored, so it cannot cut a `finally`
  block short;
- a backstop ends the process GRACE_S seconds after the first SIGTERM if it is still alive, and
  AFTER_CLEANUP_S seconds after the cleanup reached the CLI: a worker thread blocked on a request
  that does not answer would otherwise keep the interpreter from exiting for that request's whole
  timeout (it only reads; nothing of it would be committed). It exits with the settled code, or
  143; it waits for a COMMIT under way (milliseconds; at most COMMIT_WAIT_S) so that it can never
  cut between a COMMIT and the record that it went through. A commit that outlasts the grace is
  ended mid-transaction: the next run rolls it back (sync/store.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
GRACE_S = 10.0
AFTER_CLEANUP_S = 1.0
COMMIT_WAIT_S = 30.0

# Held across a COMMIT and the record of its outcome; the backstop takes it (and keeps it) before
# it picks its exit code.
_commit_lock = threading.Lock()
_settled: int | None = None  # the exit code of a run that committed
_deferring = 0  # depth of `deferred()` blocks in the main thread
_pending: int | None = None  # a SIGTERM that arrived in one
# What our SIG_IGN replaced, when a command of this process committed (then the next
# `orderly_exit` puts that back on its way out, not the SIG_IGN).
_before_ignoring: Callable[[int, FrameType | None], Any] | int | signal.Handlers | None = None


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that `except Exception`
    handlers (a source that failed, a sink that failed) do not take it for an ordinary failure
    and carry on with the run. `exit_code`: what the process should exit with, 143, or the run's
    own code when it had committed already."""

    def __init__(self, signum: int = signal.SIGTERM, settled: int | None = None) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = signum
        self.settled = settled
        self.exit_code = EXIT_TERMINATED if settled is None else settled


@contextlib.contextmanager
def orderly_exit(grace_s: float = GRACE_S) -> Iterator[None]:
    """Within this block SIGTERM raises Terminated in the main thread; the previous handler is
    put back on the way out (when the run committed: SIG_IGN, so that nothing changes the code
    the process is leaving with). Outside the main thread (where signals cannot be handled) it
    does nothing."""
    global _settled, _pending, _before_ignoring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _settled = _pending = None  # a new command: nothing settled yet
    received = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        global _pending
        nonlocal received
        if received:  # already cleaning up: let the cleanup finish
            return
        received = True
        _start_backstop(grace_s)
        if _deferring:  # inside a commit: raised when it ends
            _pending = signum
            return
        raise Terminated(signum, _settled)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    if _before_ignoring is not None:  # ignoring since an earlier command here committed
        previous, _before_ignoring = _before_ignoring, None
    try:
        yield
    finally:
        if _settled is None:
            signal.signal(signal.SIGTERM, previous)
        else:  # the process is on its way out with the run's code: nothing may change it
            _before_ignoring = previous
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if received:  # cleaned up: leave soon, whatever a worker thread is still waiting for
            _start_backstop(AFTER_CLEANUP_S)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A SIGTERM arriving in this block (in the main thread, inside `orderly_exit`) is raised
    when the block ends, as Terminated carrying the code settled meanwhile, if any."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            signum, _pending = _pending, None
            raise Terminated(signum, _settled)


@contextlib.contextmanager
def settling(code: int | None) -> Iterator[None]:
    """Around the one statement that commits a run. When it ends without an error the run is
    settled: from then on a SIGTERM or a backstop ends the process with `code`, not 143. None:
    a commit that settles nothing; the backstop still waits for it."""
    global _settled
    with _commit_lock:
        yield
        if code is not None:
            _settled = code


def settled() -> int | None:
    """The exit code of the run this process committed, if it did."""
    return _settled


def _start_backstop(grace_s: float) -> None:
    def expire() -> None:
        # Kept, not released: no COMMIT may start between this choice and the exit.
        _commit_lock.acquire(timeout=COMMIT_WAIT_S)
        code = EXIT_TERMINATED if _settled is None else _settled
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    timer = threading.Timer(grace_s, expire)
    timer.name = "goalsync-sigterm-backstop"
    timer.daemon = True
    timer.start()
