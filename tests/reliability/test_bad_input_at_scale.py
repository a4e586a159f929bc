"""Guarantee 11: bad input at scale: clear errors or clean handling, never a crash.

- A 50 MB Jira export is read and published; the same export cut short is a clear error that
  names the file and the place (the source goes stale and keeps its last good values, exit 3).
- A plan sheet whose Metrics tab holds 100,000 rows (a few of them bad) is read in one request;
  the bad rows are skipped and counted in the Run tab.
- Titles in every script, with control characters, a lone UTF-16 surrogate (which JSON can
  carry as `\\ud83d` and UTF-8 cannot) and 60,000 characters reach every sink: cut to what a
  Sheets cell (50,000) and an Excel cell (32,767) hold, whole in csv, and every file readable.
- Null and missing fields in every record type (work items, events, metrics, goal rows,
  overrides), from the live fakes and from file exports: the run publishes; nothing crashes.
"""

from __future__ import annotations

import copy
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub, event_payload, issue_payload
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import (
    Result,
    Workspace,
    config,
    cycle_around_today,
    sheet_rows,
)

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
CRASHES = ("source_crashed", "internal_error")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


def serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def no_crash(run: Result) -> None:
    assert not set(run.names()) & set(CRASHES), run


# --- a 50 MB export -----------------------------------------------------------------------------


def jira_issue(n: int, padding: str) -> dict[str, Any]:
    done = n % 3 == 0
    return {
        "id": str(10_000 + n),
        "key": f"BIG-{n}",
        "self": f"https://acme.atlassian.net/rest/api/3/issue/{10_000 + n}",
        "fields": {
            "summary": f"Issue {n}",
            "status": {
                "name": "Done" if done else "To Do",
                "statusCategory": {"key": "done" if done else "new"},
            },
            "labels": ["big"],
            "created": "2026-10-02T09:00:00.000+0000",
            "updated": "2026-10-03T09:00:00.000+0000",
            "description": padding,
        },
    }


def test_a_50_mb_export_is_read_and_the_same_cut_short_is_a_clear_error(tmp_path: Path) -> None:
    count, padding = 5_000, "x" * 10_000
    export = tmp_path / "jira.json"
    with export.open("w", encoding="utf-8") as fh:
        json.dump({"issues": [jira_issue(n, padding) for n in range(1, count + 1)]}, fh)
    assert export.stat().st_size > 50_000_000
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            "  big: {type: file, path: jira.json, format: jira_search}\n",
            "  - {type: csv, path: out/csv}\n",
            "  - id: G1\n    title: Big\n    key_results:\n"
            "      - {id: G1.1, title: All, measure: percent_done, select: [{source: big}]}\n",
        )
    )
    run = ws.goalsync("run")
    assert run.code == 0, run
    assert run.event("source_pulled")["items"] == count
    assert ws.status()["G1.1"]["Done / Total"] == f"{count // 3} / {count}"
    assert len(ws.csv_rows("Items")) == count

    data = export.read_bytes()
    export.write_bytes(data[: len(data) - 5_000])  # a download cut short
    cut = ws.goalsync("run")
    assert cut.code == 3, cut
    no_crash(cut)
    error = ws.source_row("big")["last_error"]
    assert error.startswith("jira.json: not valid JSON") and "line 1, column" in error
    assert ws.status()["G1.1"]["Done / Total"] == f"{count // 3} / {count}"  # last good values


# --- 100,000 metric rows --------------------------------------------------------------------


def test_a_plan_sheet_with_100000_metric_rows(tmp_path: Path) -> None:
    first = serial(date.today()) - 2_000
    rows: list[list[Any]] = [["name", "date", "value"]]
    for n in range(100_000):
        name = f"kpi_{n % 50}"
        value: Any = "n/a" if n % 10_000 == 7 else n / 10
        rows.append([name, first + n // 50, value])
    latest = 99_999 - 49  # the last row of kpi_0: n % 50 == 0
    with FakeSheets() as sheets:
        book = sheets.add_spreadsheet("PLAN1", {"Metrics": rows})
        book.sheet("Metrics").rows = len(rows)  # the fake's tabs start with 1,000 rows
        ws = Workspace(tmp_path)
        ws.write_config(
            config(
                f"  plan: {{type: sheets, spreadsheet_id: PLAN1, endpoint: '{sheets.url}/', "
                "credentials: anonymous, tabs: {metrics: Metrics}}\n",
                "  - {type: csv, path: out/csv}\n",
                "  - id: G1\n    title: KPIs\n    key_results:\n"
                "      - {id: G1.1, title: kpi 0, measure: metric, metric: kpi_0, target: 20000}\n",
            )
        )
        run = ws.goalsync("run")
        assert run.code == 0, run
        assert sheets.count("GET", "/v4/spreadsheets/PLAN1/values:batchGet") == 1
    no_crash(run)
    assert run.event("source_pulled")["metrics"] == 100_000 - 10
    assert float(ws.status()["G1.1"]["Value"]) == pytest.approx(latest / 10)
    warnings = [r for r in ws.csv_rows("Run") if r["Key"] == "Warning plan"]
    assert any("'n/a' is not a number" in r["Value"] for r in warnings)


# --- unicode and 60,000-character titles -----------------------------------------------------

TITLES = {
    1: "x" * 60_000,
    2: "🎉" * 20_000 + " party",
    3: "Ünïcödé — 中文标题 — العربية — עברית — हिन्दी — 😀👩‍👩‍👧‍👦",
    4: "e\u0301\u0302\u0303 combining, zero\u200bwidth, rtl \u202eexe.txt\u202c",
    5: "nul\x00 bell\x07 escape\x1b[31m vertical\x0b tab",
    6: "half an emoji \ud83d from a title cut in UTF-16",
    7: "\ufeffbom and \uffff noncharacter",
}


def test_unicode_and_huge_titles_reach_every_sink(tmp_path: Path) -> None:
    with FakeGitHub(token=GH_TOKEN) as github, FakeSheets() as sheets:
        web = github.add_repo("acme/web")
        for n, title in TITLES.items():
            web.add_issue(n, title=title, updated=T0)
        book = sheets.add_spreadsheet("STATUS1")
        ws = Workspace(tmp_path, env={"GITHUB_TOKEN": GH_TOKEN})
        ws.write_config(
            config(
                f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n",
                f"  - {{type: sheets, spreadsheet_id: STATUS1, endpoint: '{sheets.url}/', "
                "credentials: anonymous}\n"
                "  - {type: csv, path: out/csv}\n"
                "  - {type: xlsx, path: out/status.xlsx}\n"
                "  - {type: html, path: out/status.html}\n",
                "  - id: G1\n    title: Unicode\n    key_results:\n"
                "      - {id: G1.1, title: All, measure: percent_done, select: [{source: gh}]}\n",
                cycle=cycle_around_today(),
            )
        )
        run = ws.goalsync("run")
        assert run.code == 0, run
        no_crash(run)
        sheet_titles = {str(r["Key"]): str(r["Title"]) for r in sheet_rows(book, "Items")}

    def clean(text: str) -> str:  # what a sink can hold: a lone surrogate becomes U+FFFD
        return text.replace("\ud83d", "\ufffd")

    by_key = {f"acme/web#{n}": clean(t) for n, t in TITLES.items()}
    for key, title in by_key.items():
        shown = sheet_titles[key]
        assert len(shown) <= 50_000
        assert shown == title or (len(title) > 50_000 and shown[:-1] == title[: len(shown) - 1])
    csv_titles = {r["Key"]: r["Title"] for r in ws.csv_rows("Items")}
    assert csv_titles == by_key  # csv has no cell limit: whole, every character
    wb = openpyxl.load_workbook(ws.out / "status.xlsx")  # a well-formed workbook
    xlsx_titles = {r[0].value: r[2].value for r in wb["Items"].iter_rows(min_row=2)}
    assert all(len(t) <= 32_767 for t in xlsx_titles.values())
    assert xlsx_titles["acme/web#3"] == by_key["acme/web#3"]
    assert xlsx_titles["acme/web#6"] == by_key["acme/web#6"]
    page = (ws.out / "status.html").read_text(encoding="utf-8")  # valid UTF-8
    assert "<html" in page
    with zipfile.ZipFile(ws.out / "status.xlsx") as z:
        assert z.testzip() is None


# --- null and missing fields ----------------------------------------------------------------

JIRA_FIELDS = [
    "summary", "status", "assignee", "labels", "components", "priority", "created", "updated",
    "resolution", "resolutiondate", "duedate", "issuetype", "project", "parent",
]  # fmt: skip
GITHUB_FIELDS = [
    "title", "state", "state_reason", "labels", "assignee", "assignees", "milestone",
    "created_at", "updated_at", "closed_at", "html_url", "user", "body", "pull_request",
]  # fmt: skip


def holes(base: dict[str, Any], fields: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of `base` with each field null, then missing (under `fields` when nested)."""
    for name in fields:
        for mode in ("null", "missing"):
            copy_ = copy.deepcopy(base)
            target = copy_.get("fields", copy_) if "fields" in copy_ else copy_
            if mode == "null":
                target[name] = None
            else:
                target.pop(name, None)
            yield f"{name} {mode}", copy_


@pytest.fixture
def nulls(tmp_path: Path) -> Iterator[tuple[Workspace, FakeJira, FakeGitHub, FakeSheets]]:
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        yield Workspace(tmp_path), jira, github, sheets


def test_null_and_missing_fields_in_every_record_type(
    nulls: tuple[Workspace, FakeJira, FakeGitHub, FakeSheets],
) -> None:
    ws, jira, github, sheets = nulls
    # Live Jira: issues with a field null or missing, and changelog entries with holes.
    jira.add_issue("PAY-1", labels=["a"], components=["c"], parent="PAY-0", points=3, updated=T0)
    jira.transition("PAY-1", "In Progress", "indeterminate", at=T0)
    base = jira.issues["PAY-1"]
    number = 2
    for _, issue in holes(base, [f for f in JIRA_FIELDS if f != "project"]):
        issue["key"] = f"PAY-{number}"
        issue["id"] = str(20_000 + number)
        jira.issues[issue["key"]] = issue
        jira.histories[issue["key"]] = copy.deepcopy(jira.histories["PAY-1"])
        number += 1
    for history in [jira.histories["PAY-2"][0], jira.histories["PAY-3"][0]]:
        history.update(author=None, created=None)
    jira.histories["PAY-4"][0]["items"] = None
    jira.histories["PAY-5"][0]["items"][0].update(fromString=None, toString=None)

    # Live GitHub: issues with a field null or missing (the fake sorts and filters on the
    # times: those holes come from the export below), events with holes.
    web = github.add_repo("acme/web")
    issue1 = web.add_issue(1, updated=T0, labels=["x"], assignee="ana", pull="open")
    number = 2
    for _, issue in holes(issue1, [f for f in GITHUB_FIELDS if not f.endswith("_at")]):
        issue.update(number=number, updated_at=issue1["updated_at"])
        issue["created_at"] = issue1["created_at"]
        web.issues[number] = issue
        number += 1
    for n, (field, value) in enumerate(
        [("actor", None), ("label", None), ("issue", None), ("event", None), ("assignee", None)]
    ):
        event = event_payload(900 + n, "labeled", issue1, at=T0 + timedelta(minutes=n))
        event[field] = value
        web.events.append(event)

    # A plan sheet: every tab with short rows, empty cells and rows of nothing but blanks.
    today = serial(date.today())
    goals = ["id", "title", "owner", "start", "due", "target", "parent"]
    sheets.add_spreadsheet(
        "PLAN1",
        {
            "Goals": [goals, ["G9"], [""], ["G1.1", "", "", "", "", ""]],
            "Metrics": [["name", "date", "value"], ["nps"], ["nps", "", 3], ["", today, ""],
                        ["nps", today, 7]],
            "Overrides": [["id", "status", "reason", "until"], ["G1.1"], ["", "At risk"],
                          ["G1.2", "on track", "", ""]],
            "Tasks": [["key", "title", "state", "points", "due"], ["T-1"], ["", "no key"],
                      ["T-2", "", "", "", ""]],
        },
    )  # fmt: skip

    # File exports: the same holes in Jira and GitHub payloads, and CSV tables with gaps.
    exported = [issue for _, issue in holes(jira_issue(1, ""), JIRA_FIELDS)]
    for n, issue in enumerate(exported, start=1):
        issue["key"] = f"EXP-{n}"
    (ws.root / "jira.json").write_text(json.dumps({"issues": exported}), encoding="utf-8")
    gh_base = issue_payload("acme/old", 1, updated=T0, labels=["y"], assignee="bo")
    gh_exported = [issue for _, issue in holes(gh_base, GITHUB_FIELDS)]
    for n, issue in enumerate(gh_exported, start=1):
        issue["number"] = n
    (ws.root / "github.json").write_text(json.dumps(gh_exported), encoding="utf-8")
    csvs = {
        "items.csv": "key,title,state,status,assignee,labels,parent,milestone,points,created,"
        "updated,done_at,due,url\nC-1\nC-2,,,,,,,,,,,,,\n,orphan\nC-3,t,done\n",
        "metrics.csv": "name,date,value\nnps\nnps,,\n,2026-10-01,3\nnps,2026-10-01,\n",
        "goals.csv": "id,title,owner,start,due,target,parent\nG8\n,,\nG1.2,,,,,,\n",
        "overrides.csv": "id,status,reason,until\nG1.1\n,On track\nG1.2,at risk,,\n",
    }
    for name, text in csvs.items():
        (ws.root / name).write_text(text, encoding="utf-8")

    ws.env = {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "GITHUB_TOKEN": GH_TOKEN}
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n"
            f"  plan: {{type: sheets, spreadsheet_id: PLAN1, endpoint: '{sheets.url}/', "
            "credentials: anonymous}\n"
            "  jira_export: {type: file, path: jira.json, format: jira_search}\n"
            "  gh_export: {type: file, path: github.json, format: github_issues}\n"
            "  items: {type: file, path: items.csv, format: csv_items}\n"
            "  kpis: {type: file, path: metrics.csv, format: csv_metrics}\n"
            "  goal_rows: {type: file, path: goals.csv, format: csv_goals}\n"
            "  overrides: {type: file, path: overrides.csv, format: csv_overrides}\n",
            "  - {type: csv, path: out/csv}\n  - {type: xlsx, path: out/status.xlsx}\n",
            "  - id: G1\n    title: Everything\n    key_results:\n"
            "      - {id: G1.1, title: Work, measure: percent_done, select: [{source: [jira, gh, "
            "plan, jira_export, gh_export, items]}]}\n"
            "      - {id: G1.2, title: NPS, measure: metric, metric: nps, target: 10}\n",
            cycle=cycle_around_today(),
        )
    )
    run = ws.goalsync("run")
    assert run.code == 0, run
    no_crash(run)
    pulled = {e["source"]: e for e in run.events if e.get("event") == "source_pulled"}
    assert pulled["jira"]["items"] == 1 + 2 * (len(JIRA_FIELDS) - 1)
    assert pulled["gh"]["items"] == 1 + 2 * len([f for f in GITHUB_FIELDS if not f.endswith("_at")])
    assert pulled["jira_export"]["items"] == 2 * len(JIRA_FIELDS)
    assert pulled["gh_export"]["items"] == 2 * len(GITHUB_FIELDS)
    assert pulled["items"]["items"] == 3 and pulled["plan"]["items"] == 2
    assert ws.status()["G1.2"]["Value"] == "7"  # the one complete metric row of the sheet
    items = {(r["Source"], r["Key"]): r for r in ws.csv_rows("Items")}
    assert items[("jira", "PAY-2")]["Title"] == ""  # a null summary is an empty title
    assert len(items) == sum(p["items"] for p in pulled.values())
