"""Issue 16: teams align their own work with a `goal:` label, through the real CLI.

A Jira issue and a csv task carry `goal:<key-result id>`: each counts for that key result as if a
clause selected it, and the Items tab says "by tag". A tag naming a goal or an unknown id aligns
nothing: it is listed in the Run tab and by `goalsync explain`, and its item stays unaligned.
With `align_label_prefix` set, only labels with that prefix align.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import Auth, FakeJira
from tests.reliability.helpers import Workspace, config, cycle_around_today

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Checkout, select: [{source: jira, labels: [checkout]}]}
      - {id: G1.2, title: Ops, select: [{source: ops, labels: [dns]}]}
"""
ITEMS = (
    "key,title,state,labels\n"
    "OPS-1,Migrate DNS,done,dns\n"
    "OPS-2,Rotate keys,todo,goal:G1.1\n"  # a sheet task aligned to a Jira key result
    "OPS-3,Backup drill,todo,goal:G7\n"  # no such id
    "OPS-4,Patch hosts,todo,okr:G1.2\n"  # another prefix: aligns only once configured
)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as fake:
        fake.add_issue("PAY-1", labels=["checkout"], status="Done", category="done", updated=old)
        fake.add_issue("PAY-2", labels=["goal:G1.2"], updated=old)  # aligned by the team
        fake.add_issue("PAY-3", labels=["goal:G1"], updated=old)  # a goal: aligns nothing
        yield fake


def workspace(tmp_path: Path, jira: FakeJira, extra: str = "") -> Workspace:
    ws = Workspace(tmp_path, env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN})
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    text = config(
        f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
        "  ops: {type: file, path: items.csv, format: csv_items}\n",
        "  - {type: csv, path: out/csv}\n",
        GOALS,
        cycle=cycle_around_today(),
    )
    ws.write_config(extra + text)
    return ws


def test_goal_labels_align_items_and_unknown_tags_are_listed(
    tmp_path: Path, jira: FakeJira
) -> None:
    ws = workspace(tmp_path, jira)
    result = ws.goalsync("run")
    assert result.code == 0, result
    items = {(r["Key"], r["Key result"]) for r in ws.csv_rows("Items")}
    assert items == {
        ("PAY-1", "G1.1"),
        ("OPS-2", "G1.1 (by tag)"),
        ("OPS-1", "G1.2"),
        ("PAY-2", "G1.2 (by tag)"),
    }
    status = ws.status()
    assert status["G1.1"]["Done / Total"] == "1 / 2", status["G1.1"]
    assert status["G1.2"]["Done / Total"] == "1 / 2", status["G1.2"]
    assert {r["Key"] for r in ws.csv_rows("Unaligned")} == {"PAY-3", "OPS-3", "OPS-4"}
    run = [r for r in ws.csv_rows("Run") if r["Key"] == "Unknown alignment tag"]
    assert {r["Value"] for r in run} == {"goal:G1", "goal:G7"}
    detail = {r["Value"]: r["Detail"] for r in run}
    assert "only key-result ids align" in detail["goal:G1"] and "PAY-3" in detail["goal:G1"]
    assert "no goal or key result" in detail["goal:G7"] and "OPS-3" in detail["goal:G7"]

    explained = ws.goalsync("explain", "--state-dir", "state")
    assert explained.code == 0, explained
    assert "2 alignment tags align nothing" in explained.stdout, explained
    assert "goal:G7" in explained.stdout and "goal:G1:" in explained.stdout
    assert "1 by tag: PAY-2" in explained.stdout, explained


def test_the_prefix_is_configurable(tmp_path: Path, jira: FakeJira) -> None:
    ws = workspace(tmp_path, jira, extra="align_label_prefix: 'okr:'\n")
    result = ws.goalsync("run")
    assert result.code == 0, result
    items = {(r["Key"], r["Key result"]) for r in ws.csv_rows("Items")}
    assert items == {("PAY-1", "G1.1"), ("OPS-1", "G1.2"), ("OPS-4", "G1.2 (by tag)")}
    assert not [r for r in ws.csv_rows("Run") if r["Key"] == "Unknown alignment tag"]
