"""Guarantee 5, the hard case: SIGKILL at any instant of the state commit.

A run publishes, then commits its state to SQLite in one transaction. SIGKILL there runs no
`finally` and no rollback: it can leave a hot journal beside a half-written database file (on a
first run, a database with no schema yet, or a 0-byte one). The next run must open that state
dir, heal it without a hand (SQLite rolls the journal back) and publish exactly what a run
that was never killed publishes.

The sweep: a run starts; a watcher polls the state dir in a tight loop and, at the first change
there (the commit opening the database: nothing else writes it but the run lock, which is left
out), waits an offset and sends SIGKILL. The offsets are spread over the commit's length as the
clean reference run measured it, so most kills land inside the transaction (a journal is left:
the run died mid-commit) and the rest just before it or just after. After each kill the next
run must exit 0 and its csv tabs (every tab but Run, which names the run) must equal the clean
run's, byte for byte; nothing of the killed run (journal, temporary files) may be left.

Both a first run (no state yet) and an incremental one (a day's state already committed,
History included: if the kill lost it, the History tab would miss that day) are swept. The runs
are forked from the test process (`fork_run`): a real process, killed for real, without the
interpreter's start-up, so that 2 x KILLS kill points fit in a few seconds each.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sync.store import Store
from tests.reliability.helpers import (
    DB,
    Forked,
    Workspace,
    config,
    fork_run,
    state_snapshot,
)

ITEMS = 1500  # enough rows that the commit takes tens of milliseconds: a window to hit
KILLS = 10  # kill points per sweep
POLL_S = 0.0002
AS_OF = {1: "2026-11-16T09:00:00Z", 2: "2026-11-17T09:00:00Z"}
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Tasks, measure: percent_done, select: [{source: tasks}]}
      - {id: G1.2, title: Points, measure: percent_done, by: points, select: [{source: tasks}]}
"""
JOURNAL = DB + "-journal"


def items(day: int) -> str:
    """The tasks file on day 1, and on day 2 with more work done and new items."""
    rows = ["key,title,state,status,assignee,labels,points,updated"]
    for k in range(ITEMS + (ITEMS // 8 if day == 2 else 0)):
        state = ("todo", "in_progress", "done")[(k + (day - 1) * (k % 2)) % 3]
        rows.append(f"T-{k},Task {k} {'x' * 60},{state},S,Kim,billing,{k % 5 + 1},2026-10-1{day}")
    return "\n".join(rows) + "\n"


def workspace(root: Path) -> Workspace:
    ws = Workspace(root)
    ws.write_config(
        config(
            "  tasks: {type: file, path: items.csv, format: csv_items}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
        )
    )
    return ws


def published(ws: Workspace) -> dict[str, bytes]:
    return {k: v for k, v in ws.files(ws.out / "csv").items() if k != "Run.csv"}


def leftovers(ws: Workspace) -> list[str]:
    return sorted(str(p.relative_to(ws.root)) for p in ws.temp_files())


@dataclass
class Reference:
    """What clean runs publish on day 1 (a first run) and day 2 (an incremental one), the
    state day 1 committed, and how long a commit takes (first change to journal gone)."""

    outputs: dict[int, dict[str, bytes]] = field(default_factory=dict)
    commit_s: dict[int, float] = field(default_factory=dict)
    day1_db: bytes = b""


def first_change(ws: Workspace, run: Forked, before: dict[str, tuple[int, int]]) -> None:
    """Wait for the run's first change in the state dir. Polled (no inotify in the standard
    library) with a short sleep rather than a spin, which on two cores would slow the run."""
    while state_snapshot(ws.state) == before:
        assert run.poll() is None, f"the run ended without committing:\n{run.output}"
        time.sleep(POLL_S)


def watched_run(ws: Workspace, day: int) -> float:
    """A clean run, timed: from its first change in the state dir to its journal's deletion
    (the commit's end)."""
    base = state_snapshot(ws.state)
    run = fork_run(ws, "run", "--as-of", AS_OF[day])
    first_change(ws, run, base)
    t0 = time.perf_counter()
    journal = ws.state / JOURNAL
    seen = None
    while run.poll() is None:
        if journal.exists():
            seen = time.perf_counter()
        time.sleep(POLL_S)
    assert run.wait() == 0, run.output
    return (seen or time.perf_counter()) - t0


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    ws = workspace(tmp_path_factory.mktemp("reference"))
    ref = Reference()
    (ws.root / "items.csv").write_text(items(1), encoding="utf-8")
    ref.commit_s[1] = watched_run(ws, 1)
    ref.outputs[1] = published(ws)
    ref.day1_db = ws.db.read_bytes()
    (ws.root / "items.csv").write_text(items(2), encoding="utf-8")
    ref.commit_s[2] = watched_run(ws, 2)
    ref.outputs[2] = published(ws)
    assert ref.outputs[1] != ref.outputs[2]
    return ref


def kill_at(ws: Workspace, day: int, offset_s: float) -> str:
    """Start a run, SIGKILL it `offset_s` after its first change in the state dir. Where the
    kill landed: "inside" the commit (its journal is left), "before" or "after" it (whether
    the run's record is in the store), or "finished" (the run had exited 0)."""
    base = state_snapshot(ws.state)
    run = fork_run(ws, "run", "--as-of", AS_OF[day])
    first_change(ws, run, base)
    time.sleep(offset_s)
    os.kill(run.pid, signal.SIGKILL)
    code = run.wait()
    if code == 0:
        return "finished"
    assert code == -signal.SIGKILL, run.output
    if (ws.state / JOURNAL).exists():
        return "inside"
    # No journal: reading cannot change the file.
    return "after" if len(Store(ws.state).last_runs()) == day else "before"


# Fractions of the current bound, in an order that covers it evenly from the first kills on.
SPREAD = (0.0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875, 0.0625, 0.5625, 0.3125, 0.8125)


@pytest.mark.parametrize("day", [1, 2], ids=["first run", "incremental run"])
def test_sigkill_at_any_instant_of_the_commit_heals_on_the_next_run(
    day: int, reference: Reference, tmp_path: Path
) -> None:
    ws = workspace(tmp_path)
    (ws.root / "items.csv").write_text(items(day), encoding="utf-8")
    # The offsets spread below a bound: the reference commit's length and a margin at first,
    # then the earliest offset that landed after the commit (the runs' speed varies with load).
    bound = max(reference.commit_s[day] * 1.5, 0.01)
    landed: list[tuple[float, str]] = []
    for fraction in SPREAD[:KILLS]:
        offset = bound * fraction
        shutil.rmtree(ws.state, ignore_errors=True)
        shutil.rmtree(ws.out, ignore_errors=True)
        if day == 2:  # day 1 committed, as a clean run left it
            ws.state.mkdir()
            ws.db.write_bytes(reference.day1_db)
        where = kill_at(ws, day, offset)
        landed.append((offset, where))
        if where in ("after", "finished"):
            bound = offset

        after = fork_run(ws, "run", "--as-of", AS_OF[day])
        code = after.wait()
        at = f"killed {offset * 1000:.1f} ms after the first change ({where} the commit)"
        assert code == 0, f"{at}: the next run exited {code}\n{after.output}"
        assert published(ws) == reference.outputs[day], f"{at}: the next run published otherwise"
        assert leftovers(ws) == [], at

    where_all = [w for _, w in landed]
    counts = {w: where_all.count(w) for w in ("before", "inside", "after", "finished")}
    print(
        f"\nkill sweep, day {day}: {len(landed)} kill points from 0 to "
        f"{max(o for o, _ in landed) * 1000:.0f} ms after the first change: {counts}; "
        "every next run exited 0 and published what a clean run does"
    )
    # The sweep proves something only if kills did land mid-commit.
    assert counts["inside"] >= KILLS // 3, landed


def test_sigterm_during_the_commit_lets_it_finish_and_exits_with_the_runs_own_code(
    reference: Reference, tmp_path: Path
) -> None:
    """SIGTERM (a scheduler's stop) while the state is being committed: the sinks hold the
    publish already, so the commit finishes and the run exits 0 with it, not 143 with the
    publish thrown away (the next run would pull everything again)."""
    ws = workspace(tmp_path)
    (ws.root / "items.csv").write_text(items(2), encoding="utf-8")
    bound = max(reference.commit_s[2], 0.01)
    signalled = 0
    for fraction in SPREAD[:6]:
        shutil.rmtree(ws.state, ignore_errors=True)
        ws.state.mkdir()
        ws.db.write_bytes(reference.day1_db)
        base = state_snapshot(ws.state)
        run = fork_run(ws, "run", "--as-of", AS_OF[2])
        first_change(ws, run, base)
        time.sleep(bound * fraction)
        if run.poll() is None:
            os.kill(run.pid, signal.SIGTERM)
            signalled += 1
        code = run.wait()
        at = f"SIGTERM {bound * fraction * 1000:.1f} ms into the commit"
        assert code == 0, f"{at}: exit {code}\n{run.output}"
        assert len(Store(ws.state).last_runs()) == 2, f"{at}: the commit was thrown away"
        assert published(ws) == reference.outputs[2], at
        assert leftovers(ws) == [], at
    assert signalled >= 3
