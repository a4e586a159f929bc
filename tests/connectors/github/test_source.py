"""The GitHub source over `responses`: paging, request counts, incremental pulls, ETags, full
reconciles and org scopes. GitHub is the fake of tests/fakes/github.py (payloads in the recorded
shapes) answering through `responses`, or the recorded exchanges themselves."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.github.fetch import to_since
from sync.base.errors import FatalError
from tests.connectors.helpers import load_json
from tests.fakes.github import (
    API,
    RUN,
    FakeGitHub,
    FakeRepo,
    Puller,
    answering,
    milestone_payload,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
# PyGithub's connection writes the port into every URL it sends, so that is what `responses`
# sees; Link headers name the origin without it, as GitHub sends them.
SENT = f"{API}:443"
ISSUES = "/repos/acme/web/issues"
MILESTONES = "/repos/acme/web/milestones"
EVENTS = "/repos/acme/web/issues/events"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    gh = FakeGitHub(token=None, public_url=API)
    with answering(gh):
        yield gh


def fill(repo: FakeRepo, n: int, *, events: int = 0) -> None:
    """n issues updated a minute apart from T0; `events` label events, newest at T0 + n min."""
    for number in range(1, n + 1):
        repo.add_issue(number, updated=T0 + timedelta(minutes=number))
    for k in range(events):
        number = k % n + 1
        repo.add_event("labeled", number, at=T0 + timedelta(minutes=n - k), label="billing")


def issue_pages(fake: FakeGitHub) -> int:
    """GETs of the issues list itself (FakeServer.count matches prefixes: events would count)."""
    return fake.counts[("GET", ISSUES)] + fake.counts[("GET", "/repositories/1000/issues")]


def event_pages(fake: FakeGitHub) -> int:
    return fake.counts[("GET", EVENTS)] + fake.counts[("GET", "/repositories/1000/issues/events")]


def sent(fake: FakeGitHub, path: str) -> list[dict[str, Any]]:
    return [
        {k: v[0] for k, v in r.query.items()} | {"if-none-match": r.headers.get("if-none-match")}
        for r in fake.requests
        if r.path == path
    ]


# --- paging over the recorded exchanges -----------------------------------------------------------


def test_recorded_link_header_paging_reads_every_page_once() -> None:
    pages = load_json("github", "paginate-issues.json")
    repo = "octokit-fixture-org/paginate-issues"
    with responses.RequestsMock() as rsps:
        first = pages[0]
        rsps.get(
            f"{SENT}/repos/{repo}/issues",
            json=first["response"],
            headers={"link": first["headers"]["link"], "etag": first["headers"]["etag"]},
            match=[
                matchers.query_param_matcher(
                    {"state": "all", "sort": "created", "direction": "asc", "per_page": "100"}
                )
            ],
        )
        for page in pages[1:]:  # the recorded next links: /repositories/1000/issues?...&page=N
            link = {"link": page["headers"]["link"]} if "next" in page["headers"]["link"] else {}
            rsps.get(f"{SENT}{page['path']}", json=page["response"], headers=link)
        rsps.get(f"{SENT}/repos/{repo}/milestones", json=[])
        rsps.get(f"{SENT}/repos/{repo}/issues/events", json=[])
        result = Puller(repos=[repo]).pull()
        assert len(rsps.calls) == 5 + 1 + 1
    assert result.requests == 7
    assert sorted(int(i.key.rsplit("#", 1)[1]) for i in result.items) == list(range(1, 14))
    assert result.complete and result.has_history
    # Five pages: the first page's ETag says nothing about the others, so none is kept; what is
    # kept is which items the next since-list shows when nothing changes (all 13: same update).
    assert set(result.state) == {f"seen:{repo}"}


# --- what the payload says ------------------------------------------------------------------------


def test_pull_requests_among_issues_state_reason_and_milestones(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    due = datetime(2026, 12, 15, tzinfo=UTC)
    v1 = milestone_payload("acme/web", 1, "Billing v1", due_on=due, open_issues=2, closed_issues=3)
    repo.milestones.append(v1)
    at = T0
    repo.add_issue(1, updated=at, labels=["in progress"], milestone=v1)
    repo.add_issue(2, updated=at, state="closed", state_reason="completed", closed=at)
    repo.add_issue(3, updated=at, state="closed", state_reason="not_planned", closed=at)
    repo.add_issue(4, updated=at, pull="merged", state="closed", closed=at, milestone=v1)
    repo.add_issue(5, updated=at, pull="closed", state="closed", closed=at)
    repo.add_issue(6, updated=at, pull="open")
    repo.add_issue(7, updated=at, assignee="ana")
    result = Puller().pull()
    got = {i.key: i for i in result.items}
    assert {k: (i.kind, i.state) for k, i in got.items()} == {
        "acme/web#1": ("issue", "in_progress"),
        "acme/web#2": ("issue", "done"),
        "acme/web#3": ("issue", "cancelled"),
        "acme/web#4": ("pull_request", "done"),
        "acme/web#5": ("pull_request", "cancelled"),
        "acme/web#6": ("pull_request", "in_progress"),
        "acme/web#7": ("issue", "todo"),
    }
    assert got["acme/web#4"].milestone == "Billing v1"
    assert got["acme/web#4"].fields["milestone_closed"] == 3
    assert got["acme/web#1"].due == due.date()
    assert result.requests == 3  # one issues page, one milestones call, one events page
    # no request per issue: only the three list endpoints were asked
    assert {r.path for r in fake.requests} == {ISSUES, MILESTONES, EVENTS}


def test_assigned_means_started(fake: FakeGitHub) -> None:
    fake.add_repo("acme/web").add_issue(1, updated=T0, assignee="ana")
    result = Puller(assigned_means_started=True, in_progress_labels=["doing"]).pull()
    assert result.items[0].state == "in_progress"


# --- request counts -------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "events"), [(0, 0), (1, 1), (100, 99), (101, 100), (250, 301)])
def test_full_pull_costs_issue_pages_plus_milestones_plus_event_pages(
    fake: FakeGitHub, n: int, events: int
) -> None:
    fill(fake.add_repo("acme/web"), max(n, 1) if events else n, events=events)
    result = Puller().pull()
    pages = max(1, math.ceil(n / 100))
    e_pages = max(1, math.ceil(events / 100))
    assert issue_pages(fake) == pages
    assert fake.count("GET", MILESTONES) == 1
    assert event_pages(fake) == e_pages  # a first pull reads back FIRST_EVENTS_DAYS: all here
    assert result.requests == pages + 1 + e_pages
    assert len(result.items) == n and len(result.events) == events
    assert result.complete


@pytest.mark.parametrize("n", [0, 40, 100])
def test_unchanged_incremental_run_is_two_conditional_requests_answered_304(
    fake: FakeGitHub, n: int
) -> None:
    fill(fake.add_repo("acme/web"), n)
    puller = Puller()
    first = puller.pull()
    assert first.requests == 3
    kept = {"page:acme/web", "milestones:acme/web", *(["seen:acme/web"] if n else [])}
    assert set(first.state) == kept
    fake.reset_counts()
    second = puller.pull()
    # The issues list and the milestones list (a milestone edit changes no issue), both 304.
    assert second.requests == 2 and fake.not_modified == 2
    assert sent(fake, ISSUES)[0]["if-none-match"] == fake.requests[0].headers["if-none-match"]
    assert sent(fake, MILESTONES)[0]["if-none-match"] is not None
    assert second.items == [] and second.events == [] and not second.complete
    assert second.cursor == first.cursor and second.state == first.state


def test_a_list_of_several_pages_keeps_no_etag_then_the_window_is_kept(fake: FakeGitHub) -> None:
    fill(fake.add_repo("acme/web"), 250)
    puller = Puller()
    assert puller.pull().requests == 3 + 1 + 1
    fake.reset_counts()
    window = puller.pull()  # since = newest update - 10 min: one page, nothing conditional
    # It shows #240..#250 at the updates the full pull read: nothing changed, so the events are
    # not asked, and the milestones only with their ETag (304).
    assert window.requests == 2 and fake.not_modified == 1
    assert [q["since"] for q in sent(fake, ISSUES)] == ["2026-11-01T04:00:00Z"]
    assert sent(fake, ISSUES)[0]["if-none-match"] is None
    assert window.items == [] and window.events == []
    assert json.loads(window.state["seen:acme/web"]) == {
        str(n): f"2026-11-01T{n // 60:02d}:{n % 60:02d}:00Z" for n in range(240, 251)
    }
    fake.reset_counts()
    assert puller.pull().requests == 2 and fake.not_modified == 2


def test_a_change_in_the_window_after_a_full_pull_is_read_whole(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    fill(repo, 250)
    puller = Puller()
    puller.pull()
    repo.update(245, at=T0 + timedelta(hours=5), state="closed", state_reason="completed")
    fake.reset_counts()
    window = puller.pull()
    assert window.requests == 3  # the since-list, milestones, one events page
    assert "acme/web#245" in {i.key for i in window.items}


def test_a_change_is_read_with_its_events_back_to_the_cursor_only(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    fill(repo, 40, events=250)  # events T0+40min back to before T0: three pages
    puller = Puller()
    first = puller.pull()
    assert first.requests == 1 + 1 + 3
    later = T0 + timedelta(days=3)
    repo.update(
        7, at=later, state="closed", state_reason="completed", closed_at="2026-11-04T00:00:00Z"
    )
    repo.add_event("closed", 7, at=later)
    fake.reset_counts()
    second = puller.pull()
    # The kept URL again (200 now), milestones, and one events page: its oldest event is
    # older than the cursor minus the lookback, so the stream is not read further.
    assert (issue_pages(fake), fake.count("GET", MILESTONES), event_pages(fake)) == (1, 1, 1)
    assert second.requests == 3
    closed = next(i for i in second.items if i.key == "acme/web#7")
    assert closed.state == "done"
    assert next((e.kind, e.to_state) for e in second.events if e.item_key == "acme/web#7") == (
        "closed",
        "done",
    )
    assert all(e.at >= T0 + timedelta(minutes=30) for e in second.events)
    assert "2026-11-04T00:00:00Z" in (second.cursor or "")


def test_since_is_the_cursor_minus_the_lookback_in_utc(fake: FakeGitHub) -> None:
    fill(fake.add_repo("acme/web"), 150)
    puller = Puller(lookback_minutes=30)
    puller.pull()
    fake.reset_counts()
    puller.pull()
    # newest update T0 + 150 min = 02:30Z; minus 30 min
    assert sent(fake, ISSUES)[0]["since"] == "2026-11-01T02:00:00Z"
    berlin = datetime(2026, 11, 1, 3, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    )
    assert to_since(berlin) == "2026-11-01T03:00:00Z"  # not 04:00Z, PyGithub's reading


def test_the_cursor_is_capped_at_the_run_start(fake: FakeGitHub) -> None:
    fake.add_repo("acme/web").add_issue(1, updated=RUN + timedelta(minutes=5))
    result = Puller().pull()
    assert result.cursor == '{"repos": {"acme/web": "2026-11-16T09:00:00Z"}, "v": 1}'


def test_duplicates_by_key_keep_the_later_copy() -> None:
    """An item updated while pages are read moves behind them (ascending by update): the
    source sees it twice and keeps the later, newer copy."""
    from tests.fakes.github import issue_payload

    old = issue_payload("acme/web", 1, updated=T0, title="old title")
    new = issue_payload("acme/web", 1, updated=T0 + timedelta(hours=1), title="new title")
    other = issue_payload("acme/web", 2, updated=T0 + timedelta(minutes=1))
    page2 = f"{API}/repositories/1000/issues?page=2"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SENT}{ISSUES}", json=[old, other], headers={"link": f'<{page2}>; rel="next"'})
        rsps.get(page2.replace(API, SENT), json=[new])
        rsps.get(f"{SENT}{MILESTONES}", json=[])
        rsps.get(f"{SENT}{EVENTS}", json=[])
        result = Puller().pull()
    assert [(i.key, i.title) for i in result.items] == [
        ("acme/web#2", "Issue 2 of acme/web"),
        ("acme/web#1", "new title"),
    ]


# --- full reconcile -------------------------------------------------------------------------------


def test_reconcile_rereads_everything_and_drops_what_vanished(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    fill(repo, 30)
    puller = Puller(reconcile_hours=6)
    puller.pull()
    del repo.issues[5]  # deleted (or transferred away)
    later = RUN + timedelta(hours=7)
    fake.reset_counts()
    result = puller.pull(run_started=later)
    assert result.complete
    assert sent(fake, ISSUES)[0]["if-none-match"] is None and "since" not in sent(fake, ISSUES)[0]
    assert "acme/web#5" not in {i.key for i in result.items} and len(result.items) == 29
    fake.reset_counts()
    forced = puller.pull(full=True, run_started=later)
    assert forced.complete and fake.not_modified == 0 and len(forced.items) == 29


def test_a_repository_leaving_the_scope_forces_a_reconcile(fake: FakeGitHub) -> None:
    fill(fake.add_repo("acme/web"), 3)
    fake.add_repo("acme/api").add_issue(1, updated=T0)
    both = Puller(repos=["acme/web", "acme/api"])
    both.pull()
    one = Puller(repos=["acme/web"])
    one.last, one.last_full = both.last, both.last_full
    assert one.pull().complete


def test_an_unreadable_cursor_means_a_full_pull(fake: FakeGitHub) -> None:
    fill(fake.add_repo("acme/web"), 3)
    puller = Puller()
    puller.pull()
    assert puller.last is not None
    puller.last.cursor = "not json"
    assert puller.pull().complete


# --- org scope ------------------------------------------------------------------------------------


def test_org_scope_with_topics_and_pattern_lists_the_org_on_full_pulls_only(
    fake: FakeGitHub,
) -> None:
    fake.add_repo("acme/pay-api", topics=["billing"]).add_issue(1, updated=T0)
    fake.add_repo("acme/pay-web", topics=["billing"]).add_issue(1, updated=T0)
    fake.add_repo("acme/pay-docs", topics=["billing"], has_issues=False)
    fake.add_repo("acme/ops", topics=["billing"]).add_issue(1, updated=T0)
    puller = Puller(org="acme", topics=["billing"], name_pattern="pay-*")
    first = puller.pull()
    assert fake.count("GET", "/orgs/acme/repos") == 1
    assert sorted(i.key for i in first.items) == ["acme/pay-api#1", "acme/pay-web#1"]
    assert any("pay-docs" in w for w in first.warnings)
    fake.reset_counts()
    second = puller.pull()
    assert fake.count("GET", "/orgs/acme/repos") == 0  # the kept list
    assert second.requests == 4 and fake.not_modified == 4  # two conditional requests each


def test_a_missing_org_is_a_config_error(fake: FakeGitHub) -> None:
    from sync.base.errors import ConfigError

    with pytest.raises(ConfigError, match="organisation nobody not found"):
        Puller(org="nobody").pull()


# --- refusing to loop -----------------------------------------------------------------------------


def test_a_repeated_page_url_is_refused() -> None:
    page2 = f"{API}/repositories/1000/issues?page=2"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SENT}{ISSUES}", json=[], headers={"link": f'<{page2}>; rel="next"'})
        rsps.get(page2.replace(API, SENT), json=[], headers={"link": f'<{page2}>; rel="next"'})
        with pytest.raises(FatalError, match="twice"):
            Puller().pull()
        assert len(rsps.calls) == 2


def test_a_next_link_off_the_api_root_is_refused() -> None:
    with responses.RequestsMock() as rsps:
        evil = '<https://evil.example/repositories/1/issues?page=2>; rel="next"'
        rsps.get(f"{SENT}{ISSUES}", json=[], headers={"link": evil})
        with pytest.raises(FatalError, match=r"outside https://api\.github\.com"):
            Puller().pull()
        assert len(rsps.calls) == 1


def test_a_milestone_edit_alone_reaches_its_items_on_the_next_run(fake: FakeGitHub) -> None:
    """Editing a milestone's due date or title changes no issue's updated_at: the issues list
    still answers 304. The milestones are asked every run with their ETag (a 304 is free);
    when they changed, the items that carry a milestone are read again with the new details."""
    repo = fake.add_repo("acme/web")
    v1 = milestone_payload("acme/web", 1, "v1", due_on=datetime(2026, 12, 1, tzinfo=UTC))
    repo.milestones.append(v1)
    repo.add_issue(1, milestone=v1, updated=T0)
    repo.add_issue(2, updated=T0 + timedelta(minutes=1))
    puller = Puller()
    first = puller.pull()
    assert {i.key: i.due for i in first.items}["acme/web#1"] == date(2026, 12, 1)
    fake.reset_counts()
    unchanged = puller.pull()
    assert unchanged.requests == 2 and fake.not_modified == 2  # issues and milestones: 304
    assert unchanged.items == []
    # Someone moves the milestone: its due date and title; GitHub shows the new milestone in
    # the issue's payload but leaves the issue's updated_at alone.
    v1.update(title="v1.0", due_on="2026-12-20T08:00:00Z")
    repo.issues[1]["milestone"] = dict(v1)
    fake.reset_counts()
    moved = puller.pull()
    assert [(i.key, i.milestone, i.due) for i in moved.items] == [
        ("acme/web#1", "v1.0", date(2026, 12, 20))
    ]
    assert not moved.complete and moved.requests == 3  # issues 304, milestones 200, their items
    assert [q["milestone"] for q in sent(fake, ISSUES)[1:]] == ["*"]
    fake.reset_counts()
    assert puller.pull().requests == 2 and fake.not_modified == 2  # quiet again
