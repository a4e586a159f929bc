"""Issue 13.3: a busy GitHub repository syncs.

GitHub pages `GET /repos/{o}/{r}/issues/events` only so deep: past its limit it answers 422 ("In
order to keep the API fast for everyone, pagination is limited for this resource. Check the
rel=last link relation ..."). A first pull that asks for a year of events must take the limit as
the end of the history it can reach, not fail the source for ever (exit 3, and the key results
of a source never read are No data on every run).

The fake's events stream serves two pages of 100 (newest first); the busy repository has 300
events, most of them chatter of the last days, so everything older than about four days is out
of reach: the label and close events of #1..#20, closed in the window weeks ago. The issues
themselves carry their state and close time (throughput, lead time); cycle time needs their
first move to in progress, which only each issue's own events still show: read for exactly
those 20 items (done in a cycle-time window, created before the reach), no other.

Expected values (days between the label "in progress" and the close):
- #1..#20: started T0 + 2 d, closed n days later -> cycle n days (1..20);
- #36..#38 (inside the reach, read from the stream): 2 days each;
- p50 of those 23 values = 9.0; throughput = 23 done in 6 weeks = 3.83 a week.
After #21 (started 39 days before today, out of reach) closes, and the second run reads it:
- one more cycle of 39 d - 1 h: p50 of 24 values = 9.5; throughput 24 / 6 = 4.0.

Both shapes of the last page allowed are run: with a rel="next" into the 422 and without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tests.fakes.github import TOKEN, FakeGitHub, FakeRepo, iso
from tests.reliability.helpers import Workspace, config, cycle_around_today

PAGE_LIMIT = 2  # pages of the events stream the fake serves
TODAY = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
T0 = TODAY - timedelta(days=40)  # when #1..#20 were opened

GOALS = """\
  - id: G1
    title: Ship faster
    key_results:
      - {id: G1.1, title: Cycle time, measure: cycle_time, stat: p50, baseline: 30, target: 5,
         select: [{source: gh}]}
      - {id: G1.2, title: Throughput, measure: throughput, target: 10, select: [{source: gh}]}
      - {id: G1.3, title: Lead time, measure: lead_time, stat: p50, baseline: 40, target: 5,
         select: [{source: gh}]}
"""


def populate(web: FakeRepo) -> None:
    for n in range(1, 21):  # done in the window, their history out of reach
        created = T0 + timedelta(hours=n)
        started = created + timedelta(days=2)
        closed = started + timedelta(days=n)
        web.add_issue(n, created=created, updated=closed, state="closed", closed=closed)
        web.add_event("labeled", n, at=started, label="in progress")
        web.add_event("closed", n, at=closed)
    for n in range(21, 31):  # open; #21 closes before the second run
        created = T0 - timedelta(days=1) if n == 21 else T0 + timedelta(days=1, hours=n)
        web.add_issue(n, created=created, updated=created + timedelta(days=2))
        web.add_event("labeled", n, at=created + timedelta(days=2), label="in progress")
    for n in range(31, 36):  # done long ago: outside every window, no request of their own
        created = TODAY - timedelta(days=200 - n)
        closed = created + timedelta(days=100)
        web.add_issue(n, created=created, updated=closed, state="closed", closed=closed)
        web.add_event("closed", n, at=closed)
    for n in range(36, 39):  # opened and done within the reach: the stream tells their start
        started = TODAY - timedelta(days=3, minutes=n)
        closed = started + timedelta(days=2)
        web.add_issue(
            n, created=started - timedelta(hours=1), updated=closed, state="closed", closed=closed
        )
    chatter_from = TODAY - timedelta(days=6)
    for k in range(250):  # busy: chatter on the open issues over the last six days
        web.add_event("mentioned", 22 + k % 9, at=chatter_from + timedelta(minutes=30 * k))
    for n in range(36, 39):  # their events, in order, among the chatter
        started = TODAY - timedelta(days=3, minutes=n)
        web.add_event("labeled", n, at=started, label="in progress")
        web.add_event("closed", n, at=started + timedelta(days=2))


@pytest.fixture(params=[True, False], ids=["next-on-last-page", "no-next-on-last-page"])
def busy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Workspace, FakeGitHub]]:
    fake = FakeGitHub(token=TOKEN, events_page_limit=PAGE_LIMIT, next_on_last_allowed=request.param)
    with fake:
        web = fake.add_repo("acme/web")
        populate(web)
        assert len(web.events) > (PAGE_LIMIT + 0.5) * 100  # more than the limit lets through
        ws = Workspace(tmp_path, env={"GITHUB_TOKEN": TOKEN})
        ws.write_config(
            config(
                f"  gh: {{type: github, repos: [acme/web], base_url: '{fake.url}'}}\n",
                "  - {type: csv, path: out/csv}\n",
                GOALS,
                cycle=cycle_around_today(),
            )
        )
        yield ws, fake


def per_issue_reads(fake: FakeGitHub) -> list[int]:
    return sorted(
        int(r.path.split("/")[-2])
        for r in fake.requests
        if r.path.startswith("/repos/acme/web/issues/") and r.path.endswith("/events")
        and r.path.split("/")[-2].isdigit()
    )  # fmt: skip


def reach_row(ws: Workspace) -> str:
    rows = [r["Value"] for r in ws.csv_rows("Run") if r["Value"].startswith("History of ")]
    assert len(rows) == 1, ws.csv_rows("Run")
    return rows[0]


def test_a_busy_repository_syncs_with_the_history_github_serves(
    busy: tuple[Workspace, FakeGitHub],
) -> None:
    ws, fake = busy
    first = ws.goalsync("run")
    assert first.code == 0, first
    status = ws.status()
    assert float(status["G1.1"]["Value"]) == 9.0, status["G1.1"]  # starts of #1..#20 were read
    assert float(status["G1.2"]["Value"]) == 3.83, status["G1.2"]
    assert status["G1.3"]["Value"] != "", status["G1.3"]
    assert all(status[k]["Status"] != "No data" for k in ("G1.1", "G1.2", "G1.3"))
    run = ws.run_tab()
    assert run["Source gh (github)"]["Value"] == "ok", run
    # Chatter began six days ago at a message every 30 minutes: two pages of 100 events reach
    # back a bit over four days.
    reach = reach_row(ws)
    assert reach.startswith("History of acme/web reaches back to "), reach
    assert "GitHub's paging limit" in reach, reach
    shown = datetime.strptime(reach.split("reaches back to ")[1][:10], "%Y-%m-%d").date()
    assert TODAY.date() - timedelta(days=5) <= shown <= TODAY.date() - timedelta(days=4), reach

    # Only the items whose start a key result needs and the stream no longer holds.
    assert per_issue_reads(fake) == list(range(1, 21))
    stream = fake.count("GET", "/repos/acme/web/issues/events") + fake.count(
        "GET", "/repositories/"
    )
    with_limit = PAGE_LIMIT if fake.next_on_last_allowed else PAGE_LIMIT + 1
    assert stream == with_limit, [r.path for r in fake.requests]
    # the list (one page), milestones, the stream, one read per item needing its start
    assert first.event("github_pulled")["requests"] == 2 + with_limit + 20

    # Next run: #21, started 39 days ago (out of reach), is closed yesterday.
    fake.reset_counts()
    closed = TODAY - timedelta(hours=1)
    fake.repos["acme/web"].update(
        21, at=datetime.now(UTC).replace(microsecond=0), state="closed", closed_at=iso(closed)
    )
    fake.repos["acme/web"].add_event("closed", 21, at=closed)
    second = ws.goalsync("run")
    assert second.code == 0, second
    status = ws.status()
    assert float(status["G1.1"]["Value"]) == 9.5, status["G1.1"]
    assert float(status["G1.2"]["Value"]) == 4.0, status["G1.2"]
    assert per_issue_reads(fake) == [21]
    assert "GitHub's paging limit" in reach_row(ws)  # still named on every run
    # the list, milestones, one page of the stream back to the cursor, #21's own events
    assert second.event("github_pulled")["requests"] == 4

    # Nothing changed: two conditional requests (issues, milestones), and the reach is shown.
    third = ws.goalsync("run")
    assert third.code == 0, third
    assert third.event("github_pulled")["requests"] == 2
    assert "GitHub's paging limit" in reach_row(ws)
