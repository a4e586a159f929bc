"""GitHub's paging limit on the issue events stream (issue 13.3): the 422 past it, and the
rel="last" page, end the history the source can reach, never the pull; the items whose start a
key result needs from before that reach have their own events read, once per update.

GitHub is the fake of tests/fakes/github.py answering through `responses`, with a limit of two
pages of 100 events."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.github.client import PagingLimit
from connectors.github.fetch import KeptHistory, RepoPlan
from connectors.github.source import _reach_notes
from sync.base.records import WorkItem
from tests.fakes.github import (
    API,
    PAGING_LIMITED,
    RUN,
    FakeGitHub,
    FakeRepo,
    Puller,
    answering,
)
from tests.fakes.server import Fault, Response

EVENTS = "/repos/acme/web/issues/events"
PAGED_EVENTS = "/repositories/1000/issues/events"
T0 = RUN - timedelta(days=30)


@pytest.fixture(params=[True, False], ids=["next-on-last-page", "no-next-on-last-page"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeGitHub]:
    gh = FakeGitHub(
        token=None, public_url=API, events_page_limit=2, next_on_last_allowed=request.param
    )
    with answering(gh):
        yield gh


def busy(repo: FakeRepo) -> datetime:
    """#1..#5 done long ago in reach terms (their label and close events out of reach), #6 a pull
    request merged then, #7 opened and done within reach, #8 open; 300 chatter events over the
    last 300 hours. Returns the time of the oldest event the two pages reach."""
    for n in range(1, 6):
        started, closed = T0 + timedelta(days=n), T0 + timedelta(days=10 + n)
        repo.add_issue(n, created=T0, updated=closed, state="closed", closed=closed)
        repo.add_event("labeled", n, at=started, label="in progress")
        repo.add_event("closed", n, at=closed)
    closed = T0 + timedelta(days=12)
    repo.add_issue(6, created=T0, updated=closed, state="closed", closed=closed, pull="merged")
    repo.add_issue(8, created=T0, updated=T0)
    chatter = RUN - timedelta(hours=300)
    for k in range(300):
        repo.add_event("mentioned", 8, at=chatter + timedelta(hours=k))
    started = RUN - timedelta(hours=20)
    repo.add_issue(7, created=started, updated=started + timedelta(hours=10))
    repo.update(7, at=started + timedelta(hours=10), state="closed")
    repo.issues[7]["closed_at"] = repo.issues[7]["updated_at"]
    repo.add_event("labeled", 7, at=started, label="in progress")
    repo.add_event("closed", 7, at=started + timedelta(hours=10))
    # newest first: #7's two events and 198 of the chatter fit in two pages
    return chatter + timedelta(hours=300 - 198)


def done(item: WorkItem) -> bool:
    return item.state == "done"


def stream_pages(fake: FakeGitHub) -> int:
    return fake.counts[("GET", EVENTS)] + fake.counts[("GET", PAGED_EVENTS)]


def own_reads(fake: FakeGitHub) -> list[int]:
    found = (re.fullmatch(r"/repos/acme/web/issues/(\d+)/events", r.path) for r in fake.requests)
    return sorted(int(m.group(1)) for m in found if m)


def history(result_state: dict[str, str]) -> dict[str, Any]:
    kept = json.loads(result_state["history:acme/web"])
    assert isinstance(kept, dict)
    return kept


def test_the_paging_limit_ends_the_history_not_the_pull(fake: FakeGitHub) -> None:
    reach = busy(fake.add_repo("acme/web"))
    result = Puller(token=None).pull(needs_start=done)
    assert {i.key for i in result.items} == {f"acme/web#{n}" for n in range(1, 9)}
    # Two pages; without a rel="next" on the second, one more request hears the 422.
    assert stream_pages(fake) == (2 if fake.next_on_last_allowed else 3)
    kept = history(result.state)
    assert kept["reach"] == reach.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kept["limited"] is True
    day = reach.date().isoformat()
    assert result.warnings[0].startswith(
        f"History of acme/web reaches back to {day} (GitHub's paging limit)"
    ), result.warnings
    # Only done issues opened before the reach: not the pull request, not #7, not open #8.
    assert own_reads(fake) == [1, 2, 3, 4, 5]
    starts = {
        e.item_key: e.at for e in result.events if e.to_state == "in_progress" and e.at < reach
    }
    assert starts == {f"acme/web#{n}": T0 + timedelta(days=n) for n in range(1, 6)}
    assert result.requests == 1 + 1 + stream_pages(fake) + 5


def test_issues_are_read_one_by_one_again_only_when_they_change(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    busy(repo)
    puller = Puller(token=None)
    first = puller.pull(needs_start=done)
    fake.reset_counts()
    again = puller.pull(full=True, run_started=RUN + timedelta(minutes=5), needs_start=done)
    assert own_reads(fake) == []  # same updates: the starts read are in the store
    assert history(again.state)["starts"] == history(first.state)["starts"]
    assert sorted(history(first.state)["starts"]) == ["1", "2", "3", "4", "5"]
    assert any("GitHub's paging limit" in w for w in again.warnings)  # named on every run

    repo.update(3, at=RUN + timedelta(minutes=7), title="renamed")
    fake.reset_counts()
    puller.pull(run_started=RUN + timedelta(minutes=10), needs_start=done)
    assert own_reads(fake) == [3]


def test_without_a_key_result_measuring_starts_no_issue_is_read_alone(fake: FakeGitHub) -> None:
    busy(fake.add_repo("acme/web"))
    result = Puller(token=None).pull()
    assert own_reads(fake) == []
    assert result.requests == 1 + 1 + stream_pages(fake)
    assert history(result.state)["limited"] is True  # the reach is still named


def test_a_cut_in_an_incremental_stream_moves_the_reach_up(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    repo.add_issue(1, created=T0, updated=T0)
    repo.add_event("labeled", 1, at=T0, label="in progress")
    puller = Puller(token=None)
    first = puller.pull(needs_start=done)
    assert "history:acme/web" not in first.state  # the whole stream: known from the start
    assert not any("History of" in w for w in first.warnings)
    later = RUN + timedelta(days=1)
    for k in range(300):  # a day of chatter after a long pause: more than two pages
        repo.add_event("mentioned", 1, at=later - timedelta(hours=23, minutes=-4 * k))
    repo.update(1, at=later - timedelta(minutes=1), state="closed")
    repo.issues[1]["closed_at"] = repo.issues[1]["updated_at"]
    fake.reset_counts()
    second = puller.pull(run_started=later, needs_start=done)
    kept = history(second.state)
    assert kept["limited"] is True
    assert str(kept["reach"]) > RUN.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert own_reads(fake) == [1]  # done now, opened before the new reach: its start is read
    assert any(e.at == T0 and e.to_state == "in_progress" for e in second.events)


def test_a_stream_ending_on_a_page_boundary_is_whole() -> None:
    gh = FakeGitHub(token=None, public_url=API, next_on_last_allowed=False)
    with answering(gh):
        repo = gh.add_repo("acme/web")
        repo.add_issue(1, created=T0, updated=T0)
        for k in range(200):
            repo.add_event("mentioned", 1, at=T0 + timedelta(minutes=k))
        result = Puller(token=None).pull(needs_start=done)
    # Two full pages, the second the last one named: the third answers empty, not 422.
    assert gh.counts[("GET", EVENTS)] + gh.counts[("GET", PAGED_EVENTS)] == 3
    assert "history:acme/web" not in result.state
    assert not any("History of" in w for w in result.warnings)


def test_the_limit_on_another_list_still_fails_the_source(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    for n in range(1, 151):
        repo.add_issue(n, created=T0, updated=T0 + timedelta(minutes=n))
    fake.inject(Fault("GET", "/repositories/1000/issues", Response(422, PAGING_LIMITED)))
    with pytest.raises(PagingLimit, match="pages no deeper"):
        Puller(token=None).pull()


def test_the_reach_is_shown_in_the_configured_time_zone() -> None:
    plan = RepoPlan(
        repo="acme/web",
        full=True,
        watermark=None,
        kept=None,
        lookback=timedelta(minutes=10),
        run_started=RUN,
        history=KeptHistory(reach=datetime(2026, 11, 1, 23, 30, tzinfo=UTC), limited=True),
    )
    (note,) = _reach_notes([plan], {}, ZoneInfo("Europe/Berlin"))
    assert note.startswith("History of acme/web reaches back to 2026-11-02 ")
