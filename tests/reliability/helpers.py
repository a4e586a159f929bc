"""What the reliability tests share: a workspace that runs the real CLI as a subprocess against
the loopback fakes, and readers for everything a run leaves behind (the state store, the csv /
xlsx outputs, the fake sheet, the JSON log lines).

The subprocess may open sockets to loopback only: a sitecustomize guard records and refuses
anything else. The same file holds two test seams, both off unless their variable is set:
- `RELIABILITY_TIMEOUT_S` shortens the connectors' request timeouts (normally 10-120 s), so that
  a fake that never answers shows a real socket timeout within a test's patience;
- `RELIABILITY_CRASH_EVALUATE` makes the evaluation raise a RuntimeError with that text: an
  internal error, to see what a traceback at `--log-level debug` prints.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import itertools
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.fakes.guard import guarded_env
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.sheets import FakeSpreadsheet

REPO = Path(__file__).resolve().parents[2]
DB = "goalsync.sqlite3"
LOCK = "run.lock"


# Two test seams in the child's sitecustomize, both off unless their variable is set.
SEAMS = """
if os.environ.get("RELIABILITY_TIMEOUT_S"):
    # Before the connectors that read these constants are imported.
    _s = float(os.environ["RELIABILITY_TIMEOUT_S"])
    import connectors.github.client as _github_client
    import connectors.jira.client as _jira_client
    import connectors.sheets.client as _sheets_client

    _jira_client.DEFAULT_TIMEOUT = (_s, _s)
    _github_client.DEFAULT_TIMEOUT_S = max(1, int(_s))
    _sheets_client.DEFAULT_TIMEOUT_S = _s

if os.environ.get("RELIABILITY_PEAK_FILE"):
    # The child's own peak resident size, for the parent to read: VmHWM belongs to this
    # process's memory since exec, where rusage's maxrss would also count the pytest process
    # this child was forked from.
    import atexit as _atexit

    def _write_peak():
        with open("/proc/self/status", encoding="ascii") as _fh:
            _kb = next((l.split()[1] for l in _fh if l.startswith("VmHWM:")), "0")
        with open(os.environ["RELIABILITY_PEAK_FILE"], "w", encoding="ascii") as _out:
            _out.write(_kb)

    _atexit.register(_write_peak)

if os.environ.get("RELIABILITY_CRASH_EVALUATE"):
    import sync.engine as _engine

    def _crash(*args, **kwargs):
        raise RuntimeError(os.environ["RELIABILITY_CRASH_EVALUATE"])

    _engine._evaluate_now = _crash
"""

# Variables a developer's shell may hold that would change what a run does.
_DROPPED_PREFIXES = ("GOALSYNC_", "JIRA_", "GITHUB_", "GOOGLE_", "RELIABILITY_")


@dataclass
class Result:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float = 0.0  # this child's own peak resident size (wait4), when measured

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines on stderr."""
        out = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def event(self, name: str) -> dict[str, Any]:
        found = [e for e in self.events if e.get("event") == name]
        assert found, f"no {name!r} event in:\n{self.stderr[-3000:]}"
        return found[-1]

    def names(self) -> list[str]:
        return [str(e.get("event")) for e in self.events]

    def __str__(self) -> str:  # what an assertion message shows
        out, err = self.stdout[-2000:], self.stderr[-4000:]
        return f"exit {self.code}\n--- stdout\n{out}\n--- stderr\n{err}"


@dataclass
class Workspace:
    """A folder with goalsync.yaml, its state dir (`state`) and outputs (`out`), and the
    environment the CLI runs with."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def db(self) -> Path:
        return self.state / DB

    def write_config(self, text: str) -> None:
        (self.root / "goalsync.yaml").write_text(text, encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        cmd = [sys.executable, "-m", "sync.cli", *args[:1], "--config", "goalsync.yaml"]
        if args[:1] and args[0] in ("run", "plan", "backfill"):
            cmd += ["--state-dir", "state"]
        return [*cmd, *args[1:]]

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        env = guarded_env(self.root, env, SEAMS) | {
            "GOALSYNC_LOG_FORMAT": "json",
            "GOALSYNC_RETRY_BUDGET_S": "10",
        }
        return env | self.env | dict(extra or {})

    def goalsync(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> Result:
        """Run the CLI to its end. `peak_mb` is the child's own peak resident size (VmHWM,
        written by the child as it exits): rusage would count the pytest process it was forked
        from, a gigabyte or more late in a full session."""
        t0 = time.monotonic()
        peak = self.root / f".peak-{os.getpid()}-{time.monotonic_ns()}"
        done = subprocess.run(
            self.command(*args),
            cwd=self.root,
            env=self.environ({"RELIABILITY_PEAK_FILE": str(peak), **(env or {})}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.check_network()
        peak_mb = int(peak.read_text() or 0) / 1024 if peak.exists() else 0.0
        peak.unlink(missing_ok=True)
        return Result(done.returncode, done.stdout, done.stderr, time.monotonic() - t0, peak_mb)

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """A run in the background (for the lock and signal tests)."""
        return subprocess.Popen(
            self.command(*args),
            cwd=self.root,
            env=self.environ(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def check_network(self) -> None:
        attempts = self.root / "network-attempts.txt"
        assert not attempts.exists(), f"a run tried to leave loopback: {attempts.read_text()}"

    # --- what a run leaves behind -------------------------------------------------------------

    def db_bytes(self) -> bytes | None:
        return self.db.read_bytes() if self.db.exists() else None

    def files(self, folder: Path | None = None) -> dict[str, bytes]:
        base = folder or self.out
        if not base.exists():
            return {}
        return {
            str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
        }

    def temp_files(self) -> list[Path]:
        """Leftovers of an unfinished write anywhere in the workspace: sinks' temporary files,
        SQLite journals."""
        return [
            p
            for p in self.root.rglob("*")
            if p.is_file() and (p.name.endswith(".tmp") or p.name.endswith("-journal"))
        ]

    def csv_rows(self, tab: str, folder: str = "out/csv") -> list[dict[str, str]]:
        with (self.root / folder / f"{tab}.csv").open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    def status(self, folder: str = "out/csv") -> dict[str, dict[str, str]]:
        return {r["ID"]: r for r in self.csv_rows("Status", folder)}

    def run_tab(self, folder: str = "out/csv") -> dict[str, dict[str, str]]:
        return {r["Key"]: r for r in self.csv_rows("Run", folder)}

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the state store (read-only: the test never changes what it checks)."""
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return list(db.execute(sql, params))
        finally:
            db.close()

    def source_row(self, name: str) -> dict[str, Any]:
        rows = self.query(
            "SELECT cursor, last_success, stale_since, last_error FROM sources WHERE source = ?",
            name,
        )
        assert rows, f"no row for source {name!r} in the store"
        cursor, last_success, stale_since, last_error = rows[0]
        return {
            "cursor": cursor,
            "last_success": last_success,
            "stale_since": stale_since,
            "last_error": last_error,
        }

    def lock_is_free(self) -> bool:
        """Whether a new run could take the run lock now (the test takes and drops it)."""
        path = self.state / LOCK
        if not path.exists():
            return True
        fd = os.open(path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        finally:
            os.close(fd)


def wait_for(condition: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def config(
    sources: str,
    sinks: str,
    goals: str,
    *,
    cycle: str = "{start: 2026-10-01, due: 2026-12-31}",
    timezone: str = "UTC",
) -> str:
    """goalsync.yaml from its parts (each an indented YAML block without its key)."""
    return (
        f"version: 1\ntimezone: {timezone}\ncycle: {cycle}\n"
        f"sources:\n{sources}sinks:\n{sinks}goals:\n{goals}"
    )


def cycle_around_today() -> str:
    today = date.today()
    return f"{{start: {today - timedelta(days=30)}, due: {today + timedelta(days=60)}}}"


def sheet_rows(book: FakeSpreadsheet, tab: str) -> list[dict[str, Any]]:
    """A tab of the fake sheet as dicts by header (unformatted values, as the API reads them)."""
    header, *rows = book.values(tab)
    return [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in rows]


def sheet_status(book: FakeSpreadsheet) -> dict[str, dict[str, Any]]:
    return {str(r["ID"]): r for r in sheet_rows(book, "Status")}


def sheet_without(book: FakeSpreadsheet, *tabs: str) -> dict[str, Any]:
    """The sheet's content, but for the tabs named (the Run tab changes every run)."""
    return {k: v for k, v in book.snapshot().items() if k not in tabs}


@dataclass(frozen=True)
class Arrival:
    monotonic: float
    wall: float
    method: str
    path: str


class Timed(FakeServer):
    """A mixin for the fakes: when each request arrived (before any fault delays it), and a
    rate limit whose Retry-After is an HTTP date computed when it is answered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[Arrival] = []
        self._date_limits: dict[tuple[str, str], tuple[int, int]] = {}
        self.asked_until: dict[tuple[str, str], float] = {}  # the instant each date named

    def limit_until_date(self, method: str, path: str, seconds: int, status: int = 429) -> None:
        """Answer the next request to exactly `path` with `status` and `Retry-After: <HTTP
        date>`, whole `seconds` ahead of the moment it is answered."""
        self._date_limits[(method, path)] = (seconds, status)

    def _dispatch(self, request: Request) -> Response | None:
        self.arrivals.append(Arrival(time.monotonic(), time.time(), request.method, request.path))
        limit = self._date_limits.pop((request.method, request.path), None)
        if limit is not None:
            seconds, status = limit
            at = math.ceil(time.time()) + seconds
            self.asked_until[(request.method, request.path)] = float(at)
            when = format_datetime(datetime.fromtimestamp(at, UTC), usegmt=True)
            return Response(status, {"message": "slow down"}, {"Retry-After": when})
        return super()._dispatch(request)

    def arrived(self, method: str, path: str, *, exact: bool = True) -> list[Arrival]:
        return [
            a
            for a in self.arrivals
            if a.method == method and (a.path == path if exact else a.path.startswith(path))
        ]


def gaps(arrivals: list[Arrival]) -> list[float]:
    return [b.monotonic - a.monotonic for a, b in itertools.pairwise(arrivals)]


def every_string(value: Any) -> Iterator[str]:
    """Every string inside a nested structure (a fake sheet's snapshot, a JSON document)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from every_string(k)
            yield from every_string(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from every_string(v)


@dataclass
class Forked:
    """A CLI run in a forked child of the test process (see `fork_run`)."""

    pid: int
    log: Path
    code: int | None = None

    def poll(self) -> int | None:
        """Its exit code (negative: the signal that ended it) once it ended, else None."""
        if self.code is not None:
            return self.code
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
                raise AssertionError(f"run {self.pid} still running after {timeout} s")
            time.sleep(0.005)
        return code

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def fork_run(ws: Workspace, *args: str, env: Mapping[str, str] | None = None) -> Forked:
    """The CLI's `main()` in a forked child of this process, in `ws.root` with `ws`'s
    environment, its stdout and stderr in a log file. The child is a process of its own (its own
    pid, files, SQLite and run locks, ended for real by a signal) that skips the interpreter's
    start-up (~0.8 s of imports), so a sweep can afford dozens of runs. It has no network guard
    (that is the subprocess's sitecustomize): use it with local sources and sinks only."""
    from sync.cli import main  # imported here, before the fork, once

    log = ws.root / f"fork-{next(_FORKS)}.log"
    argv = ws.command(*args)[3:]  # without `python -m sync.cli`
    environ = ws.environ(env)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        code = 1
        try:
            os.chdir(ws.root)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            os.environ.clear()
            os.environ.update(environ)
            code = main(argv)
        except BaseException:  # the child reports everything, then exits
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    return Forked(pid, log)


_FORKS = itertools.count(1)


def state_snapshot(state: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of each file in a state dir but the run lock (which a run rewrites when it
    starts): a run's first change here is its state commit opening the database."""
    try:
        entries = list(os.scandir(state))
    except FileNotFoundError:
        return {}
    out = {}
    for e in entries:
        if e.name == LOCK:
            continue
        with contextlib.suppress(FileNotFoundError):
            st = e.stat()
            out[e.name] = (st.st_size, st.st_mtime_ns)
    return out
