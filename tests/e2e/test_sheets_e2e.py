"""Google Sheets end to end, on the loopback fake (tests/fakes/sheets.py) running in this process.

- `goalsync run` as a subprocess, twice, with a csv_items file source (one title is a HYPERLINK
  formula as text) and a sheets sink: values right, no formula cells from item titles, the
  human tab untouched, History seeded from the sheet and upserted without duplicates, three
  calls per publish.
- `goalsync run` with a sheets source (plan tabs) and a sheets sink on the same spreadsheet: the
  input tabs are read, never written; a bad row is skipped and reported in the Run tab.
- 100,000 Items rows published through the staging path (the sink called directly).

The subprocess may open sockets to 127.0.0.1 only: a sitecustomize guard records and refuses
anything else (a metadata-server probe of application default credentials would show here).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.sheets.batches import BODY_LIMIT, STAGING_PREFIX
from connectors.sheets.config import SheetsSinkConfig
from sync.base.report import ItemRow
from sync.tables import to_tables
from tests.connectors.helpers import BERLIN, publish_context, sample_report, sample_run
from tests.fakes.guard import guarded_env
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-16T09:00:00Z"
TITLE = '=HYPERLINK("http://x","y")'
ITEMS_CSV = f"""\
key,title,state,status,assignee,labels,parent,points,updated,url
T-1,"{TITLE.replace('"', '""')}",done,Done,Kim,billing,,3,2026-11-02,https://plan.example/t/1
T-2,Refunds,in_progress,Doing,Ann,billing,,5,2026-11-10,javascript:alert(1)
T-3,"=cmd|' /C calc'!A0",todo,Todo,,billing,,2,2026-11-01,
T-4,Invoices,done,Done,Kim,billing,,1,2026-11-12,https://plan.example/t/4
T-5,Side quest,todo,Todo,Lee,misc,,1,2026-11-03,
"""
GOALS = """\
goals:
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - id: G1.1
        title: Billing tasks done
        measure: percent_done
        select:
          - {source: tasks, labels: [billing]}
"""

HUMAN = {"Notes": [["Who", "What"], ["Dana", "=SUM(1,2)"], ["Kim", "do not touch"]]}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSheets]:
    with FakeSheets() as server:
        yield server


def goalsync(root: Path, config: str, state: str = "state") -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GOALSYNC_") and k != "GOOGLE_APPLICATION_CREDENTIALS"
    }
    env = guarded_env(root, env) | {"GOALSYNC_LOG_FORMAT": "json"}
    cmd = [sys.executable, "-m", "sync.cli", "run", "--config", config, "--state-dir", state]
    return subprocess.run(
        [*cmd, "--as-of", AS_OF],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sink_yaml(fake: FakeSheets, spreadsheet_id: str) -> str:
    return (
        f"  - {{type: sheets, spreadsheet_id: {spreadsheet_id}, endpoint: '{fake.url}/', "
        "credentials: anonymous}\n"
    )


def calls(fake: FakeSheets, spreadsheet_id: str) -> dict[str, int]:
    root = f"/v4/spreadsheets/{spreadsheet_id}"
    return {
        "get": fake.count("GET", root) - fake.count("GET", f"{root}/values"),
        "batchGet": fake.count("GET", f"{root}/values:batchGet"),
        "batchUpdate": fake.count("POST", f"{root}:batchUpdate"),
    }


@pytest.fixture(scope="module")
def file_run(fake: FakeSheets, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("sheets-sink")
    book = fake.add_spreadsheet(
        "STATUS1",
        HUMAN
        | {
            "History": [
                ["Date", "ID", "Value", "Progress %", "Expected %", "Status"],
                ["2026-11-09", "G1.1", 25, 25, 43, "At risk"],  # from an earlier state dir
            ]
        },
    )
    human = book.snapshot()["Notes"]
    (root / "items.csv").write_text(ITEMS_CSV, encoding="utf-8")
    (root / "goalsync.yaml").write_text(
        "version: 1\ntimezone: Europe/Berlin\ncycle: {start: 2026-10-01, due: 2026-12-31}\n"
        "sources:\n  tasks: {type: file, path: items.csv, format: csv_items}\n"
        "sinks:\n" + sink_yaml(fake, "STATUS1") + GOALS,
        encoding="utf-8",
    )
    runs, counts = [], []
    for _ in range(2):
        fake.reset_counts()
        runs.append(goalsync(root, "goalsync.yaml"))
        counts.append(calls(fake, "STATUS1"))
    return {"root": root, "book": book, "human": human, "runs": runs, "calls": counts}


def test_runs_exit_0_and_name_the_sheet(file_run: dict[str, Any]) -> None:
    for run in file_run["runs"]:
        assert run.returncode == 0, run.stderr
        assert "wrote: sheets STATUS1" in run.stdout
    assert not (file_run["root"] / "network-attempts.txt").exists()


def test_three_calls_per_publish(file_run: dict[str, Any]) -> None:
    # Run 1 (empty state dir): History seeded from the tab, and that read is reused.
    assert file_run["calls"] == [{"get": 1, "batchGet": 1, "batchUpdate": 1}] * 2


def test_status_values(file_run: dict[str, Any]) -> None:
    book: FakeSpreadsheet = file_run["book"]
    header, *rows = book.values("Status")
    by_id = {r[0]: dict(zip(header, r, strict=False)) for r in rows}
    kr = by_id["G1.1"]
    # Billing: T-1 and T-4 done of 4 -> 50 %; expected 46.458 d / 92.042 d of the cycle.
    assert (kr["Value"], kr["Target"], kr["Progress %"]) == (50, 100, 50)
    assert kr["Expected %"] == 50.5  # rounded to one decimal, as every sink shows it
    assert (kr["Status"], kr["Done / Total"], kr["Level"]) == ("On track", "2 / 4", "kr")
    assert kr["Start"] == 46296 and kr["Due"] == 46387  # serial dates: 2026-10-01, 12-31
    assert by_id["G1"]["Status"] == "On track"


def test_item_titles_stay_text(file_run: dict[str, Any]) -> None:
    book: FakeSpreadsheet = file_run["book"]
    header, *rows = book.values("Items")
    titles = {r[0]: r[header.index("Title")] for r in rows}
    assert titles["T-1"] == TITLE and titles["T-3"] == "=cmd|' /C calc'!A0"
    link = re.compile(r'=HYPERLINK\("https?://[^"]*","T-\d"\)')
    for sheet in book.sheets:
        for (row, col), formula in sheet.formulas().items():
            if sheet.title == "Notes":
                continue
            # The only formulas are goalsync's own links, in the Key column of item tabs.
            assert link.fullmatch(formula), (sheet.title, row, col, formula)
            assert sheet.title in ("Items", "Unaligned", "Risks") and col in (0, 2)
    items = book.sheet("Items").formulas()
    assert sorted(items.values()) == [
        '=HYPERLINK("https://plan.example/t/1","T-1")',
        '=HYPERLINK("https://plan.example/t/4","T-4")',
    ]  # T-2's javascript: URL stays text


def test_the_human_tab_is_untouched(file_run: dict[str, Any]) -> None:
    book: FakeSpreadsheet = file_run["book"]
    assert book.snapshot()["Notes"] == file_run["human"]
    assert book.titles()[0] == "Notes"  # not moved either
    assert book.titles()[1:] == [
        "History",
        "Status",
        "Trends",
        "Risks",
        "Items",
        "Unaligned",
        "Workload",
        "Run",
    ]


def test_history_is_upserted_without_duplicates(file_run: dict[str, Any]) -> None:
    book: FakeSpreadsheet = file_run["book"]
    header, *rows = book.values("History")
    assert header == ["Date", "ID", "Value", "Progress %", "Expected %", "Status"]
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys))
    assert keys == [(46335, "G1.1"), (46342, "G1"), (46342, "G1.1")]  # 11-09 kept, 11-16 once
    assert rows[0][5] == "At risk"


def test_a_sheets_source_and_sink_on_one_spreadsheet(fake: FakeSheets, tmp_path: Path) -> None:
    inputs: dict[str, list[list[Any]]] = {
        "Goals": [["ID", "Title", "Target"], ["G1.1", "Billing, per the sheet", 80], ["G1.2"]],
        "Metrics": [["name", "date", "value"], ["nps", 46300, 30], ["nps", 46330, 36]],
        "Overrides": [["id", "status", "reason", "until"]],
        "Tasks": [
            ["Key", "Title", "State", "Labels", "Points", "URL"],
            ["P-1", "'" + TITLE, "done", "billing", 2, "https://plan.example/p/1"],
            ["P-2", "Two", "doing", "billing", "", ""],
            ["P-3", "Bad", "sideways", "billing", "", ""],
            ["P-4", "Four", "done", "billing", 1, ""],
        ],
    }
    book = fake.add_spreadsheet("PLAN1", inputs | HUMAN)
    before = book.snapshot()
    (tmp_path / "goalsync.yaml").write_text(
        "version: 1\ntimezone: Europe/Berlin\ncycle: {start: 2026-10-01, due: 2026-12-31}\n"
        f"sources:\n  plan: {{type: sheets, spreadsheet_id: PLAN1, endpoint: '{fake.url}/', "
        "credentials: anonymous}\n"
        "sinks:\n"
        + sink_yaml(fake, "PLAN1")
        + GOALS.replace("tasks", "plan")
        + "      - {id: G1.2, title: NPS, measure: metric, metric: nps, baseline: 20, "
        "target: 40}\n",
        encoding="utf-8",
    )
    fake.reset_counts()
    run = goalsync(tmp_path, "goalsync.yaml")
    assert run.returncode == 0, run.stderr
    after = book.snapshot()
    for tab in [*inputs, "Notes"]:
        assert after[tab] == before[tab], tab  # read, never written
    header, *rows = book.values("Status")
    by_id = {r[0]: dict(zip(header, r, strict=False)) for r in rows}
    # The Goals tab moved G1.1's target to 80 %: P-1 and P-4 done of 3 (P-3 skipped) -> 66.67.
    kr = by_id["G1.1"]
    assert (kr["Title"], kr["Value"], kr["Target"], kr["Progress %"]) == (
        "Billing, per the sheet",
        66.67,
        80,
        83.3,
    )
    assert by_id["G1.2"]["Value"] == 36 and by_id["G1.2"]["Progress %"] == 80
    _, *items = book.values("Items")
    assert sorted((r[0], r[2]) for r in items) == [("P-1", TITLE), ("P-2", "Two"), ("P-4", "Four")]
    run_tab = [r for r in book.values("Run") if r and r[0] == "Warning plan"]
    assert len(run_tab) == 1 and "tab Tasks row 4, column state" in run_tab[0][1]
    # One batchGet for the source, and the sink's get + batchUpdate (no History tab yet).
    assert calls(fake, "PLAN1") == {"get": 1, "batchGet": 1, "batchUpdate": 1}


def test_a_missing_tab_is_a_config_error_and_nothing_is_published(
    fake: FakeSheets, tmp_path: Path
) -> None:
    fake.add_spreadsheet("PLAN2", {"Tasks": [["key"], ["P-1"]]})
    fake.add_spreadsheet("OUT2")
    (tmp_path / "goalsync.yaml").write_text(
        "version: 1\ncycle: {start: 2026-10-01, due: 2026-12-31}\n"
        f"sources:\n  plan: {{type: sheets, spreadsheet_id: PLAN2, endpoint: '{fake.url}/', "
        "credentials: anonymous, tabs: {tasks: Tasks, metrics: KPIs}}\n"
        "sinks:\n" + sink_yaml(fake, "OUT2") + GOALS.replace("tasks", "plan"),
        encoding="utf-8",
    )
    run = goalsync(tmp_path, "goalsync.yaml")
    assert run.returncode == 2, run.stderr
    assert "spreadsheet PLAN2 has no tab 'KPIs' (its tabs: Tasks)" in run.stderr + run.stdout
    assert calls(fake, "OUT2")["batchUpdate"] == 0


def test_a_hundred_thousand_items_go_through_staging(fake: FakeSheets) -> None:
    book = fake.add_spreadsheet("BIG1", HUMAN)
    updated = datetime(2026, 11, 1, 12, tzinfo=UTC)
    items = tuple(
        ItemRow(
            key=f"PAY-{i}",
            source="jira",
            title=f"Task {i}: {TITLE}" if i % 1000 == 0 else f"Task number {i}",
            state="in_progress",
            status="In Progress",
            assignee="Sam Ortiz",
            points=3.0,
            goal="G1",
            key_result="G1.1",
            updated=updated,
            url=f"https://acme.atlassian.net/browse/PAY-{i}",
        )
        for i in range(100_000)
    )
    tables = to_tables(dataclasses.replace(sample_report(), items=items), sample_run(), BERLIN)
    sink = SheetsSinkConfig(
        type="sheets", spreadsheet_id="BIG1", endpoint=fake.url, credentials="anonymous"
    ).build(Path("."))
    fake.reset_counts()
    swaps: list[int] = []
    fake.on_commit = lambda b: swaps.append(
        b.sheet("Items").rows if "Items" in [t for t in b.titles()] else 0
    )
    t0 = time.monotonic()
    write = sink.prepare(tables, publish_context())
    write.apply()
    seconds = time.monotonic() - t0
    fake.on_commit = None
    assert write.plan.staged == ["Items"]
    assert all(size < BODY_LIMIT for size in fake.bodies[-len(swaps) :])
    assert swaps[:-1] == [0] * (len(swaps) - 1) and swaps[-1] == 100_001  # all at once
    assert calls(fake, "BIG1") == {"get": 1, "batchGet": 0, "batchUpdate": len(swaps)}
    assert not any(t.startswith(STAGING_PREFIX) for t in book.titles())
    sheet = book.sheet("Items")
    assert sheet.value(100_000, 0) == "PAY-99999" and sheet.value(1001, 2) == f"Task 1000: {TITLE}"
    assert "formulaValue" not in sheet.cells[(1001, 2)]["userEnteredValue"]
    assert len(sheet.formulas()) == 100_000  # one link per key, nothing else
    print(f"\n100,000 Items rows: {len(swaps)} batchUpdates, {seconds:.1f} s with the fake")
