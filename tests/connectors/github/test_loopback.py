"""The GitHub source against the loopback fake: real sockets, so timeouts, GitHub Enterprise's
`/api/v3` root, the headers sent and the bounded concurrency are the real thing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from connectors.github.source import MAX_PARALLEL_REPOS
from tests.fakes.github import TOKEN, FakeGitHub, Puller
from tests.fakes.server import Fault

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as gh:
        assert isinstance(gh, FakeGitHub)
        yield gh


def test_enterprise_api_root_and_the_headers_sent(fake: FakeGitHub) -> None:
    repo = fake.add_repo("acme/web")
    for n in range(1, 151):
        repo.add_issue(n, updated=T0 + timedelta(minutes=n))
    result = Puller(f"{fake.url}/api/v3").pull()
    assert len(result.items) == 150
    paths = [r.path for r in fake.requests]
    assert paths == [
        "/api/v3/repos/acme/web/issues",
        "/api/v3/repositories/1000/issues",  # GitHub's next links name the repository by id
        "/api/v3/repos/acme/web/milestones",
        "/api/v3/repos/acme/web/issues/events",
    ]
    first = fake.requests[0]
    assert first.headers["authorization"] == f"token {TOKEN}"
    assert first.headers["user-agent"] == "goalsync"
    assert first.query == {
        "state": ["all"],
        "sort": ["created"],
        "direction": ["asc"],
        "per_page": ["100"],
    }


def test_anonymous_requests_carry_no_authorization(fake: FakeGitHub) -> None:
    fake.token = None
    fake.add_repo("acme/web").add_issue(1, updated=T0)
    result = Puller(fake.url, token=None).pull()
    assert len(result.items) == 1
    assert all("authorization" not in r.headers for r in fake.requests)
    assert any("anonymous" in w for w in result.warnings)


def test_a_request_that_times_out_is_retried(fake: FakeGitHub) -> None:
    fake.add_repo("acme/web").add_issue(1, updated=T0)
    fake.inject(Fault("GET", "/repos/acme/web/issues", delay=2.0))
    puller = Puller(fake.url, timeout_s=1)
    with capture_logs() as logs:
        result = puller.pull()
    assert len(result.items) == 1
    assert result.requests == 1 + 3 and len(puller.sleeps) == 1
    retry = next(e for e in logs if e["event"] == "retrying")
    assert "timed out" in retry["error"]
    assert TOKEN not in repr(logs)


@pytest.mark.parametrize(("limit", "expected"), [(None, MAX_PARALLEL_REPOS), (2, 2)])
def test_repositories_are_pulled_concurrently_and_bounded(limit: int | None, expected: int) -> None:
    with FakeGitHub(token=TOKEN, latency=0.03) as fake:
        assert isinstance(fake, FakeGitHub)
        names = [f"acme/r{k}" for k in range(10)]
        for name in names:
            fake.add_repo(name).add_issue(1, updated=T0)
        puller = (
            Puller(fake.url, repos=names)
            if limit is None
            else Puller(fake.url, repos=names, max_parallel=limit)
        )
        result = puller.pull()
    assert len(result.items) == 10 and result.requests == 30
    assert 2 <= fake.max_in_flight <= expected


def test_an_unchanged_run_asks_every_repository_at_once() -> None:
    """Five repositories (a typical config) are all in flight together: an unchanged pull takes
    two round trips (the issues list, then the milestones), not four, with the same requests
    and the same result."""
    with FakeGitHub(token=TOKEN, latency=0.2) as fake:
        assert isinstance(fake, FakeGitHub)
        names = [f"acme/r{k}" for k in range(5)]
        for name in names:
            fake.add_repo(name).add_issue(1, updated=T0)
        puller = Puller(fake.url, repos=names)
        first = puller.pull()
        fake.reset_counts()
        again = puller.pull()
    assert again.requests == 10  # per repository: its issues list (304) and milestones (304)
    assert fake.max_in_flight == 5
    assert again.cursor == first.cursor and again.state == first.state


def test_one_failing_repository_fails_the_source_and_names_it(fake: FakeGitHub) -> None:
    fake.add_repo("acme/web").add_issue(1, updated=T0)
    fake.add_repo("acme/wiki", has_issues=False)
    with pytest.raises(Exception, match="acme/wiki has issues turned off"):
        Puller(fake.url, repos=["acme/web", "acme/wiki"]).pull()


def test_an_org_repository_gone_since_the_listing_is_a_warning(fake: FakeGitHub) -> None:
    fake.add_repo("acme/web").add_issue(1, updated=T0)
    fake.add_repo("acme/api").add_issue(1, updated=T0)
    puller = Puller(fake.url, org="acme")
    puller.pull()
    del fake.repos["acme/api"]  # deleted after the org was listed
    later = puller.pull()
    assert any("acme/api not found" in w for w in later.warnings)
