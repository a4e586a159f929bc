"""Guarantee 5: SIGTERM or SIGKILL during the pull or during the publish; SIGTERM after the commit.

The run is held at the right moment by a delay fault on the fakes (a Jira search that does not
answer; a Sheets batchUpdate that does not answer while the csv / xlsx files wait, rendered, in
their temporary files), then signalled. Afterwards: no partial sheet (the publish is one atomic
call: the sheet is either as before or wholly the new one), the state store byte for byte as
before (the cursor did not move), the csv / xlsx files as before; on SIGTERM the run exits 143
after its cleanup (temporary files deleted, lock released and cleared); on SIGKILL the kernel
drops the lock. Either way the next run completes and publishes the change.

A SIGTERM that arrives after the run committed its state (while it sends its alert, prints its
summary or shuts down) must not turn its success into 143: the run exits with its own code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import FakeServer, Fault, Request, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import (
    DB,
    LOCK,
    REPO,
    Result,
    Workspace,
    config,
    cycle_around_today,
    sheet_status,
    sheet_without,
    state_snapshot,
    wait_for,
)

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
SHEET = "STATUS1"
SEARCH = "/rest/api/3/search/jql"
BATCH_UPDATE = f"/v4/spreadsheets/{SHEET}:batchUpdate"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Jira work, measure: percent_done, select: [{source: jira}]}
"""


@pytest.fixture
def fakes() -> Iterator[tuple[FakeJira, FakeSheets]]:
    with FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira, FakeSheets() as sheets:
        old = datetime.now(UTC) - timedelta(days=3)
        for n in range(1, 5):
            jira.add_issue(f"PAY-{n}", updated=old + timedelta(minutes=n))
        sheets.add_spreadsheet(SHEET, {"Notes": [["kept by people"]]})
        yield jira, sheets


@pytest.fixture
def ws(tmp_path: Path, fakes: tuple[FakeJira, FakeSheets]) -> Workspace:
    jira, sheets = fakes
    ws = Workspace(tmp_path, env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN})
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n",
            f"  - {{type: sheets, spreadsheet_id: {SHEET}, endpoint: '{sheets.url}/', "
            "credentials: anonymous}\n"
            "  - {type: csv, path: out/csv}\n"
            "  - {type: xlsx, path: out/status.xlsx}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def interrupt(ws: Workspace, held: Fault, reached: object, signum: int) -> Result:
    """Start a run, wait until it is held by `held` (`reached()` says so), send `signum`."""
    proc = ws.start("run")
    try:
        wait_for(reached, what="the run to reach the held request")
        if held.method == "POST":  # publishing: the file sinks' new content waits, rendered
            waiting = [p.name for p in ws.temp_files()]
            assert any(n.startswith(".Status.csv.") for n in waiting), waiting
            assert any(n.startswith(".status.xlsx.") for n in waiting), waiting
        t0 = time.monotonic()
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
        return Result(proc.returncode, stdout, stderr, time.monotonic() - t0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


PHASES = {
    "pull": lambda: Fault("GET", SEARCH, Response(500, {}), delay=30.0),
    "publish": lambda: Fault("POST", BATCH_UPDATE, Response(500, {}), delay=30.0),
}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_a_signal_leaves_everything_as_it_was_and_the_next_run_completes(
    phase: str, signum: int, ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    jira, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    assert ws.goalsync("run").code == 0
    assert sheet_status(book)["G1.1"]["Done / Total"] == "0 / 4"
    jira.transition("PAY-1", "Done", "done")
    state, sheet, files = ws.db_bytes(), book.snapshot(), ws.files()

    held = PHASES[phase]()
    server = jira if phase == "pull" else sheets
    server.inject(held)
    seen = server.count(held.method, held.path_prefix)
    run = interrupt(ws, held, lambda: server.count(held.method, held.path_prefix) > seen, signum)

    if signum == signal.SIGTERM:
        assert run.code == 143, run
        assert run.event("terminated")["signal"] == "SIGTERM"
        assert run.seconds < 15  # an orderly exit, not a wait for the held request
        assert ws.temp_files() == []  # the rendered files were deleted on the way out
        assert (ws.state / LOCK).read_text() == ""  # released, naming no holder
    else:
        assert run.code == -signal.SIGKILL
    assert ws.lock_is_free()
    assert ws.db_bytes() == state  # the cursor did not move
    assert book.snapshot() == sheet  # no partial sheet: the write never landed
    assert {k: v for k, v in ws.files().items() if not k.endswith(".tmp")} == files

    server.faults.clear()
    after = ws.goalsync("run")
    assert after.code == 0, after
    assert sheet_status(book)["G1.1"]["Done / Total"] == "1 / 4"
    assert ws.status()["G1.1"]["Done / Total"] == "1 / 4"
    assert ws.temp_files() == []  # a killed run's leftovers are gone too


def test_a_kill_after_the_sheet_took_the_write_leaves_a_whole_sheet(
    ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    """The server applied the batchUpdate but the run died before committing: the sheet is the
    whole new publish (never half of it), the cursor did not move, and the next run publishes the
    same again without a History duplicate."""
    jira, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    assert ws.goalsync("run").code == 0
    jira.transition("PAY-1", "Done", "done")
    state = ws.db_bytes()
    sheets.inject(Fault("POST", BATCH_UPDATE, delay=2.0))  # answered late, after it is applied
    commits: list[int] = []
    sheets.on_commit = lambda b: commits.append(len(b.sheets))
    run = interrupt(
        ws,
        Fault("POST", BATCH_UPDATE),
        lambda: sheets.count("POST", BATCH_UPDATE) == 2,
        signal.SIGKILL,
    )
    assert run.code == -signal.SIGKILL
    wait_for(lambda: len(commits) == 1, what="the held write to land")
    assert sheet_status(book)["G1.1"]["Done / Total"] == "1 / 4"  # all of the new publish
    assert ws.db_bytes() == state
    published = sheet_without(book, "Run", "Status")  # these two name the run and its time

    after = ws.goalsync("run")
    assert after.code == 0, after
    assert sheet_without(book, "Run", "Status") == published
    assert sheet_status(book)["G1.1"]["Done / Total"] == "1 / 4"
    history = [(r[0], r[1]) for r in book.values("History")[1:]]
    assert len(history) == len(set(history))


def test_sigterm_while_sources_are_pulled_concurrently(
    ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    """With two sources the pull runs in worker threads and the main thread waits for them:
    SIGTERM must not wait for the request that hangs, and the cleanup still runs."""
    jira, _ = fakes
    (ws.root / "items.csv").write_text("key,title,state\nT-1,Invoices,done\n", encoding="utf-8")
    text = (ws.root / "goalsync.yaml").read_text(encoding="utf-8")
    ws.write_config(
        text.replace(
            "sinks:\n", "  tasks: {type: file, path: items.csv, format: csv_items}\nsinks:\n"
        )
    )
    assert ws.goalsync("run").code == 0
    state = ws.db_bytes()
    held = Fault("GET", SEARCH, Response(500, {}), delay=30.0)
    jira.inject(held)
    run = interrupt(ws, held, lambda: jira.count("GET", SEARCH) == 2, signal.SIGTERM)
    assert run.code == 143, run
    assert run.seconds < 8, run.seconds  # not the 10 s backstop, not the 30 s request
    assert run.event("terminated")["signal"] == "SIGTERM"
    assert (ws.state / LOCK).read_text() == ""
    assert ws.db_bytes() == state
    jira.faults.clear()
    assert ws.goalsync("run").code == 0


class Webhook(FakeServer):
    """A Slack-compatible webhook that answers 200 (or is held by a delay fault)."""

    def handle(self, request: Request) -> Response:
        return Response(200, "ok")


def test_sigterm_while_a_committed_run_sends_its_alert_exits_with_the_runs_own_code(
    ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    """The alert goes out after the state commit. A SIGTERM while its webhook does not answer
    stops the run at once, but the run published and committed: it exits 0, not 143."""
    jira, _ = fakes
    with Webhook() as hook:
        ws.env["GOALSYNC_WEBHOOK_URL"] = f"{hook.url}/hooks/T0/B0/secret"
        text = (ws.root / "goalsync.yaml").read_text(encoding="utf-8")
        ws.write_config(
            text.replace("goals:\n", "alerts: {webhook_env: GOALSYNC_WEBHOOK_URL}\ngoals:\n")
        )
        assert ws.goalsync("run").code == 0
        for n in range(1, 5):  # every item done: the key result's status changes, an alert
            jira.transition(f"PAY-{n}", "Done", "done")
        runs = len(ws.query("SELECT run_id FROM runs"))
        hook.inject(Fault("POST", "/hooks/", Response(200, "ok"), delay=30.0))
        proc = ws.start("run")
        try:
            wait_for(lambda: hook.count("POST") > 0, what="the alert to be sent")
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        run = Result(proc.returncode, stdout, stderr, time.monotonic() - t0)
    assert len(ws.query("SELECT run_id FROM runs")) == runs + 1  # committed before the alert
    assert run.code == 0, run
    assert run.seconds < 5, run.seconds  # stopped at once, not after the webhook's timeout
    terminated = run.event("terminated")
    assert terminated["state"] == "committed" and terminated["exit_code"] == 0
    assert ws.lock_is_free()


def committed(ws: Workspace, before: dict[str, tuple[int, int]]) -> bool:
    """The database changed and no journal is left: in SQLite's rollback-journal mode the
    journal's deletion is the commit. (An incremental run: its database exists already.)"""
    now = state_snapshot(ws.state)
    return now.get(DB) != before.get(DB) and DB + "-journal" not in now


def test_sigterm_after_the_commit_keeps_the_runs_own_exit_code(ws: Workspace) -> None:
    """SIGTERM at offsets after the commit (whatever the run is doing then: logging, printing
    its summary, the interpreter shutting down) never turns the committed run into 143."""
    assert ws.goalsync("run").code == 0
    signalled = 0
    for offset_ms in (0, 2, 5, 10, 20, 40):
        before = state_snapshot(ws.state)
        proc = ws.start("run")
        try:
            deadline = time.monotonic() + 60
            while not committed(ws, before):
                assert proc.poll() is None, "the run ended before it committed"
                assert time.monotonic() < deadline, "the run did not commit"
                time.sleep(0.0002)
            time.sleep(offset_ms / 1000)
            alive = proc.poll() is None
            if alive:
                proc.send_signal(signal.SIGTERM)
                signalled += 1
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        run = Result(proc.returncode, stdout, stderr, 0.0)
        assert run.code == 0, f"SIGTERM {offset_ms} ms after the commit (alive: {alive}): {run}"
        if "terminated" in run.names():
            assert run.event("terminated")["state"] == "committed"
    assert signalled >= 3  # most signals reached a live process


def test_sigterm_after_a_backfill_committed_keeps_its_exit_code(ws: Workspace) -> None:
    """backfill commits its History rows the same way: a SIGTERM after that commit exits 0."""
    assert ws.goalsync("run").code == 0
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    signalled = 0
    for offset_ms in (0, 5, 20):
        before = state_snapshot(ws.state)
        proc = ws.start("backfill", "--from", day, "--to", day)
        try:
            deadline = time.monotonic() + 60
            while not committed(ws, before):
                assert proc.poll() is None, "the backfill ended before it committed"
                assert time.monotonic() < deadline, "the backfill did not commit"
                time.sleep(0.0002)
            time.sleep(offset_ms / 1000)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                signalled += 1
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        run = Result(proc.returncode, stdout, stderr, 0.0)
        assert run.code == 0, f"SIGTERM {offset_ms} ms after the backfill's commit: {run}"
    assert signalled >= 1


BACKSTOP = """
import os, signal, sys, threading, time
from sync import signals

def main():
    try:
        with signals.orderly_exit(grace_s=0.5):
            with signals.settling(3):
                pass  # a run that committed, with stale sources: exit 3
            # A thread the interpreter waits for at exit (a request that does not answer).
            threading.Thread(target=time.sleep, args=(60,)).start()
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(60)
    except signals.Terminated as exc:
        return exc.exit_code
    return 0

sys.exit(main())
"""


def test_the_backstop_ends_a_committed_run_with_its_own_code() -> None:
    """After the SIGTERM the interpreter cannot exit (a thread it waits for hangs): the backstop
    ends the process, with the code the committed run settled, not 143."""
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", BACKSTOP],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert time.monotonic() - t0 < 10  # the backstop, not the 60 s thread
