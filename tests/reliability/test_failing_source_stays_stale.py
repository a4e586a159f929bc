"""Guarantee 2: a source that fails after retries never counts as "0 items".

Three live sources (Jira, GitHub, a Sheets plan tab) each feed one key result. After a healthy
run, work changes in all three; then one source fails in one of the ways a night run meets:
a 503 burst, requests that time out, a truncated or malformed JSON answer, an HTML error page
from a proxy, an HTML login page answered 200. That source's key result keeps its last good
value (not 0, not the new one), marked "stale since" in its Note, with its Updated time still the
last success; the Run tab says so; the other sources refresh; the run exits 3. A later healthy
run clears the mark; consecutive failures keep the time of the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub, FakeRepo, iso
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Result, Workspace, config, cycle_around_today

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
PLAN = "PLAN1"
SEARCH = "/rest/api/3/search/jql"
ISSUES = "/repos/acme/web/issues"
VALUES = f"/v4/spreadsheets/{PLAN}/values"
GOALS = """\
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - {id: G1.1, title: Jira work, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: GitHub work, measure: percent_done, select: [{source: gh}]}
      - {id: G1.3, title: NPS, measure: metric, metric: nps, baseline: 0, target: 100}
"""
SOURCE_OF = {"jira": "G1.1", "gh": "G1.2", "plan": "G1.3"}
BEFORE = {"G1.1": "25", "G1.2": "25", "G1.3": "30"}  # after the healthy first run
AFTER = {"G1.1": "50", "G1.2": "50", "G1.3": "40"}  # what each source says after the change
HTML_PROXY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
HTML_LOGIN = b"<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>"
JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}


def serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


@dataclass
class Fakes:
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets
    web: FakeRepo

    def change_everything(self) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        self.jira.transition("PAY-2", "Done", "done", at=now)
        self.web.update(2, at=now, state="closed", state_reason="completed", closed_at=iso(now))
        tab = self.sheets.spreadsheets[PLAN].sheet("Metrics")
        tab.cells[(2, 0)] = {"userEnteredValue": {"stringValue": "nps"}}
        tab.cells[(2, 1)] = {"userEnteredValue": {"numberValue": serial(date.today())}}
        tab.cells[(2, 2)] = {"userEnteredValue": {"numberValue": 40}}

    def inject(self, source: str, fault: Fault) -> None:
        server = {"jira": self.jira, "gh": self.github, "plan": self.sheets}[source]
        server.inject(fault)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        for n in range(1, 5):
            done = n == 1
            jira.add_issue(
                f"PAY-{n}",
                status="Done" if done else "To Do",
                category="done" if done else "new",
                updated=old + timedelta(minutes=n),
            )
        web = github.add_repo("acme/web")
        for n in range(1, 5):
            at = old + timedelta(minutes=n)
            if n == 1:
                web.add_issue(n, updated=at, state="closed", closed=at)
            else:
                web.add_issue(n, updated=at)
        day = serial(date.today() - timedelta(days=5))
        metrics: list[list[Any]] = [["name", "date", "value"], ["nps", day, 30]]
        sheets.add_spreadsheet(PLAN, {"Metrics": metrics})
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
            "RELIABILITY_TIMEOUT_S": "1",
        },
    )
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{fakes.jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{fakes.github.url}'}}\n"
            f"  plan: {{type: sheets, spreadsheet_id: {PLAN}, endpoint: '{fakes.sheets.url}/', "
            "credentials: anonymous, tabs: {metrics: Metrics}}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def values(ws: Workspace) -> dict[str, str]:
    return {kr: row["Value"] for kr, row in ws.status().items() if kr in BEFORE}


def assert_stale(ws: Workspace, run: Result, source: str, first: dict[str, dict[str, str]]) -> None:
    """`source` failed this run: its key result shows its last good value, marked stale."""
    kr = SOURCE_OF[source]
    assert run.code == 3, run
    assert run.event("run_finished")["stale"] == [source]
    now = ws.status()
    assert now[kr]["Value"] == BEFORE[kr] != AFTER[kr]  # the last good value, not 0, not new
    assert now[kr]["Done / Total"] == first[kr]["Done / Total"]
    assert f"source {source} failed" in now[kr]["Note"] and "stale since" in now[kr]["Note"]
    assert now[kr]["Updated"] == first[kr]["Updated"]  # as of the last success
    for other, other_kr in SOURCE_OF.items():
        if other != source:  # the others refresh
            assert now[other_kr]["Value"] == AFTER[other_kr], (other, now[other_kr])
            assert "stale" not in now[other_kr]["Note"]
    row = ws.run_tab()[
        f"Source {source} ({ {'gh': 'github', 'plan': 'sheets'}.get(source, source) })"
    ]
    assert row["Value"].startswith("stale since")
    assert "last success" in row["Detail"] and "never" not in row["Detail"]
    assert ws.source_row(source)["stale_since"] is not None


# case -> (the failing source, the fault, what its error says)
CASES: dict[str, tuple[str, Fault, str]] = {
    "jira: a burst of 503s": (
        "jira",
        Fault("GET", SEARCH, Response(503, {"errorMessages": ["Service Unavailable"]}), times=99),
        "Jira answered 503 to search",
    ),
    "jira: requests that time out": (
        "jira",
        Fault("GET", SEARCH, delay=4.0, times=99),
        "ReadTimeout",
    ),
    "jira: an HTML login page answered 200": (
        "jira",
        Fault("GET", SEARCH, Response(200, HTML_LOGIN, HTML)),
        "is not JSON (a login page or proxy",
    ),
    "github: truncated JSON": (
        "gh",
        Fault("GET", ISSUES, Response(200, b'[{"number": 1, "title": "cut sh', JSON)),
        "not JSON",
    ),
    "github: an HTML error page from a proxy": (
        "gh",
        Fault("GET", ISSUES, Response(502, HTML_PROXY, HTML), times=99),
        "GitHub answered 502",
    ),
    "sheets: malformed JSON": (
        "plan",
        Fault("GET", VALUES, Response(200, b'{"valueRanges": [{"values": [["name",]]}', JSON)),
        "the answer is not JSON",
    ),
    "sheets: an HTML error page from a proxy": (
        "plan",
        Fault("GET", VALUES, Response(503, HTML_PROXY, HTML), times=99),
        "server error (503",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failing_source_keeps_its_last_good_values(
    case: str, ws: Workspace, fakes: Fakes
) -> None:
    source, fault, says = CASES[case]
    first = ws.goalsync("run")
    assert first.code == 0, first
    assert values(ws) == BEFORE
    before = ws.status()
    cursor = ws.source_row(source)["cursor"]

    fakes.change_everything()
    fakes.inject(source, fault)
    failed = ws.goalsync("run")
    assert_stale(ws, failed, source, before)
    assert ws.source_row(source)["cursor"] == cursor  # nothing of the failed source moved
    assert says in ws.source_row(source)["last_error"]
    assert failed.seconds < 30  # gave up within the retry budget, not a hang


def test_stale_since_is_the_first_failure_and_a_healthy_run_clears_it(
    ws: Workspace, fakes: Fakes
) -> None:
    assert ws.goalsync("run").code == 0
    before = ws.status()
    fakes.change_everything()
    fakes.inject("jira", Fault("GET", SEARCH, Response(503, {}), times=999))
    assert_stale(ws, ws.goalsync("run"), "jira", before)
    since = ws.source_row("jira")["stale_since"]
    note = ws.status()["G1.1"]["Note"]

    again = ws.goalsync("run")
    assert_stale(ws, again, "jira", before)
    assert ws.source_row("jira")["stale_since"] == since
    assert ws.status()["G1.1"]["Note"] == note  # still "stale since" the first failure

    fakes.jira.faults.clear()
    healed = ws.goalsync("run")
    assert healed.code == 0, healed
    assert values(ws) == AFTER
    assert not any("stale" in row["Note"] for row in ws.status().values())
    assert ws.source_row("jira")["stale_since"] is None
    assert ws.run_tab()["Source jira (jira)"]["Value"] == "ok"
