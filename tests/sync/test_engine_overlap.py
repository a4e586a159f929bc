"""sync.engine.run writes the state's rows while the remote sinks publish, and COMMITs only after
every sink published: a publish that fails (or a SIGTERM during it) leaves the state file byte
for byte as it was; a state write that fails after the publish fails the run as a commit did.

The remote sink here is a test double: its write waits for the state writer's progress (the
rows written), so that a run that wrote the state only after publishing would time out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import sync.statewrite
from sync import signals
from sync.base.contracts import PublishContext, Sink
from sync.base.errors import EXIT_OK, EXIT_PUBLISH, PublishError
from sync.base.report import Table
from sync.config import LoadedConfig
from sync.engine import RunOptions, RunOutcome, build, run
from sync.store import DB_NAME, Store

from .test_engine import DAY1, DAY2, ITEMS, ITEMS_HEADER, at, snapshot, temp_files, write_setup

WAIT_S = 10.0  # how long the remote write waits for the state's rows before it gives up

MANY = ITEMS + "".join(  # enough rows that the state's write is not instant
    f"M-{k},Task {k} {'x' * 80},todo,Todo,ann,billing,,,1,2026-10-03,2026-10-12,,,\n"
    for k in range(800)
)


class RemoteSink:
    """A remote sink whose write runs `act` (what the Sheets server's wait is in a real run)."""

    type = "remote"

    def __init__(self, act: Callable[[], None]) -> None:
        self.act = act
        self.applied = 0

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> RemoteSink._Write:
        return RemoteSink._Write(self)

    class _Write:
        description = "remote test sink"
        remote = True

        def __init__(self, sink: RemoteSink) -> None:
            self.sink = sink

        def apply(self) -> None:
            self.sink.act()
            self.sink.applied += 1

        def discard(self) -> None:
            pass


@pytest.fixture
def rows_written(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set by the state writer once the sources' rows are written (History is its last)."""
    written = threading.Event()
    real = sync.statewrite.write_history

    def history(db: Any, rows: Any) -> None:
        real(db, rows)
        written.set()

    monkeypatch.setattr(sync.statewrite, "write_history", history)
    return written


def go(config: LoadedConfig, tmp_path: Path, moment: Any, remote: RemoteSink) -> RunOutcome:
    sources, sinks = build(config)
    both: list[Sink] = [*sinks, remote]
    return run(config, Store(tmp_path / "state"), RunOptions(), at(moment), built=(sources, both))


def waits_for(event: threading.Event) -> Callable[[], None]:
    def act() -> None:
        if not event.wait(WAIT_S):
            raise RuntimeError("the state's rows were not written while the sink published")

    return act


def test_the_state_is_written_while_the_remote_sink_publishes(
    tmp_path: Path, rows_written: threading.Event
) -> None:
    config = write_setup(tmp_path, items=MANY)
    remote = RemoteSink(waits_for(rows_written))
    outcome = go(config, tmp_path, DAY1, remote)
    assert outcome.exit_code == EXIT_OK, outcome.error
    assert remote.applied == 1
    store = Store(tmp_path / "state")
    assert [r["run_id"] for r in store.last_runs()] == [outcome.run_id]
    assert len(store.load_records(["tasks"])["tasks"].items) == 803


def failing_after_the_rows(event: threading.Event, error: BaseException) -> Callable[[], None]:
    def act() -> None:
        waits_for(event)()
        raise error

    return act


@pytest.mark.parametrize(
    "error",
    [PublishError("sheets: 500 after retries"), RuntimeError("a bug in the sink")],
    ids=["PublishError", "any exception"],
)
def test_a_publish_that_fails_after_the_rows_were_written_leaves_the_state_byte_for_byte(
    tmp_path: Path, rows_written: threading.Event, error: Exception
) -> None:
    config = write_setup(tmp_path, items=MANY)
    assert go(config, tmp_path, DAY1, RemoteSink(lambda: None)).exit_code == EXIT_OK
    db = tmp_path / "state" / DB_NAME
    before, outputs = db.read_bytes(), snapshot(tmp_path / "out")
    rows_written.clear()
    (tmp_path / "items.csv").write_text(MANY.replace(",todo,Todo,", ",done,Done,"))

    outcome = go(config, tmp_path, DAY2, RemoteSink(failing_after_the_rows(rows_written, error)))
    assert rows_written.is_set()  # the rows were written (uncommitted) before the failure
    assert outcome.exit_code == EXIT_PUBLISH
    assert db.read_bytes() == before
    assert snapshot(tmp_path / "out") == outputs  # the file sinks were not renamed into place
    assert temp_files(tmp_path) == []  # no journal, no rendered files
    assert len(Store(tmp_path / "state").last_runs()) == 1


def test_sigterm_while_the_remote_sink_publishes_leaves_the_state_as_it_was(
    tmp_path: Path, rows_written: threading.Event
) -> None:
    config = write_setup(tmp_path, items=MANY)
    assert go(config, tmp_path, DAY1, RemoteSink(lambda: None)).exit_code == EXIT_OK
    db = tmp_path / "state" / DB_NAME
    before = db.read_bytes()
    rows_written.clear()
    (tmp_path / "items.csv").write_text(MANY.replace(",todo,Todo,", ",done,Done,"))

    terminated = failing_after_the_rows(rows_written, signals.Terminated())
    with pytest.raises(signals.Terminated) as raised:
        go(config, tmp_path, DAY2, RemoteSink(terminated))
    assert raised.value.exit_code == signals.EXIT_TERMINATED  # 143: nothing was committed
    assert db.read_bytes() == before
    assert temp_files(tmp_path) == []


def test_a_state_write_that_fails_fails_the_run_after_the_sinks_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when the commit came after the publish: the error is the run's (exit 1 at the CLI),
    the sinks hold the new publish, the state is as it was (the next run publishes again)."""
    config = write_setup(tmp_path)
    remote = RemoteSink(lambda: None)
    assert go(config, tmp_path, DAY1, remote).exit_code == EXIT_OK
    db = tmp_path / "state" / DB_NAME
    before = db.read_bytes()
    (tmp_path / "items.csv").write_text(ITEMS_HEADER + "T-9,New,done,Done,,billing,,,1,,,,,\n")

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sync.statewrite, "commit_source", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        go(config, tmp_path, DAY2, remote)
    assert remote.applied == 2
    status = (tmp_path / "out" / "csv" / "Status.csv").read_text(encoding="utf-8")
    assert "1 / 1" in status  # the csv sink published the new run
    assert db.read_bytes() == before
    assert temp_files(tmp_path) == []
