"""Guarantee 1: a cursor moves only after the publish it fed succeeded.

A Jira source (incremental, with a cursor) feeds a Sheets sink and csv / xlsx sinks. After a
healthy first run, work changes in Jira and the sheet answers every batchUpdate with 500: the run
exits 4, the state store is byte for byte what it was, the sheet and the files are untouched and
no temporary file is left. The next healthy run publishes everything, the change included (its
incremental pull starts from the cursor the failed run did not move).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Workspace, config, cycle_around_today, sheet_status

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
SHEET = "STATUS1"
BATCH_UPDATE = f"/v4/spreadsheets/{SHEET}:batchUpdate"
GOALS = """\
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - id: G1.1
        title: Billing issues done
        measure: percent_done
        select:
          - {source: jira, labels: [billing]}
"""


@pytest.fixture
def fakes() -> Iterator[tuple[FakeJira, FakeSheets]]:
    with FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira, FakeSheets() as sheets:
        old = datetime.now(UTC) - timedelta(days=3)
        for n in range(1, 7):
            done = n <= 2
            jira.add_issue(
                f"PAY-{n}",
                labels=["billing"],
                status="Done" if done else "To Do",
                category="done" if done else "new",
                updated=old + timedelta(minutes=n),
            )
        sheets.add_spreadsheet(SHEET, {"Notes": [["kept by people"]]})
        yield jira, sheets


@pytest.fixture
def ws(tmp_path: Path, fakes: tuple[FakeJira, FakeSheets]) -> Workspace:
    jira, sheets = fakes
    ws = Workspace(
        tmp_path,
        env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "GOALSYNC_RETRY_BUDGET_S": "3"},
    )
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


def test_a_failed_publish_leaves_state_sheet_and_files_alone_and_the_next_run_heals(
    ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    jira, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    first = ws.goalsync("run")
    assert first.code == 0, first
    assert sheet_status(book)["G1.1"]["Done / Total"] == "2 / 6"
    cursor = ws.source_row("jira")["cursor"]

    # Work moves on in Jira; then the sheet fails every write.
    jira.transition("PAY-3", "Done", "done")
    now = datetime.now(UTC)
    jira.add_issue("PAY-7", labels=["billing"], status="Done", category="done", created=now)
    state, sheet, files = ws.db_bytes(), book.snapshot(), ws.files()
    sheets.inject(Fault("POST", BATCH_UPDATE, Response(500, {"error": {"code": 500}}), times=99))

    failed = ws.goalsync("run")
    assert failed.code == 4, failed
    assert failed.event("publish_failed")["state"] == "unchanged"
    assert sheets.batch_updates(SHEET) >= 1  # the write was tried, and refused
    assert failed.event("source_pulled")["items"] == 2  # the pull did see the change
    assert ws.db_bytes() == state  # the cursor (and everything else) did not move
    assert book.snapshot() == sheet
    assert ws.files() == files
    assert ws.temp_files() == []
    assert sorted(p.name for p in ws.state.iterdir()) == ["goalsync.sqlite3", "run.lock"]

    # The sheet is back: the next run pulls from the same cursor and publishes it all.
    sheets.faults.clear()
    healed = ws.goalsync("run")
    assert healed.code == 0, healed
    assert healed.event("source_pulled")["items"] == 2  # PAY-3 and PAY-7, read again
    assert sheet_status(book)["G1.1"]["Done / Total"] == "4 / 7"
    assert ws.status()["G1.1"]["Done / Total"] == "4 / 7"
    assert {r["Key"]: r["State"] for r in ws.csv_rows("Items")}["PAY-3"] == "done"
    assert ws.source_row("jira")["cursor"] != cursor  # now it moves
    assert ws.temp_files() == []


def test_a_file_sink_that_cannot_be_written_stops_the_publish_before_the_sheet(
    ws: Workspace, fakes: tuple[FakeJira, FakeSheets]
) -> None:
    """Every sink is prepared (files rendered) before any remote write: a folder that cannot be
    written fails the run before the sheet is touched, and nothing moves."""
    _, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    assert ws.goalsync("run").code == 0
    state, sheet = ws.db_bytes(), book.snapshot()
    writes = sheets.batch_updates(SHEET)
    # The csv folder under a file: it cannot be made (a file at out/csv itself is not
    # goalsync's to replace: refused with exit 2 before the run)
    (ws.root / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    config = (ws.root / "goalsync.yaml").read_text(encoding="utf-8")
    ws.write_config(config.replace("path: out/csv", "path: blocker/csv"))

    failed = ws.goalsync("run")
    assert failed.code == 4, failed
    assert sheets.batch_updates(SHEET) == writes
    assert book.snapshot() == sheet
    assert ws.db_bytes() == state
    assert ws.temp_files() == []
