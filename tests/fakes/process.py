"""Serve a fake from a process of its own, and run calls on it there.

A fake answers in threads of the process that holds it, so its CPU (rendering thousands of Jira
issues, GitHub pages, applying Sheets batchUpdates) shares that process's GIL with everything
else the process does. The benchmarks (bench/world.py) want each fake on a core of its own, as
remote APIs would be: `ForkedFake(fake).start()` starts the fake's server here if it is not
started yet (a fake may write its URL into what it is seeded with: start it, seed it, then fork),
pauses it (the port stays bound), forks a child that serves it on that same port, and then runs
in the child, one at a time, the calls the parent sends over a pipe: a module-level function or
a method of the fake's class (pickled by reference, so no lambdas) and its arguments, applied
to the fake in the child, the picklable result sent back.

Fork, not spawn: the child gets the seeded fake as it is, without pickling it. Fork copies only
the forking thread, so a lock another thread holds at that moment stays held in the child for
ever: `start` pauses the fake's serving thread first, and refuses to fork while other threads run.
Once the child serves, the parent closes its copy of the port and drops its copy of the fake.

The child ends with `stop` (or the `with` block), on the parent's exit (multiprocessing ends
daemonic children), and when the parent dies without either: its pipe reads end of file. It
ignores Ctrl-C, which the terminal sends the whole process group: the parent stops it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import signal
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar

from tests.fakes.server import FakeServer

F = TypeVar("F", bound=FakeServer)
P = ParamSpec("P")
R = TypeVar("R")

# The parent's ends of the pipes of every child still running. A child forked later inherits
# them; it closes them at once, so that each child sees end of file when the parent dies.
_parent_ends: list[Connection] = []


class FakeProcessError(RuntimeError):
    """A call failed in the fake's process (its traceback is the message), or the process is
    gone."""


class ForkedFake(Generic[F]):
    """A fake served from a forked child; use as a context manager, or start()/stop()."""

    def __init__(self, fake: F) -> None:
        self._fake: F | None = fake
        self.name = type(fake).__name__
        self.url = ""
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> Self:
        fake = self._fake
        if fake is None:
            raise FakeProcessError(f"{self.name}: already started")
        if not fake.bound:
            fake.start()
        fake.pause()
        if threading.active_count() > 1:
            names = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
            raise FakeProcessError(f"{self.name}: not forking with other threads running {names}")
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(fake, theirs), name=f"fake-{self.name}", daemon=True
        )
        _parent_ends.append(ours)
        self._conn, self._process = ours, process
        try:
            process.start()
            theirs.close()
            fake.stop()  # this process's copy of the port: the child's copy serves
            self._fake = None  # and the child's copy of the fake answers from now on
            self.url = self._receive()
        except BaseException:
            self.stop()
            raise
        return self

    def call(self, fn: Callable[Concatenate[F, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(fake, *args, **kwargs)` in the fake's process; `fn` a module-level function or
        a method of the fake's class (`FakeServer.count`), the arguments and result picklable."""
        if self._conn is None:
            raise FakeProcessError(f"{self.name}: not running")
        try:
            self._conn.send((fn, args, kwargs))
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise FakeProcessError(f"{self.name}: its process is gone") from exc
        result: R = self._receive()
        return result

    def cpu_seconds(self) -> float:
        """User and system CPU the fake's process has spent so far."""
        return self.call(_cpu_seconds)

    def stop(self) -> None:
        """Ask the child to stop its server and exit; terminate it if it does not, then kill."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError):  # already gone
                conn.send(None)
        if process is not None and process.pid is not None:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(2)
            if process.is_alive():
                process.kill()
                process.join()
        if conn is not None:
            conn.close()
            if conn in _parent_ends:
                _parent_ends.remove(conn)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _receive(self) -> Any:
        assert self._conn is not None
        try:
            status, value = self._conn.recv()
        except (EOFError, ConnectionResetError) as exc:
            raise FakeProcessError(f"{self.name}: its process is gone") from exc
        if status == "error":
            raise FakeProcessError(f"{self.name}: {value}")
        return value


def _serve(fake: FakeServer, conn: Connection) -> None:
    """The child: serve `fake`, send its URL, then run the calls that arrive until told to stop
    (None) or until the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in _parent_ends:
        end.close()
    fake.resume()
    try:
        conn.send(("ok", fake.url))
        while True:
            try:
                message = conn.recv()
            except (EOFError, ConnectionResetError):
                return
            if message is None:
                return
            fn, args, kwargs = message
            try:
                reply: tuple[str, Any] = ("ok", fn(fake, *args, **kwargs))
            except Exception:
                reply = ("error", traceback.format_exc())
            try:
                conn.send(reply)  # pickled whole before anything is written
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:
                conn.send(("error", traceback.format_exc()))
    finally:
        fake.stop()


def _cpu_seconds(fake: FakeServer) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
