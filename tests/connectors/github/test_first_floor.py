"""A first pull reads a repository's events stream back only as far as the run's measures look
(PullContext.history_from), not a whole year: each page of the stream is a request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.github.fetch import FIRST_EVENTS_DAYS
from tests.fakes.github import API, RUN, FakeGitHub, Puller, answering

DAYS = 250  # one event a day, newest first in the stream: 100 a page, three pages for the year


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    gh = FakeGitHub(token=None, public_url=API)
    with answering(gh):
        repo = gh.add_repo("acme/web")
        for number in range(1, DAYS + 1):
            at = RUN - timedelta(days=number, hours=1)
            repo.add_issue(number, updated=at, created=at - timedelta(days=1))
            repo.add_event("labeled", number, at=at, label="billing")
        yield gh


def _event_pages(fake: FakeGitHub) -> int:
    # Later pages follow the Link header: /repositories/{id}/issues/events?page=N.
    return sum(1 for r in fake.requests if r.path.endswith("/issues/events"))


def test_a_first_pull_reads_events_only_back_to_what_the_measures_need(fake: FakeGitHub) -> None:
    result = Puller(token=None).pull(history_from=RUN - timedelta(days=45))
    assert _event_pages(fake) == 1  # the first page already reaches past day 45
    assert len(result.items) == DAYS  # every issue all the same: only the stream is cut
    assert sorted((RUN - e.at).days for e in result.events) == list(range(1, 45))


def test_without_history_from_a_first_pull_reads_a_year(fake: FakeGitHub) -> None:
    result = Puller(token=None).pull()
    assert FIRST_EVENTS_DAYS > DAYS
    assert _event_pages(fake) == 3
    assert len(result.events) == DAYS


def test_a_history_from_older_than_a_year_reads_a_year(fake: FakeGitHub) -> None:
    Puller(token=None).pull(history_from=RUN - timedelta(days=FIRST_EVENTS_DAYS + 400))
    assert _event_pages(fake) == 3


def test_cycle_times_keep_the_year(fake: FakeGitHub) -> None:
    """An item done in a cycle time's window may have started long before its window: reading
    the year is cheaper than one request per such item."""
    result = Puller(token=None).pull(
        history_from=RUN - timedelta(days=45), needs_start=lambda item: False
    )
    assert _event_pages(fake) == 3
    assert len(result.events) == DAYS
