"""sync.store.Store: reads never write, a run's commit is all or nothing, and what it keeps."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import sync.statewrite
from sync.base.records import Event, GoalDef, Metric, Override, Records, WorkItem
from sync.base.report import HistoryRow
from sync.store import DB_NAME, RunRow, SourceCommit, Store

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def item(key: str, state: str = "todo", source: str = "tasks", title: str = "") -> WorkItem:
    return WorkItem(source=source, key=key, state=state, title=title or key)  # type: ignore[arg-type]


def event(key: str, minutes: int, source: str = "tasks") -> Event:
    return Event(
        source=source,
        item_key=key,
        at=T0 + timedelta(minutes=minutes),
        kind="status_changed",
        from_state="todo",
        to_state="in_progress",
        to_value="Doing",
    )


def hist(day: int, ident: str, value: float, status: str = "On track") -> HistoryRow:
    return HistoryRow(
        date=date(2026, 11, day),
        id=ident,
        value=value,
        progress=value,
        expected=50.0,
        status=status,
    )


def commit(
    store: Store,
    sources: dict[str, SourceCommit],
    *,
    when: datetime = T0,
    history: list[HistoryRow] | None = None,
    run_id: str = "",
    exit_code: int = 0,
) -> None:
    with store.open_run(started=when, sources=sources, history=history or []) as run:
        run.commit(
            RunRow(
                run_id=run_id or f"run-{when.isoformat()}",
                started=when,
                finished=when + timedelta(seconds=3),
                as_of=when,
                exit_code=exit_code,
                summary={"status": {"On track": 1}},
            )
        )


def ok(
    *items: WorkItem, events: tuple[Event, ...] = (), complete: bool = True, **kw: Any
) -> SourceCommit:
    return SourceCommit(
        type="file", ok=True, records=Records(items=items, events=events), complete=complete, **kw
    )


def test_reads_on_a_missing_db_return_empty_and_create_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    store = Store(state_dir)
    assert not store.exists
    assert store.load_records(["tasks", "kpi"]) == {"tasks": Records(), "kpi": Records()}
    assert store.source_states() == {}
    assert store.history() == []
    assert store.last_runs() == []
    assert not state_dir.exists()

    state_dir.mkdir()
    assert store.load_records(["tasks"]) == {"tasks": Records()}
    assert list(state_dir.iterdir()) == []


def test_reads_never_change_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A"))}, history=[hist(16, "G1", 10)])
    before = store.path.read_bytes()
    store.load_records(["tasks"])
    store.source_states()
    store.history()
    store.last_runs()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


def test_a_commit_writes_records_cursors_state_history_and_the_run(tmp_path: Path) -> None:
    store = Store(tmp_path / "state")
    metric = Metric(source="kpi", name="nps", at=T0, value=41.5)
    goal_def = GoalDef(source="kpi", id="G1", target=12.0, origin="goals.csv:2")
    override = Override(source="kpi", id="G1.1", status="At risk", reason="vendor")
    commit(
        store,
        {
            "tasks": ok(
                item("A", "in_progress"),
                item("B"),
                events=(event("A", 1),),
                cursor="c-1",
                values={"etag": "xyz"},
            ),
            "kpi": SourceCommit(
                type="file",
                ok=True,
                records=Records(metrics=(metric,), goal_defs=(goal_def,), overrides=(override,)),
            ),
        },
        history=[hist(16, "G1", 10), hist(16, "G1.1", 20)],
        run_id="r1",
    )
    assert store.exists

    loaded = store.load_records(["tasks", "kpi", "gone"])
    assert {i.key for i in loaded["tasks"].items} == {"A", "B"}
    assert loaded["tasks"].events == (event("A", 1),)
    assert loaded["kpi"].metrics == (metric,)
    assert loaded["kpi"].goal_defs == (goal_def,)
    assert loaded["kpi"].overrides == (override,)
    assert loaded["gone"] == Records()

    states = store.source_states()
    assert states["tasks"].cursor == "c-1"
    assert states["tasks"].values == {"etag": "xyz"}
    assert states["tasks"].last_success == T0
    assert states["tasks"].last_full == T0  # a complete pull is a full one
    assert states["tasks"].stale_since is None

    assert store.history() == [hist(16, "G1", 10), hist(16, "G1.1", 20)]
    (last,) = store.last_runs()
    assert last["run_id"] == "r1" and last["exit_code"] == 0
    assert last["summary"] == {"status": {"On track": 1}}


def test_a_failure_midway_through_commit_leaves_the_file_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A")), "kpi": ok()}, history=[hist(16, "G1", 10)], run_id="r1")
    before = store.path.read_bytes()

    real = sync.statewrite.commit_source
    calls: list[str] = []

    def fail_on_second(db: Any, name: str, c: SourceCommit, *rest: Any) -> None:
        real(db, name, c, *rest)  # the first source's rows are written inside the transaction
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(sync.statewrite, "commit_source", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        commit(
            store,
            {"tasks": ok(item("Z"), cursor="c-9"), "kpi": ok()},
            when=T0 + timedelta(days=1),
            history=[hist(17, "G1", 99)],
            run_id="r2",
        )
    assert calls == ["tasks", "kpi"]
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]  # no journal left behind
    monkeypatch.undo()
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["A"]
    assert store.history() == [hist(16, "G1", 10)]
    assert [r["run_id"] for r in store.last_runs()] == ["r1"]


def test_a_failed_first_commit_leaves_no_database_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "state")

    def boom(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sync.statewrite, "commit_source", boom)
    with pytest.raises(OSError):
        commit(store, {"tasks": ok(item("A"))})
    monkeypatch.undo()
    assert not store.exists
    # ... so the next run reads an empty state instead of tripping over an empty file.
    assert store.source_states() == {}
    assert store.history() == []
    commit(store, {"tasks": ok(item("A"))})
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["A"]


def test_a_complete_pull_replaces_records_and_drops_vanished_items_and_their_events(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A"), item("B"), events=(event("A", 1), event("B", 2)))})
    commit(store, {"tasks": ok(item("A", "done"))}, when=T0 + timedelta(hours=1))
    loaded = store.load_records(["tasks"])["tasks"]
    assert loaded.items == (item("A", "done"),)
    # Events of items still there stay (a source without history accumulates them).
    assert loaded.events == (event("A", 1),)


def test_an_incremental_pull_upserts_by_key(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A"), item("B"), events=(event("A", 1),))})
    commit(
        store,
        {"tasks": ok(item("B", "done"), item("C"), events=(event("C", 5),), complete=False)},
        when=T0 + timedelta(hours=1),
    )
    loaded = store.load_records(["tasks"])["tasks"]
    assert {i.key: i.state for i in loaded.items} == {"A": "todo", "B": "done", "C": "todo"}
    assert set(loaded.events) == {event("A", 1), event("C", 5)}
    state = store.source_states()["tasks"]
    assert state.last_success == T0 + timedelta(hours=1)
    assert state.last_full == T0  # an incremental pull does not move last_full


def test_history_is_upserted_by_date_and_id(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {}, history=[hist(16, "G1", 10), hist(16, "G1.1", 20)])
    commit(
        store,
        {},
        history=[hist(16, "G1", 15, "At risk"), hist(17, "G1", 30)],
        when=T0 + timedelta(hours=2),
    )
    rows = store.history()
    assert rows == [hist(16, "G1", 15, "At risk"), hist(16, "G1.1", 20), hist(17, "G1", 30)]
    keys = [(h.date, h.id) for h in rows]
    assert len(keys) == len(set(keys))


def test_sources_removed_from_the_config_are_pruned(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(
        store,
        {
            "tasks": ok(item("A"), cursor="c1", values={"k": "v"}),
            "old": ok(item("X", source="old"), cursor="c2", values={"k": "w"}),
        },
        history=[hist(16, "G1", 10)],
    )
    commit(store, {"tasks": ok(item("A"), cursor="c3")}, when=T0 + timedelta(hours=1))
    assert set(store.source_states()) == {"tasks"}
    assert store.load_records(["old"])["old"] == Records()
    assert store.history() == [hist(16, "G1", 10)]  # History is not per source: it stays


def test_stale_since_is_kept_from_the_first_failure_and_cleared_by_success(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A"), cursor="c1")})
    t1, t2, t3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
    commit(store, {"tasks": SourceCommit(type="file", ok=False, error="first")}, when=t1)
    commit(store, {"tasks": SourceCommit(type="file", ok=False, error="second")}, when=t2)
    state = store.source_states()["tasks"]
    assert state.stale_since == t1
    assert state.last_error == "second"
    assert state.last_success == T0
    assert state.cursor == "c1"  # a failed pull does not move the cursor
    # The stale source keeps its records.
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["A"]

    commit(store, {"tasks": ok(item("A"), cursor="c2")}, when=t3)
    state = store.source_states()["tasks"]
    assert state.stale_since is None and state.last_error is None
    assert (state.last_success, state.cursor) == (t3, "c2")


def test_a_source_that_never_succeeded_is_stale_since_its_first_failure(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": SourceCommit(type="file", ok=False, error="nope")})
    state = store.source_states()["tasks"]
    assert state.stale_since == T0 and state.last_success is None
    assert store.load_records(["tasks"])["tasks"] == Records()


def test_source_values_are_replaced_not_merged(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(values={"a": "1", "b": "2"})})
    commit(store, {"tasks": ok(values={"b": "3"})}, when=T0 + timedelta(hours=1))
    assert store.source_states()["tasks"].values == {"b": "3"}


def test_last_runs_are_newest_first(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for n in range(3):
        commit(store, {}, when=T0 + timedelta(hours=n), run_id=f"r{n}", exit_code=n)
    assert [r["run_id"] for r in store.last_runs()] == ["r2", "r1", "r0"]
    assert [r["run_id"] for r in store.last_runs(limit=1)] == ["r2"]


def killed_midway(store: Store, sources: dict[str, SourceCommit], **kw: Any) -> None:
    """A run's commit whose process dies (os._exit: no `finally`, no rollback) after its records
    are written, with a cache small enough that SQLite spilled changed pages into the database
    file: what SIGKILL during a commit leaves, a hot journal beside a half-written file."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            real = sync.statewrite.write_history

            def die(db: Any, rows: Any) -> None:
                real(db, rows)
                os._exit(0)

            sync.statewrite.write_history = die
            real_source = sync.statewrite.commit_source

            def small_cache(db: Any, *args: Any) -> None:
                db.execute("PRAGMA cache_size=2")  # spill: the database file changes mid-commit
                real_source(db, *args)

            sync.statewrite.commit_source = small_cache  # type: ignore[assignment]
            commit(store, sources, **kw)
        finally:
            os._exit(1)  # the commit finished: the test's premise failed
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child did not die inside the commit"
    assert store.path.with_name(DB_NAME + "-journal").exists()  # a hot journal is left


def many(prefix: str, n: int = 3000) -> tuple[WorkItem, ...]:
    return tuple(item(f"{prefix}-{k}", title="x" * 200) for k in range(n))


def test_a_commit_killed_midway_is_rolled_back_by_the_next_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, {"tasks": ok(item("A"))}, history=[hist(16, "G1", 10)], run_id="r1")
    before = store.path.read_bytes()

    killed_midway(
        store,
        {"tasks": ok(*many("B"), cursor="c-2")},
        when=T0 + timedelta(days=1),
        history=[hist(17, "G1", 99)],
        run_id="r2",
    )
    assert store.path.read_bytes() != before  # the file itself was half written

    assert store.exists
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["A"]
    assert store.history() == [hist(16, "G1", 10)]
    assert [r["run_id"] for r in store.last_runs()] == ["r1"]
    assert store.source_states()["tasks"].cursor is None
    # The read rolled the journal back: the file is again what the last commit left.
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]

    commit(store, {"tasks": ok(item("C"))}, when=T0 + timedelta(days=2), run_id="r3")
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["C"]


def test_a_first_commit_killed_midway_reads_as_an_empty_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "state")
    killed_midway(store, {"tasks": ok(*many("A"))}, history=[hist(16, "G1", 10)], run_id="r1")
    assert store.path.stat().st_size > 0  # pages of the unfinished first commit

    assert not store.exists  # no committed state: what doctor and the reads go by
    assert store.load_records(["tasks"]) == {"tasks": Records()}
    assert store.source_states() == {}
    assert store.history() == []
    assert store.last_runs() == []

    commit(store, {"tasks": ok(item("B"))}, history=[hist(16, "G1", 10)], run_id="r2")
    assert store.exists
    assert [i.key for i in store.load_records(["tasks"])["tasks"].items] == ["B"]
    assert [r["run_id"] for r in store.last_runs()] == ["r2"]


def test_an_empty_database_file_reads_as_empty_and_is_left_alone(tmp_path: Path) -> None:
    """What a first commit killed before its first page leaves: a 0-byte file."""
    store = Store(tmp_path)
    store.path.touch()
    assert not store.exists
    assert store.load_records(["tasks"]) == {"tasks": Records()}
    assert store.source_states() == {}
    assert store.history() == []
    assert store.last_runs() == []
    assert store.path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


def test_a_failed_commit_on_an_empty_file_leaves_no_database_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    store.path.touch()  # left by a first commit that was killed

    def boom(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sync.statewrite, "commit_source", boom)
    with pytest.raises(OSError):
        commit(store, {"tasks": ok(item("A"))})
    assert not store.path.exists()


def test_a_file_sqlite_cannot_read_exists_and_its_reads_say_why(tmp_path: Path) -> None:
    """A damaged or foreign file is there (doctor says so and names it); it is not taken for an
    empty state, which would quietly start History over."""
    store = Store(tmp_path)
    store.path.write_bytes(b"not a database, " * 512)
    assert store.exists
    with pytest.raises(sqlite3.DatabaseError):
        store.history()
    with pytest.raises(sqlite3.DatabaseError):
        store.last_runs()
