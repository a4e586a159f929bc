"""Issue 13: a source that never worked publishes No data, never Off track.

The first run has a wrong Jira token: Jira has never been read, so every key result fed only by
Jira shows Status `No data`, blank Value and Progress, and a Note naming the source and its error;
a goal rolls up only its key results that have data (a goal with none is No data); the run still
publishes and exits 3. A key result whose clause matches nothing in a source that works is No data
too, and its Note names the clause. With the right token the next run shows normal statuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import Auth, FakeJira
from tests.reliability.helpers import Workspace, config, cycle_around_today

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
WRONG = "atl-wrong-token-000000000"
GOALS = """\
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - {id: G1.1, title: Billing work, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: Billing closed, measure: count, target: 4,
         select: [{source: jira, labels: [billing]}]}
  - id: G2
    title: Run the platform
    owner: Kim
    key_results:
      - {id: G2.1, title: Ops work, measure: percent_done, select: [{source: ops}]}
      - {id: G2.2, title: Billing epic, measure: percent_done,
         select: [{source: jira, parent: PAY-100}]}
      - {id: G2.3, title: DNS work, measure: percent_done,
         select: [{source: ops, labels: [dnss]}]}
"""
JIRA_ONLY = ("G1", "G1.1", "G1.2", "G2.2")
ITEMS = (
    "key,title,state,labels\n"
    "OPS-1,Migrate DNS,done,dns\n"
    "OPS-2,Rotate keys,in_progress,\n"
    "OPS-3,Backup drill,todo,\n"
    "OPS-4,Patch hosts,done,\n"
)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as fake:
        for n in range(1, 5):
            done = n <= 2
            fake.add_issue(
                f"PAY-{n}",
                status="Done" if done else "To Do",
                category="done" if done else "new",
                labels=["billing"],
                parent="PAY-100",
                updated=old + timedelta(minutes=n),
            )
        yield fake


@pytest.fixture
def ws(tmp_path: Path, jira: FakeJira) -> Workspace:
    ws = Workspace(
        tmp_path,
        env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": WRONG, "GOALSYNC_RETRY_BUDGET_S": "2"},
    )
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
            "  ops: {type: file, path: items.csv, format: csv_items}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def test_a_source_never_read_publishes_no_data_then_heals(ws: Workspace) -> None:
    first = ws.goalsync("run")
    assert first.code == 3, first
    status = ws.status()
    for ident in JIRA_ONLY:
        row = status[ident]
        assert row["Status"] == "No data", (ident, row)
        assert row["Value"] == "" and row["Progress %"] == "", (ident, row)
    for ident in ("G1.1", "G1.2", "G2.2"):
        note = status[ident]["Note"]
        assert "jira" in note and "credentials refused" in note, (ident, note)
        assert "JIRA_API_TOKEN" in note, note  # the variable to check
        assert WRONG not in note  # never the secret itself
    assert "no items match" not in status["G1.1"]["Note"]  # the cause is the source
    assert not any(r["Status"] == "Off track" for r in status.values()), status

    # The working source's rows are measured as usual; its clause that matches nothing is named.
    assert status["G2.1"]["Status"] != "No data" and status["G2.1"]["Value"] == "50"
    assert status["G2.3"]["Status"] == "No data" and status["G2.3"]["Value"] == ""
    assert "labels: [dnss]" in status["G2.3"]["Note"], status["G2.3"]["Note"]
    # G2 rolls up only G2.1, the one key result with data.
    assert status["G2"]["Progress %"] == status["G2.1"]["Progress %"] == "50"

    history = {r["ID"]: r for r in ws.csv_rows("History")}
    assert history["G1.1"]["Status"] == "No data" and history["G1.1"]["Progress %"] == ""
    # The CLI's summary counts them apart and says the source was never read, not stale.
    assert "5 key results: 1 on track, 4 no data" in first.stdout, first
    assert "jira NEVER READ (" in first.stdout and "G1 No data" in first.stdout, first
    summary = first.event("evaluated")
    assert summary["No data"] == 4 and summary["Off track"] == 0, summary

    ws.env["JIRA_API_TOKEN"] = TOKEN
    healed = ws.goalsync("run")
    assert healed.code == 0, healed
    status = ws.status()
    assert status["G1.1"]["Value"] == "50" and status["G1.1"]["Status"] != "No data"
    assert status["G1.2"]["Value"] == "2" and status["G1.2"]["Status"] != "No data"
    assert status["G2.2"]["Value"] == "50" and status["G1"]["Status"] != "No data"
    assert not any("credentials" in r["Note"] for r in status.values())
    assert status["G2.3"]["Status"] == "No data"  # still nothing labelled dnss
