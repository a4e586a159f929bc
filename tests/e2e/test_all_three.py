"""All three connectors together, through the real CLI (`python -m sync.cli run`, a subprocess):
Jira Cloud, GitHub (two repositories) and a Sheets plan source (Goals, Metrics, Overrides and
Tasks tabs) at their loopback fakes, published to the fake Sheets status sheet, an xlsx workbook
and an html page.

Three runs: a first (complete) pull; an incremental run after a few items changed on the fakes,
where exactly the rows those items feed change; an unchanged incremental run, where nothing does.
Every expected number is computed by hand below from what `seed` puts on the fakes, never taken
from goalsync's output.

Time: `--as-of` is tomorrow 12:00 UTC (after every change the test makes, so no change is hidden
by the as-of view), the cycle runs from 45 days before that day to 44 days after it, in UTC:
    expected % = (45 days + 12 h) / (90 days) = 45.5 / 90 = 50.56 -> 50.6 for every row.
Status: gap = expected - progress; <= 10 on track, <= 25 at risk, else off track. Done items
were done 50 days before, outside the 6-week window, so no forecast moves a status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub, FakeRepo, iso, milestone_payload
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet

REPO = Path(__file__).resolve().parents[2]
EMAIL, JIRA_TOKEN = "bot@acme.example", "atl-all-three-token-0123456789"
AS_OF = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(12), UTC)
DAY = AS_OF.date()
START, DUE = DAY - timedelta(days=45), DAY + timedelta(days=44)
DONE_AT = AS_OF - timedelta(days=50)  # every seeded done item: before the forecast window
EXPECTED = 50.6  # (45.5 days elapsed) / (90 days) * 100, one decimal
PLAN, STATUS = "PLAN1", "STATUS1"  # the plan spreadsheet (source) and the status one (sink)
STATUS_COLUMNS = [
    "ID", "Level", "Title", "Owner", "Start", "Due", "Value", "Target", "Progress %",
    "Expected %", "Status", "Trend 7d", "Forecast P85", "Risks", "Done / Total", "Sources",
    "Updated", "Note", "Confidence", "Comment",
]  # fmt: skip
# What these tests compare of a Status row: everything but Updated (the time of each pull).
COMPARED = [c for c in STATUS_COLUMNS if c != "Updated"]


def config(jira: str, github: str, sheets: str) -> str:
    return f"""\
version: 1
timezone: UTC
cycle: {{start: {START}, due: {DUE}}}
sources:
  jira:
    type: jira
    url: {jira}
    jql: project in (PAY, CORE)
  gh:
    type: github
    repos: [acme/web, acme/api]
    base_url: {github}
  plan:
    type: sheets
    spreadsheet_id: {PLAN}
    endpoint: {sheets}/
    credentials: anonymous
sinks:
  - {{type: sheets, spreadsheet_id: {STATUS}, endpoint: '{sheets}/', credentials: anonymous}}
  - {{type: xlsx, path: out/status.xlsx}}
  - {{type: html, path: out/status.html}}
goals:
  - id: G1
    title: Launch self-serve billing
    owner: Dana Lee
    key_results:
      - id: G1.1
        title: Billing epic delivered
        measure: percent_done
        select:
          - {{source: jira, parent: PAY-100}}
      - id: G1.2
        title: Billing points done
        measure: percent_done
        by: points
        select:
          - {{source: jira, labels: [billing]}}
      - id: G1.3
        title: Checkout conversion
        measure: metric
        metric: checkout_conversion
        baseline: 2.0
        target: 3.0
      - id: G1.4
        title: Billing UI shipped
        measure: percent_done
        select:
          - {{source: gh, repo: acme/web, labels: [billing]}}
  - id: G2
    title: A reliable public API
    owner: Kim Park
    key_results:
      - id: G2.1
        title: API v2.0 milestone
        measure: milestone
        select:
          - {{source: gh, repo: acme/api, milestone: v2.0}}
      - id: G2.2
        title: Open bugs
        measure: open_count
        baseline: 20
        target: 0
        select:
          - {{source: gh, labels: [bug]}}
      - id: G2.3
        title: Ops runbook tasks
        measure: percent_done
        select:
          - {{source: plan, labels: [ops]}}
"""


# --- the data, and what it makes -------------------------------------------------------------
#
# Jira (153 issues: two search pages of 100):
#   PAY-100 the epic; under it PAY-101..PAY-148 done (48), PAY-149..PAY-156 in progress (8),
#   PAY-157..PAY-180 to do (24), PAY-181..PAY-182 done as "Won't Do" (cancelled: left out);
#   PAY-101..PAY-104 (done) and PAY-157..PAY-160 (to do) carry the label billing, 3 points each;
#   CORE-1..CORE-70 to do, in no key result (unaligned).
# GitHub acme/web (120 items: two pages of 100): #1..#10 billing: #1..#5 closed as completed,
#   #6 closed as not_planned (cancelled), #7 a merged pull request, #8..#10 open; #41..#50 bug:
#   #41..#44 closed, #45..#50 open; the other 100 open and unaligned.
# GitHub acme/api (30 items): milestone v2.0 on #1..#20: #1..#12 closed as completed, #13 as
#   not_planned (cancelled), #14..#20 open; #21..#24 open bugs; #25..#30 open and unaligned.
# Sheets plan: Goals moves G1.3's target to 3.5; Metrics checkout_conversion 2.4 (day -30) and
#   2.6 (day -10); Overrides: G2.3 "On track" until day +7; Tasks OPS-1..OPS-8 labelled ops:
#   OPS-1..OPS-3 done, OPS-4..OPS-5 in progress, OPS-6..OPS-8 to do; MISC-1 to do (unaligned).
#
# First run (expected 50.6 everywhere; every Note of a row at risk says how far behind it is;
# the only risks: OPS-4 and OPS-5 are in progress without an assignee, 2 on G2.3 and its goal):
#   G1.1  48 done / 80 (82 children - 2 cancelled) = 60.0 %; gap 50.6 - 60.0 = -9.4: On track
#   G1.2  points: done 4 x 3 = 12 of (12 + 4 x 3) = 24 -> 50.0 %; gap 0.6: On track
#   G1.3  latest 2.6: (2.6 - 2.0) / (3.5 - 2.0) = 40.0 %; gap 10.6: At risk
#   G1.4  done #1..#5 + #7 = 6 of 9 (#6 cancelled) = 66.67 %, progress 66.7; On track
#   G1    (60.0 + 50.0 + 40.0 + 66.67) / 4 = 54.17 -> 54.2; gap -3.6: On track
#   G2.1  12 of 19 (#13 cancelled) = 63.16 %, progress 63.2; On track
#   G2.2  open bugs: 6 (web #45..#50) + 4 (api #21..#24) = 10; (10 - 20) / (0 - 20) = 50.0 %;
#         Done / Total 4 / 14; gap 0.6: On track
#   G2.3  3 of 8 = 37.5 %; gap 13.1 would be At risk, the override says On track
#   G2    (63.16 + 50.0 + 37.5) / 3 = 50.22 -> 50.2; gap 0.4: On track
#   Unaligned: CORE 70 + web 100 + api 6 + MISC-1 = 177
FIRST: dict[str, dict[str, Any]] = {
    "G1": {"Value": None, "Target": None, "Progress %": 54.2, "Status": "On track",
           "Done / Total": None},
    "G1.1": {"Value": 60, "Target": 100, "Progress %": 60, "Status": "On track",
             "Done / Total": "48 / 80"},
    "G1.2": {"Value": 50, "Target": 100, "Progress %": 50, "Status": "On track",
             "Done / Total": "4 / 8"},
    "G1.3": {"Value": 2.6, "Target": 3.5, "Progress %": 40, "Status": "At risk",
             "Done / Total": None, "Note": "10.6 points behind expected"},
    "G1.4": {"Value": 66.67, "Target": 100, "Progress %": 66.7, "Status": "On track",
             "Done / Total": "6 / 9"},
    "G2": {"Value": None, "Target": None, "Progress %": 50.2, "Status": "On track",
           "Done / Total": None, "Risks": 2},
    "G2.1": {"Value": 63.16, "Target": 100, "Progress %": 63.2, "Status": "On track",
             "Done / Total": "12 / 19"},
    "G2.2": {"Value": 10, "Target": 0, "Progress %": 50, "Status": "On track",
             "Done / Total": "4 / 14"},
    "G2.3": {"Value": 37.5, "Target": 100, "Progress %": 37.5, "Status": "On track",
             "Done / Total": "3 / 8", "Risks": 2,
             "Note": f"override: vendor confirmed the fix (until {DAY + timedelta(days=7)}); "
                     "13.1 points behind expected"},
}  # fmt: skip
#
# The changes before the second run, and what they make:
#   Jira: PAY-157 (billing, 3 points) moves to Done; PAY-183 is created under PAY-100, to do.
#     G1.1  49 / 81 = 60.49 %, progress 60.5; On track
#     G1.2  done 12 + 3 = 15 of 24 = 62.5 %; On track
#   GitHub: acme/api#21 (a bug) is closed as completed.
#     G2.2  open 9: (9 - 20) / (0 - 20) = 55.0 %; Done / Total 5 / 14; On track
#   Sheets: Metrics gets checkout_conversion 2.9 (day -2).
#     G1.3  (2.9 - 2.0) / 1.5 = 60.0 %; gap -9.4: On track, and its Note goes
#   G1    (60.49 + 62.5 + 60.0 + 66.67) / 4 = 62.42 -> 62.4; On track
#   G2    (63.16 + 55.0 + 37.5) / 3 = 51.89 -> 51.9; On track
#   G1.4, G2.1 and G2.3 do not change.
SECOND_CHANGES: dict[str, dict[str, Any]] = {
    "G1": {"Progress %": 62.4},
    "G1.1": {"Value": 60.49, "Progress %": 60.5, "Done / Total": "49 / 81"},
    "G1.2": {"Value": 62.5, "Progress %": 62.5, "Done / Total": "5 / 8"},
    "G1.3": {"Value": 2.9, "Progress %": 60, "Status": "On track", "Note": None},
    "G2": {"Progress %": 51.9},
    "G2.2": {"Value": 9, "Progress %": 55, "Done / Total": "5 / 14"},
}


def seed_jira(fake: FakeJira) -> None:
    fake.projects.update({"PAY", "CORE"})
    created = AS_OF - timedelta(days=60)
    fake.add_issue("PAY-100", summary="Self-serve billing", issuetype="Epic",
                   status="In Progress", category="indeterminate", created=created,
                   updated=AS_OF - timedelta(days=20))  # fmt: skip
    for n in range(101, 183):
        billing = n in range(101, 105) or n in range(157, 161)
        if n <= 148:
            status, category, updated = "Done", "done", DONE_AT
        elif n <= 156:
            status, category, updated = "In Progress", "indeterminate", AS_OF - timedelta(days=2)
        elif n <= 180:
            status, category, updated = "To Do", "new", AS_OF - timedelta(days=3)
        else:
            status, category, updated = "Won't Do", "done", DONE_AT
        fake.add_issue(
            f"PAY-{n}",
            summary=f"Billing task {n}",
            parent="PAY-100",
            labels=["billing"] if billing else [],
            points=3.0 if billing else 2.0,
            status=status,
            category=category,
            resolution="Won't Do" if n > 180 else ("Done" if category == "done" else None),
            assignee="Sam Ortiz" if category == "indeterminate" else None,
            created=created,
            updated=updated - timedelta(minutes=n),
        )
    for n in range(1, 71):
        fake.add_issue(f"CORE-{n}", summary=f"Core chore {n}", created=created,
                       updated=AS_OF - timedelta(days=5, minutes=n))  # fmt: skip


def seed_github(fake: FakeGitHub) -> tuple[FakeRepo, FakeRepo]:
    created = AS_OF - timedelta(days=60)
    closed: dict[str, Any] = {"updated": DONE_AT, "state": "closed", "closed": DONE_AT}
    web = fake.add_repo("acme/web")
    for n in range(1, 121):
        at = AS_OF - timedelta(days=3, minutes=n)
        labels = ["billing"] if n <= 10 else ["bug"] if 41 <= n <= 50 else []
        if n <= 5 or 41 <= n <= 44:
            web.add_issue(n, created=created, labels=labels, state_reason="completed", **closed)
        elif n == 6:
            web.add_issue(n, created=created, labels=labels, state_reason="not_planned", **closed)
        elif n == 7:
            web.add_issue(n, created=created, labels=labels, pull="merged", **closed)
        else:
            web.add_issue(n, created=created, updated=at, labels=labels)
    api = fake.add_repo("acme/api")
    v2 = milestone_payload("acme/api", 1, "v2.0", open_issues=7, closed_issues=13)
    api.milestones.append(v2)
    for n in range(1, 31):
        at = AS_OF - timedelta(days=3, minutes=n)
        if n <= 13:
            reason = "not_planned" if n == 13 else "completed"
            api.add_issue(n, created=created, milestone=v2, state_reason=reason, **closed)
            api.add_event("closed", n, at=DONE_AT)
        elif n <= 20:
            api.add_issue(n, created=created, updated=at, milestone=v2)
        else:
            api.add_issue(n, created=created, updated=at, labels=["bug"] if n <= 24 else [])
    return web, api


def day(n: int) -> str:
    """The day `n` days after the as-of day, as a person types a date into a sheet."""
    return (DAY + timedelta(days=n)).isoformat()


def serial(d: date) -> int:
    """A date as Sheets holds it: days since 1899-12-30."""
    return (d - date(1899, 12, 30)).days


def seed_plan(fake: FakeSheets) -> FakeSpreadsheet:
    tasks: list[list[Any]] = [["key", "title", "state", "labels", "points", "updated", "url"]]
    for n in range(1, 9):
        state = "done" if n <= 3 else "in_progress" if n <= 5 else "todo"
        tasks.append([f"OPS-{n}", f"Runbook step {n}", state, "ops", 1, day(-50 if n <= 3 else -4),
                      f"https://plan.example/ops/{n}"])  # fmt: skip
    tasks.append(["MISC-1", "Tidy the wiki", "todo", "misc", 1, day(-4), ""])
    return fake.add_spreadsheet(
        PLAN,
        {
            "Goals": [["id", "title", "owner", "start", "due", "target", "parent"],
                      ["G1.3", "", "", "", "", 3.5, ""]],
            "Metrics": [["name", "date", "value"],
                        ["checkout_conversion", day(-30), 2.4],
                        ["checkout_conversion", day(-10), 2.6]],
            "Overrides": [["id", "status", "reason", "until"],
                          ["G2.3", "On track", "vendor confirmed the fix", day(7)]],
            "Tasks": tasks,
        },
    )  # fmt: skip


# --- running and reading ---------------------------------------------------------------------


@dataclass
class World:
    root: Path
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets
    web: FakeRepo
    api: FakeRepo
    plan: FakeSpreadsheet
    status: FakeSpreadsheet
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    status_rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    items: dict[str, dict[tuple[str, str], list[Any]]] = field(default_factory=dict)
    unaligned: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        for fake in (self.jira, self.github, self.sheets):
            fake.reset_counts()

    def run(self, name: str) -> None:
        self.reset()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GOALSYNC_", "JIRA_", "GITHUB_", "GOOGLE_"))
        }
        env |= {
            "GOALSYNC_LOG_FORMAT": "json",
            "GOALSYNC_RETRY_BUDGET_S": "30",
            "JIRA_EMAIL": EMAIL,
            "JIRA_API_TOKEN": JIRA_TOKEN,
            "GITHUB_TOKEN": GH_TOKEN,
            "PYTHONPATH": str(REPO),
        }
        cmd = [sys.executable, "-m", "sync.cli", "run", "--config", "goalsync.yaml"]
        cmd += ["--state-dir", "state", "--as-of", AS_OF.isoformat()]
        self.runs[name] = subprocess.run(
            cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        self.counts[name] = self._counts()
        header, *rows = self.status.values("Status")
        assert header == STATUS_COLUMNS
        # The API leaves trailing empty cells out and shows gaps as "": both are None here.
        self.status_rows[name] = {
            r[0]: {c: (r[i] if i < len(r) and r[i] != "" else None) for i, c in enumerate(header)}
            for r in rows
        }
        header, *rows = self.status.values("Items")
        kr = header.index("Key result")
        self.items[name] = {(r[0], r[kr]): r for r in rows}
        self.unaligned[name] = len(self.status.values("Unaligned")) - 1

    def _counts(self) -> dict[str, int]:
        jira, gh, sheets = self.jira, self.github, self.sheets
        plan, status = f"/v4/spreadsheets/{PLAN}", f"/v4/spreadsheets/{STATUS}"
        return {
            "jira serverInfo": jira.count("GET", "/rest/api/2/serverInfo"),
            "jira field": jira.count("GET", "/rest/api/3/field"),
            "jira myself": jira.count("GET", "/rest/api/3/myself"),
            "jira search": jira.count("GET", "/rest/api/3/search/jql"),
            "jira all": jira.count(),
            "gh issues": sum(r.path.endswith("/issues") for r in gh.requests),
            "gh milestones": sum(r.path.endswith("/milestones") for r in gh.requests),
            "gh events": sum(r.path.endswith("/issues/events") for r in gh.requests),
            "gh 304": gh.not_modified,
            "gh all": gh.count(),
            "plan batchGet": sheets.count("GET", f"{plan}/values:batchGet"),
            "plan all": sheets.count(path_prefix=plan),
            "status get": sheets.count("GET", status) - sheets.count("GET", f"{status}/values"),
            "status batchGet": sheets.count("GET", f"{status}/values:batchGet"),
            "status batchUpdate": sheets.count("POST", f"{status}:batchUpdate"),
            "status all": sheets.count(path_prefix=status),
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("all-three")
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, JIRA_TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        seed_jira(jira)
        web, api = seed_github(github)
        plan = seed_plan(sheets)
        status = sheets.add_spreadsheet(STATUS)
        (root / "goalsync.yaml").write_text(
            config(jira.url, f"{github.url}/api/v3", sheets.url), encoding="utf-8"
        )
        w = World(root, jira, github, sheets, web, api, plan, status)
        w.run("first")

        # A few items change on the fakes.
        now = datetime.now(UTC).replace(microsecond=0)
        jira.transition("PAY-157", "Done", "done", at=now, by="Sam Ortiz")
        jira.add_issue("PAY-183", summary="Dunning e-mails", parent="PAY-100", points=2.0,
                       created=now, updated=now)  # fmt: skip
        api.update(21, at=now, state="closed", state_reason="completed", closed_at=iso(now))
        api.add_event("closed", 21, at=now)
        metrics = plan.sheet("Metrics")
        for col, value in enumerate(["checkout_conversion", (DAY - timedelta(days=2)).isoformat()]):
            metrics.cells[(3, col)] = {"userEnteredValue": {"stringValue": value}}
        metrics.cells[(3, 2)] = {"userEnteredValue": {"numberValue": 2.9}}
        w.run("second")
        w.run("third")  # nothing changed since the second run
        yield w


# --- the tests -------------------------------------------------------------------------------


def test_every_run_exits_0(world: World) -> None:
    for name, run in world.runs.items():
        assert run.returncode == 0, f"{name}:\n{run.stdout}\n{run.stderr}"
        assert "wrote: sheets STATUS1" in run.stdout, run.stdout
        for secret in (JIRA_TOKEN, GH_TOKEN):
            assert secret not in run.stdout + run.stderr


def test_first_run_status_tab(world: World) -> None:
    rows = world.status_rows["first"]
    assert list(rows) == ["G1", "G1.1", "G1.2", "G1.3", "G1.4", "G2", "G2.1", "G2.2", "G2.3"]
    for row_id, expected in FIRST.items():
        row = rows[row_id]
        got = {k: row[k] for k in expected}
        assert got == expected, row_id
        assert row["Expected %"] == EXPECTED, row_id
        assert row["Risks"] == expected.get("Risks", 0), row_id
        assert row["Note"] == expected.get("Note"), row_id
        assert row["Forecast P85"] is None and row["Trend 7d"] is None, row_id
    assert (rows["G1.1"]["Start"], rows["G1.1"]["Due"]) == (serial(START), serial(DUE))
    assert rows["G1.3"]["Title"] == "Checkout conversion"
    assert rows["G1"]["Level"] == "goal" and rows["G1.1"]["Level"] == "kr"
    assert rows["G1.1"]["Owner"] == "Dana Lee" and rows["G2.2"]["Owner"] == "Kim Park"
    assert world.unaligned["first"] == 177


def test_first_run_request_counts(world: World) -> None:
    assert world.counts["first"] == {
        # serverInfo, /field, one approximate-count (a complete pull counts its scope first, to
        # choose whether to read it in slices), then ceil(153 / 100) = 2 search pages
        "jira serverInfo": 1, "jira field": 1, "jira myself": 0, "jira search": 2, "jira all": 5,
        # web: 2 issues pages + milestones + 1 events page; api: 1 + 1 + 1
        "gh issues": 3, "gh milestones": 2, "gh events": 2, "gh 304": 0, "gh all": 7,
        # the plan tabs in one batchGet
        "plan batchGet": 1, "plan all": 1,
        # no History tab yet: spreadsheets.get (kept for the publish) and one batchUpdate
        "status get": 1, "status batchGet": 0, "status batchUpdate": 1, "status all": 2,
    }  # fmt: skip


def test_incremental_run_changes_exactly_the_rows_fed_by_the_changed_items(world: World) -> None:
    before, after = world.status_rows["first"], world.status_rows["second"]
    assert list(after) == list(before)
    for row_id in before:
        changed = {c for c in COMPARED if before[row_id][c] != after[row_id][c]}
        expected = SECOND_CHANGES.get(row_id, {})
        assert changed == set(expected), (row_id, before[row_id], after[row_id])
        assert {c: after[row_id][c] for c in expected} == expected, row_id
        assert after[row_id]["Expected %"] == EXPECTED


def test_incremental_run_items_tab(world: World) -> None:
    before, after = world.items["first"], world.items["second"]
    added = set(after) - set(before)
    assert added == {("PAY-183", "G1.1")}
    assert set(before) - set(after) == set()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {("PAY-157", "G1.1"), ("PAY-157", "G1.2"), ("acme/api#21", "G2.2")}
    state = 3  # the State column
    assert [after[k][state] for k in sorted(changed)] == ["done", "done", "done"]
    assert world.unaligned["second"] == 177


def test_incremental_run_request_counts(world: World) -> None:
    assert world.counts["second"] == {
        # one search since the cursor (it finds PAY-157 and PAY-183); no site requests
        "jira serverInfo": 0, "jira field": 0, "jira myself": 0, "jira search": 1, "jira all": 1,
        # web (two pages last time: no ETag kept) asks since its cursor minus the lookback: 200,
        # but every item it shows was read by the first run at that update: nothing else is
        # asked but its milestones with their ETag (304); api asks its kept list with
        # If-None-Match: changed (200), then its milestones and one events page
        "gh issues": 2, "gh milestones": 2, "gh events": 1, "gh 304": 1, "gh all": 5,
        "plan batchGet": 1, "plan all": 1,
        # the publish: spreadsheets.get, the History tab, one batchUpdate
        "status get": 1, "status batchGet": 1, "status batchUpdate": 1, "status all": 3,
    }  # fmt: skip


def test_unchanged_run_changes_nothing_and_costs_one_request_per_scope(world: World) -> None:
    before, after = world.status_rows["second"], world.status_rows["third"]
    for row_id in before:
        assert {c: before[row_id][c] for c in COMPARED} == {
            c: after[row_id][c] for c in COMPARED
        }, row_id
    assert world.items["third"] == world.items["second"]
    assert world.counts["third"] == {
        "jira serverInfo": 0, "jira field": 0, "jira myself": 0, "jira search": 1, "jira all": 1,
        # both repositories: their kept single-page issues and milestones lists with
        # If-None-Match, answered 304 (free against the rate limit)
        "gh issues": 2, "gh milestones": 2, "gh events": 0, "gh 304": 4, "gh all": 4,
        "plan batchGet": 1, "plan all": 1,
        "status get": 1, "status batchGet": 1, "status batchUpdate": 1, "status all": 3,
    }  # fmt: skip


def test_the_plan_spreadsheet_is_read_never_written(world: World) -> None:
    assert world.sheets.count("POST", f"/v4/spreadsheets/{PLAN}") == 0
    assert world.plan.titles() == ["Goals", "Metrics", "Overrides", "Tasks"]


def test_xlsx_and_html_show_the_same_status(world: World) -> None:
    sheet_rows = world.status_rows["third"]
    wb = openpyxl.load_workbook(world.root / "out" / "status.xlsx")
    header, *rows = [list(r) for r in wb["Status"].iter_rows(values_only=True)]
    assert header == STATUS_COLUMNS
    for values in rows:
        by_name = dict(zip(header, values, strict=True))
        expected = sheet_rows[str(by_name["ID"])]
        for column in ("Value", "Target", "Progress %", "Expected %", "Status", "Done / Total"):
            assert by_name[column] == expected[column], (by_name["ID"], column)
    assert isinstance(rows[0][4], date | datetime)  # Start is a date cell
    page = (world.root / "out" / "status.html").read_text(encoding="utf-8")
    for row_id, row in sheet_rows.items():
        assert row_id in page and str(row["Title"]) in page
    assert "Ops runbook tasks" in page and "62.4" in page and "51.9" in page
