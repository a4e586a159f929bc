"""Store.open_run: a run's rows written while its sinks publish, COMMIT after.

Until the COMMIT the database file is untouched and readers (another process: explain, digest,
doctor) read the last committed state without waiting, even for a run larger than SQLite's
default page cache (2 MB), which would spill pages into the file under an EXCLUSIVE lock that
readers cannot pass. Leaving the block without the commit rolls back to the file byte for byte.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import sync.statewrite
from sync.base.records import Records
from sync.store import DB_NAME, OpenRun, RunRow, SourceCommit, Store
from tests.sync.test_store import T0, commit, hist, item

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 20.0  # bound on every wait for the writer: a broken writer fails, never hangs


def big(prefix: str, n: int = 8000) -> SourceCommit:
    """Records well past SQLite's default page cache (about 4 MB of JSON)."""
    items = tuple(item(f"{prefix}-{k}", title="x" * 400) for k in range(n))
    return SourceCommit(type="file", ok=True, records=Records(items=items), cursor=f"c-{prefix}")


def committed_day1(tmp_path: Path) -> Store:
    store = Store(tmp_path)
    commit(store, {"tasks": big("A")}, history=[hist(16, "G1", 10)], run_id="r1")
    return store


def day2(store: Store, **kw: Any) -> Any:
    return store.open_run(
        started=T0 + timedelta(days=1),
        sources={"tasks": big("B")},
        history=[hist(17, "G1", 20)],
        kept={"week": "2026-W47"},
        **kw,
    )


def held_at_budget(store: Store) -> OpenRun:
    """Day 2's run with a budget (256 KiB) far under its records: its writer stops there and
    waits for the publish."""
    return OpenRun(
        store,
        started=T0 + timedelta(days=1),
        sources={"tasks": big("B")},
        history=[hist(17, "G1", 20)],
        kept=None,
        budget=256 * 1024,
    )


def finish(run: OpenRun, run_id: str = "r2") -> None:
    when = T0 + timedelta(days=1)
    run.commit(
        RunRow(
            run_id=run_id,
            started=when,
            finished=when + timedelta(seconds=9),
            as_of=when,
            exit_code=0,
            summary={},
        )
    )


def read_elsewhere(store: Store) -> str:
    """What another process reads now: its runs, History days and the first item's key."""
    code = (
        "import sys, pathlib; from sync.store import Store; s = Store(pathlib.Path(sys.argv[1]));"
        "print([r['run_id'] for r in s.last_runs()], [str(h.date) for h in s.history()],"
        " s.load_records(['tasks'])['tasks'].items[0].key, s.mark('week'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(store.state_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # "database is locked": the writer spilled
    return done.stdout.strip()


def test_readers_see_the_last_commit_until_the_run_commits(tmp_path: Path) -> None:
    store = committed_day1(tmp_path)
    before = store.path.read_bytes()
    with day2(store) as run:
        run.start()
        assert run.written.wait(WAIT_S)  # every row is in, uncommitted
        assert store.path.read_bytes() == before  # nothing spilled into the file
        t0 = time.monotonic()
        assert read_elsewhere(store) == "['r1'] ['2026-11-16'] A-0 None"
        assert time.monotonic() - t0 < 4  # read at once, not after a busy wait
        finish(run)
    assert read_elsewhere(store) == "['r2', 'r1'] ['2026-11-16', '2026-11-17'] B-0 2026-W47"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


def test_past_its_budget_the_writer_waits_for_the_publish_and_readers_still_read(
    tmp_path: Path,
) -> None:
    store = committed_day1(tmp_path)
    before = store.path.read_bytes()
    run = held_at_budget(store)
    try:
        run.start()
        assert not run.written.wait(0.5)  # held at its budget while the sinks publish
        assert store.path.read_bytes() == before
        assert read_elsewhere(store) == "['r1'] ['2026-11-16'] A-0 None"
        finish(run)  # the publish ended: the rest is written, then committed
    finally:
        run.close()
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items][:1] == ["B-0"]
    assert len(store.load_records(["tasks"])["tasks"].items) == 8000
    assert [r["run_id"] for r in store.last_runs()] == ["r2", "r1"]


def test_the_rows_written_after_the_publish_go_through_the_default_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The big page cache is for the publish's duration only: a writer held at its budget gives
    it back once the publish ended, before the rest of its rows (a 100,000-item commit filled
    all 64 MiB of it after the publish: the run's memory peak)."""
    store = committed_day1(tmp_path)
    said: list[str] = []
    connect = Store.connect_writer

    def traced(self: Store, *, threads: bool = False) -> Any:
        db, fresh = connect(self, threads=threads)
        db.set_trace_callback(said.append)
        return db, fresh

    monkeypatch.setattr(Store, "connect_writer", traced)
    run = held_at_budget(store)
    try:
        run.start()
        assert not run.written.wait(0.5)  # held at its budget
        finish(run)
    finally:
        run.close()
    pragmas = [s for s in said if s.startswith("PRAGMA cache_size")]
    assert pragmas == [
        f"PRAGMA cache_size=-{sync.statewrite.OPEN_CACHE_KIB}",
        f"PRAGMA cache_size=-{sync.statewrite.SETTLED_CACHE_KIB}",
    ]
    settled = said.index(pragmas[1])
    inserts = [i for i, s in enumerate(said) if s.startswith("INSERT OR REPLACE INTO records")]
    assert inserts[0] < settled < inserts[-1]  # between the rows written before and after
    assert len(store.load_records(["tasks"])["tasks"].items) == 8000


@pytest.mark.parametrize("when", ["while writing", "after writing"])
def test_leaving_without_the_commit_leaves_the_file_byte_for_byte(
    tmp_path: Path, when: str
) -> None:
    store = committed_day1(tmp_path)
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError, match="publish failed"), day2(store) as run:
        run.start()
        if when == "after writing":
            assert run.written.wait(WAIT_S)
        raise RuntimeError("publish failed")
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]  # no journal left
    assert [r["run_id"] for r in store.last_runs()] == ["r1"]
    assert store.mark("week") is None


def test_a_first_run_left_without_the_commit_leaves_no_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "state")
    with pytest.raises(RuntimeError), day2(store) as run:
        run.start()
        assert run.written.wait(WAIT_S)
        raise RuntimeError("publish failed")
    assert not store.path.exists()
    assert not store.exists


def test_a_block_that_never_started_the_writer_writes_nothing(tmp_path: Path) -> None:
    """A publish that fails before the first remote write: no transaction was opened."""
    store = committed_day1(tmp_path)
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError), day2(store):
        raise RuntimeError("a sink failed to prepare")
    assert store.path.read_bytes() == before


def test_the_writers_failure_is_raised_by_commit_and_nothing_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = committed_day1(tmp_path)
    before = store.path.read_bytes()

    def full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sync.statewrite, "write_history", full)
    with pytest.raises(OSError, match="No space left"), day2(store) as run:
        run.start()
        finish(run)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


def test_the_runs_row_is_written_at_the_commit_with_its_finish_time(tmp_path: Path) -> None:
    store = committed_day1(tmp_path)
    with day2(store) as run:
        run.start()
        assert run.written.wait(WAIT_S)
        finish(run, run_id="r2")
    (last, _) = store.last_runs()
    assert last["run_id"] == "r2"
    assert last["finished"] == (T0 + timedelta(days=1, seconds=9)).isoformat()
    assert store.source_states()["tasks"].cursor == "c-B"
