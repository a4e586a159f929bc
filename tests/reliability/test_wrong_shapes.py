"""Guarantee: payloads are checked at the connector boundary; a wrong shape never moves a number
silently.

- A GitHub issue whose `labels` is a string (`"x"`, not a list of label objects) is skipped and
  named, with the count, in the Run tab and in the log; every other number is what it would be
  without it (before: read as a one-character label, the run exit 0 and silent).
- Jira issues with a wrong-shaped field (`labels` a string, `statusCategory.key` a number) are
  skipped and named the same way (before: a list of characters, and "to do").
- A page of the wrong shape fails its source: stale, exit 3, the last good values kept (before,
  a Jira page whose `issues` were not objects was read as an empty scope: exit 0, every item
  of the source dropped).
- A Sheets batchUpdate answered 200 with something that is not its reply (another
  spreadsheetId, an empty object, an HTML page) is a failed publish: exit 4, the state dir as
  it was (before: taken as success, exit 0, the cursors moved).

Each runs the real CLI against the loopback fakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Result, Workspace, config, cycle_around_today, sheet_rows

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
OUT = "OUT1"
SEARCH = "/rest/api/3/search/jql"
ISSUES = "/repos/acme/web/issues"
BATCH_UPDATE = f"/v4/spreadsheets/{OUT}:batchUpdate"
JSON = {"Content-Type": "application/json"}
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Jira work, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: Jira billing, measure: percent_done,
         select: [{source: jira, labels: [billing]}]}
      - {id: G1.3, title: GitHub work, measure: percent_done, select: [{source: gh}]}
      - {id: G1.4, title: GitHub billing, measure: percent_done,
         select: [{source: gh, labels: [billing]}]}
"""
# With only the well-formed items: 4 Jira issues (PAY-1, PAY-2 done; PAY-1, PAY-3 billing) and
# 4 GitHub issues (#1, #2 closed; #1, #3 billing).
HEALTHY = {
    "G1.1": ("50", "2 / 4"),
    "G1.2": ("50", "1 / 2"),
    "G1.3": ("50", "2 / 4"),
    "G1.4": ("50", "1 / 2"),
}


@dataclass
class Fakes:
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets
    web: FakeRepo


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        for n in range(1, 5):
            done = n <= 2
            jira.add_issue(
                f"PAY-{n}",
                status="Done" if done else "To Do",
                category="done" if done else "new",
                labels=["billing"] if n % 2 else [],
                updated=old + timedelta(minutes=n),
            )
        web = github.add_repo("acme/web")
        for n in range(1, 5):
            at = old + timedelta(minutes=n)
            labels = ["billing"] if n % 2 else []
            if n <= 2:
                web.add_issue(n, updated=at, state="closed", closed=at, labels=labels)
            else:
                web.add_issue(n, updated=at, labels=labels)
        sheets.add_spreadsheet(OUT)
        yield Fakes(jira, github, sheets, web)


@pytest.fixture
def ws(tmp_path: Path, fakes: Fakes) -> Workspace:
    ws = Workspace(
        tmp_path,
        env={
            "JIRA_EMAIL": EMAIL,
            "JIRA_API_TOKEN": TOKEN,
            "GITHUB_TOKEN": GH_TOKEN,
            "GOALSYNC_RETRY_BUDGET_S": "2",
        },
    )
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{fakes.jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{fakes.github.url}'}}\n",
            "  - {type: csv, path: out/csv}\n"
            f"  - {{type: sheets, spreadsheet_id: {OUT}, endpoint: '{fakes.sheets.url}/', "
            "credentials: anonymous}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def numbers(ws: Workspace) -> dict[str, tuple[str, str]]:
    return {kr: (r["Value"], r["Done / Total"]) for kr, r in ws.status().items() if kr != "G1"}


def warnings(ws: Workspace, source: str) -> list[str]:
    return [r["Value"] for r in ws.csv_rows("Run") if r["Key"] == f"Warning {source}"]


def assert_skipped(ws: Workspace, run: Result, source: str, named: dict[str, str]) -> None:
    """`named` (item -> a part of what is wrong) were skipped: in the log, one line per item and
    one with the count and every key; in the Run tab, one line with the count and the keys."""
    assert run.code == 0, run
    logged = {
        e["item"]: e["problem"]
        for e in run.events
        if e.get("event") == "item_malformed" and e.get("source") == source
    }
    assert set(logged) == set(named), run
    for item, what in named.items():
        assert what in logged[item], (item, logged[item])
    summary = run.event("items_skipped_malformed")
    assert summary["source"] == source
    assert summary["count"] == len(named) and sorted(summary["keys"]) == sorted(named)
    (line,) = [w for w in warnings(ws, source) if "malformed" in w]
    noun = "item" if len(named) == 1 else "items"
    assert line.startswith(f"{len(named)} {noun} skipped as malformed: "), line
    for item, what in named.items():
        assert item in line and what in line, line
    items = {r["Key"] for r in ws.csv_rows("Items")}
    assert not items & set(named)  # left out of every measure and of Items


def test_a_github_issue_with_labels_a_string_is_skipped_and_named(
    ws: Workspace, fakes: Fakes
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    bad = fakes.web.add_issue(5, updated=at, state="closed", closed=at, labels=["billing"])
    bad["labels"] = "x"
    run = ws.goalsync("run")
    assert_skipped(ws, run, "gh", {"acme/web#5": "labels"})
    assert numbers(ws) == HEALTHY  # as if #5 did not exist: no number moved
    assert "Warning gh" in {r["Key"] for r in sheet_rows(fakes.sheets.spreadsheets[OUT], "Run")}


def test_jira_issues_with_a_wrong_shaped_field_are_skipped_and_named(
    ws: Workspace, fakes: Fakes
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    labels = fakes.jira.add_issue("PAY-5", status="Done", category="done", updated=at)
    labels["fields"]["labels"] = "billing"  # read as ("b", "i", "l", ...) before
    category = fakes.jira.add_issue("PAY-6", status="Done", category="done", updated=at)
    category["fields"]["status"]["statusCategory"]["key"] = 3  # the id where the key belongs
    run = ws.goalsync("run")
    assert_skipped(
        ws,
        run,
        "jira",
        {"PAY-5": "fields.labels", "PAY-6": "fields.status.statusCategory.key"},
    )
    assert numbers(ws) == HEALTHY


# case -> (the source, the fault that answers its page, what its error says)
PAGES: dict[str, tuple[str, Fault, str]] = {
    "jira: issues that are not objects": (
        "jira",
        Fault("GET", SEARCH, Response(200, {"issues": ["PAY-1", 2], "isLast": True}, JSON)),
        "not all objects",
    ),
    "jira: a page without issues": (
        "jira",
        Fault("GET", SEARCH, Response(200, {"isLast": True}, JSON)),
        "without an 'issues' list",
    ),
    "jira: issues an object": (
        "jira",
        Fault("GET", SEARCH, Response(200, {"issues": {"PAY-1": {}}, "isLast": True}, JSON)),
        "without an 'issues' list",
    ),
    "github: the issues list an object": (
        "gh",
        Fault("GET", ISSUES, Response(200, {"items": []}, JSON)),
        "not a list",
    ),
}


@pytest.mark.parametrize("case", list(PAGES))
def test_a_page_of_the_wrong_shape_fails_its_source(case: str, ws: Workspace, fakes: Fakes) -> None:
    source, fault, says = PAGES[case]
    assert ws.goalsync("run").code == 0
    before = numbers(ws)
    assert before == HEALTHY
    cursor = ws.source_row(source)["cursor"]
    server = fakes.jira if source == "jira" else fakes.github
    server.inject(fault)
    run = ws.goalsync("run", "--full")  # a complete pull: read as empty, it would drop all
    assert run.code == 3, run
    assert run.event("run_finished")["stale"] == [source]
    assert numbers(ws) == before  # the last good values
    kind = {"gh": "github"}.get(source, source)
    assert ws.run_tab()[f"Source {source} ({kind})"]["Value"].startswith("stale since")
    row = ws.source_row(source)
    assert row["cursor"] == cursor and says in row["last_error"], row


@pytest.mark.parametrize(
    "reply",
    [
        Response(200, {"spreadsheetId": "SOMEONE-ELSES", "replies": []}, JSON),
        Response(200, {}, JSON),
        Response(200, b"<html><body>Sign in</body></html>", {"Content-Type": "text/html"}),
    ],
    ids=["another spreadsheetId", "an empty object", "an HTML page"],
)
def test_a_batch_update_answered_with_something_else_is_a_failed_publish(
    reply: Response, ws: Workspace, fakes: Fakes
) -> None:
    assert ws.goalsync("run").code == 0
    state = ws.db_bytes()
    cursors = {s: ws.source_row(s)["cursor"] for s in ("jira", "gh")}
    fakes.jira.transition("PAY-3", "Done", "done", at=datetime.now(UTC))
    fakes.sheets.inject(Fault("POST", BATCH_UPDATE, reply))
    run = ws.goalsync("run")
    assert run.code == 4, run
    assert "publish_failed" in run.names() or "sink_failed" in run.names(), run
    assert ws.db_bytes() == state  # the next run pulls the same changes again
    assert {s: ws.source_row(s)["cursor"] for s in ("jira", "gh")} == cursors
    assert not ws.temp_files()
