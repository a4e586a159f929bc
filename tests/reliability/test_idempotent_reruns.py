"""Guarantee 3: reruns are idempotent. Two runs on the same data give the same sheet and files
and add no History rows; a rerun on the same day replaces that day's rows, never duplicates them.

Jira and GitHub (incremental on the second run, re-reading their lookback window) and a csv
items file feed a Sheets sink and csv / xlsx sinks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet
from tests.reliability.helpers import Workspace, config, sheet_rows, sheet_without

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
SHEET = "STATUS1"
AS_OF = "2026-11-16T09:00:00Z"
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
ITEMS = """\
key,title,state,status,assignee,labels,points,updated
T-1,Invoices,done,Done,Kim,billing,3,2026-10-10
T-2,Refunds,in_progress,Doing,Ann,billing,5,2026-10-12
T-3,Dunning,todo,Todo,,billing,2,2026-10-13
"""
GOALS = """\
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - {id: G1.1, title: Jira, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: GitHub, measure: percent_done, select: [{source: gh}]}
      - {id: G1.3, title: Tasks, measure: percent_done, by: points, select: [{source: tasks}]}
"""


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeJira, FakeGitHub, FakeSheets]]:
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        for n in range(1, 31):
            jira.add_issue(f"PAY-{n}", created=T0, updated=T0 + timedelta(hours=n))
            if n % 3 == 0:
                jira.transition(f"PAY-{n}", "In Progress", "indeterminate", at=T0 + timedelta(n))
            if n % 4 == 0:
                jira.transition(f"PAY-{n}", "Done", "done", at=T0 + timedelta(days=n, hours=2))
        web = github.add_repo("acme/web")
        for n in range(1, 131):  # two pages
            at = T0 + timedelta(hours=n)
            if n % 5 == 0:
                web.add_issue(n, updated=at, state="closed", closed=at)
            else:
                web.add_issue(n, updated=at, assignee="ana" if n % 2 else None)
        sheets.add_spreadsheet(SHEET, {"Notes": [["people's own tab"]]})
        yield jira, github, sheets


@pytest.fixture(scope="module")
def ws(
    tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeJira, FakeGitHub, FakeSheets]
) -> Workspace:
    jira, github, sheets = fakes
    ws = Workspace(
        tmp_path_factory.mktemp("idempotent"),
        env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "GITHUB_TOKEN": GH_TOKEN},
    )
    (ws.root / "items.csv").write_text(ITEMS, encoding="utf-8")
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n"
            "  tasks: {type: file, path: items.csv, format: csv_items}\n",
            f"  - {{type: sheets, spreadsheet_id: {SHEET}, endpoint: '{sheets.url}/', "
            "credentials: anonymous}\n"
            "  - {type: csv, path: out/csv}\n"
            "  - {type: xlsx, path: out/status.xlsx}\n",
            GOALS,
        )
    )
    return ws


def xlsx_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb if ws.title != "Run"}


def history_keys(book: FakeSpreadsheet) -> list[tuple[Any, Any]]:
    return [(r["Date"], r["ID"]) for r in sheet_rows(book, "History")]


def test_two_runs_on_the_same_data_publish_the_same(
    ws: Workspace, fakes: tuple[FakeJira, FakeGitHub, FakeSheets]
) -> None:
    _, _, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    first = ws.goalsync("run", "--as-of", AS_OF)
    assert first.code == 0, first
    sheet, files = sheet_without(book, "Run"), ws.files()
    workbook = xlsx_values(ws.out / "status.xlsx")
    history = ws.query("SELECT * FROM history ORDER BY date, id")
    records = ws.query("SELECT source, kind, key, payload FROM records ORDER BY 1, 2, 3")
    assert len(history) == 4 and len(records) > 160

    second = ws.goalsync("run", "--as-of", AS_OF)
    assert second.code == 0, second
    assert second.event("source_pulled")["items"] >= 0
    assert sheet_without(book, "Run") == sheet
    changed = {name for name, data in ws.files().items() if files.get(name) != data}
    assert changed <= {"csv/Run.csv", "status.xlsx"}, changed  # the Run tab names the run
    assert xlsx_values(ws.out / "status.xlsx") == workbook
    assert ws.query("SELECT * FROM history ORDER BY date, id") == history
    assert ws.query("SELECT source, kind, key, payload FROM records ORDER BY 1, 2, 3") == records
    keys = history_keys(book)
    assert len(keys) == len(set(keys)) == 4


def test_reruns_on_the_same_day_replace_todays_history_rows(
    ws: Workspace, fakes: tuple[FakeJira, FakeGitHub, FakeSheets]
) -> None:
    _, _, sheets = fakes
    book = sheets.spreadsheets[SHEET]
    for _ in range(2):
        run = ws.goalsync("run")
        assert run.code == 0, run
    keys = history_keys(book)
    assert len(keys) == len(set(keys))
    today = (datetime.now(UTC).date() - date(1899, 12, 30)).days  # a Sheets serial date
    assert Counter(day for day, _ in keys) == {46342: 4, today: 4}  # 2026-11-16 and today
    stored = ws.query("SELECT date, id FROM history")
    assert len(stored) == len(set(stored)) == 8
