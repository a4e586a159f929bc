"""Issue 13: a machine's clock and Jira's disagree.

Jira reads the incremental bound `updated >= "-Nm"` on its own clock; N is counted on this
machine's, from the last run's start (the cursor, also this machine's). A steady offset cancels
out; an offset that changed between two runs (the clock stepped by NTP, the state dir moved to
another machine or runner) does not: with this machine's clock 15 minutes further behind Jira's
than at the last run, the window started 15 minutes late on Jira's clock, past the 10-minute
lookback, and an edit made just after the last run was missed until the daily reconcile.

The source now measures the offset from every answer's Date header, keeps it with the cursor,
widens the window by any growth, and warns (log and Run tab) past 60 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import FakeJira
from tests.reliability.helpers import Workspace, config, cycle_around_today

GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Billing done, select: [{source: jira, labels: [billing]}]}
"""


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud") as jira:
        old = datetime.now(UTC) - timedelta(days=2)
        for n in (1, 2):
            jira.add_issue(f"PAY-{n}", labels=["billing"], updated=old)
        yield jira


@pytest.fixture
def ws(tmp_path: Path, jira: FakeJira) -> Workspace:
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def states(ws: Workspace) -> dict[str, str]:
    return {r["Key"]: r["State"] for r in ws.csv_rows("Items")}


def test_a_clock_that_fell_behind_between_runs_misses_no_edit(
    ws: Workspace, jira: FakeJira
) -> None:
    first = ws.goalsync("run")
    assert first.code == 0, first
    assert states(ws) == {"PAY-1": "todo", "PAY-2": "todo"}
    jira.transition("PAY-2", "Done", "done")  # just after the run, on Jira's clock
    jira.clock_offset = timedelta(minutes=15)  # this machine's clock stepped back 15 minutes
    second = ws.goalsync("run")
    assert second.code == 0, second
    assert second.event("jira_pull")["kind"] == "incremental"
    assert states(ws)["PAY-2"] == "done", (jira.searches, second)
    moved = second.event("jira_clock_moved")
    assert 890 <= moved["grown_s"] <= 910, moved


def test_a_steady_offset_past_a_minute_is_warned_and_misses_nothing(
    ws: Workspace, jira: FakeJira
) -> None:
    jira.clock_offset = timedelta(minutes=5)  # this machine runs 5 minutes behind Jira
    assert ws.goalsync("run").code == 0
    jira.transition("PAY-1", "Done", "done")
    second = ws.goalsync("run")
    assert second.code == 0, second
    assert states(ws)["PAY-1"] == "done"
    warned = second.event("jira_clock_skew")
    assert warned["level"] == "warning" and 290 <= warned["offset_s"] <= 310, warned
    rows = [r for r in ws.csv_rows("Run") if r["Key"] == "Warning jira"]
    assert any("clock is 5 minutes behind Jira's" in r["Value"] for r in rows), rows
    assert "jira_clock_moved" not in second.names()  # a steady offset needs no wider window
    searches = [s for s in jira.searches if "updated >=" in s]
    assert len(searches) == 1, searches  # one search: nothing asked twice


def test_a_clock_in_step_with_jira_says_nothing(ws: Workspace, jira: FakeJira) -> None:
    assert ws.goalsync("run").code == 0
    second = ws.goalsync("run")
    assert second.code == 0, second
    assert "jira_clock_skew" not in second.names() and "jira_clock_moved" not in second.names()
    assert not [r for r in ws.csv_rows("Run") if r["Key"] == "Warning jira"]
