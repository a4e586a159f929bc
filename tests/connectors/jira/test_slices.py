"""A complete Cloud pull of a large scope in `created` slices read concurrently
(jira_search.fetch_cloud_sliced), against the loopback fake: every issue once, whatever is
created or edited while slices are read and however many issues share a bound's minute; a 429 in
one slice retried; requests within the minimum plus one per slice plus two."""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from connectors.jira import search as jira_search
from connectors.jira import search_dc
from connectors.jira.client import DEFAULT_TIMEOUT, JiraAuth, JiraHttp, open_client
from connectors.jira.search import KEY_ORDER, Query
from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base.contracts import PullContext
from sync.base.errors import ConfigError, FatalError
from sync.base.retry import Budget
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Request, Response

EMAIL, TOKEN = "bot@acme.example", "atl-token-123456"
BASIC = JiraAuth("basic", ("JIRA_EMAIL", "JIRA_API_TOKEN"), SecretStr(EMAIL), SecretStr(TOKEN))
SCOPE = "project in (PAY, CORE)"
PAGE = 5
MIN_PAGES = 4  # slices from 4 pages on, so that small data makes several slices
SLICE = re.compile(r'created (>=|<) "')
# The earliest issue, and the run's start 8 hours later: 8 slices (4 readers, 2 slices each)
# of an hour each, bounds on whole hours from EARLIEST.
EARLIEST = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
UNTIL = EARLIEST + timedelta(hours=8)


class HookedJira(FakeJira):
    """FakeJira that calls `hook(jql)` before answering each search (from the server's
    threads), so a test can change the data, or answer for itself, while slices are read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("cloud", **kwargs)
        self.hook: Callable[[str], Response | None] = lambda jql: None
        self.lock = threading.Lock()

    def _search_jql(self, request: Request) -> Response:
        jql = str(request.arg("jql") or "")
        with self.lock:
            answer = self.hook(jql)
        return answer if answer is not None else super()._search_jql(request)


@pytest.fixture
def fake() -> Iterator[HookedJira]:
    # Berlin: JQL literals are read in the user's zone; the bounds still tile the scope
    jira = HookedJira(user_tz="Europe/Berlin", auth=Auth("basic", EMAIL, TOKEN))
    with jira:
        jira.projects.update({"PAY", "CORE"})
        yield jira


def seed(fake: FakeJira, n: int, *, start: datetime = EARLIEST, first: int = 1) -> None:
    """n issues created one every few minutes over the 8 hours from `start`, in two projects."""
    for i in range(first, first + n):
        step = i - first  # the first at `start` itself
        created = start + timedelta(minutes=(step * 7) % (8 * 60), seconds=step % 60)
        fake.add_issue(f"PAY-{i}" if i % 3 else f"CORE-{i}", created=created, updated=created)


def http_for(fake: FakeJira, sleeps: list[float] | None = None) -> JiraHttp:
    client = open_client(fake.url, BASIC, DEFAULT_TIMEOUT)
    http = JiraHttp(
        client,
        source="jira",
        url=fake.url,
        auth=BASIC,
        budget=Budget(300, sleep=(sleeps.append if sleeps is not None else lambda s: None)),
    )
    http.use_deployment("Cloud")
    return http


def read(fake: FakeJira, http: JiraHttp | None = None, **kwargs: Any) -> list[str]:
    """The keys a sliced read returns, in order, duplicates kept (never deduplicated here)."""
    issues = jira_search.fetch_cloud_sliced(
        http or http_for(fake),
        Query(SCOPE, KEY_ORDER),
        fields=["summary", "created", "updated", "status"],
        expand="changelog",
        page_size=PAGE,
        zone=UTC,  # the fake reads literals in Berlin time: slices shift, still tile
        until=UNTIL,
        min_pages=MIN_PAGES,
        **kwargs,
    )
    return [str(i["key"]) for i in issues]


def sliced(fake: FakeJira) -> list[str]:
    return [jql for jql in fake.searches if SLICE.search(jql)]


def test_a_large_scope_is_read_in_slices_each_issue_once(fake: HookedJira) -> None:
    seed(fake, 120)
    keys = read(fake)
    assert Counter(keys) == Counter(list(fake.issues))  # nothing lost, nothing twice
    slices = sliced(fake)
    assert len(slices) >= 2 * 8 - 1  # 8 slices, most more than a page
    minimum = math.ceil(120 / PAGE)
    searches = fake.count("GET", "/rest/api/3/search/jql")
    counts = fake.count("POST", "/rest/api/3/search/approximate-count")
    assert counts == 1
    assert len(set(slices)) == 8
    # one part page per slice at most; the count and the probe for the earliest `created` are
    # the "plus two" (no first page before the size is known: nothing is read twice)
    assert searches + counts <= minimum + len(set(slices)) + 2
    assert searches - len(slices) == 1  # the probe, and nothing else outside the slices


def test_the_slices_tile_the_scope_first_and_last_open() -> None:
    fake_bounds = ["2026-11-02 09:00", "2026-11-02 10:00"]
    edges: list[str | None] = [None, *fake_bounds, None]
    rendered = [
        Query(SCOPE, KEY_ORDER, created_from=low, created_to=high).render()
        for low, high in itertools.pairwise(edges)
    ]
    assert rendered == [
        f'({SCOPE}) AND created < "2026-11-02 09:00" ORDER BY key ASC',
        f'({SCOPE}) AND created >= "2026-11-02 09:00" AND created < "2026-11-02 10:00" '
        "ORDER BY key ASC",
        f'({SCOPE}) AND created >= "2026-11-02 10:00" ORDER BY key ASC',
    ]


def test_issues_created_in_a_bounds_minute_and_second_are_read_once(fake: HookedJira) -> None:
    seed(fake, 40)
    # Bounds fall on whole hours (UTC literals): crowd each side of three of them, many in the
    # very second of the bound and in the same minute after it, and the second before it.
    crowded: list[str] = []
    for hour in (1, 4, 7):
        bound = EARLIEST + timedelta(hours=hour)
        for n, at in enumerate(
            [bound] * 6 + [bound + timedelta(seconds=30)] * 4 + [bound - timedelta(seconds=1)] * 4
        ):
            key = f"CORE-{1000 + hour * 100 + n}"
            fake.add_issue(key, created=at, updated=at)
            crowded.append(key)
    keys = read(fake, concurrency=4)
    assert Counter(keys) == Counter(list(fake.issues))
    assert all(keys.count(k) == 1 for k in crowded)
    assert any('created >= "2026-11-02 09:00"' in j for j in sliced(fake))  # a bound there


def test_issues_edited_or_created_while_slices_are_read_are_neither_lost_nor_doubled(
    fake: HookedJira,
) -> None:
    seed(fake, 120)
    before = set(fake.issues)
    edited = ["PAY-1", "PAY-2", "CORE-60", "PAY-119"]  # early, middle and late slices
    answered = 0

    def meanwhile(jql: str) -> Response | None:
        nonlocal answered
        if SLICE.search(jql):
            answered += 1
            if answered == 6:  # some slices read, others not yet
                for key in edited:  # moved to the end of `updated` order, and to another status
                    fake.edit(key, status=fake._status("In Progress", "indeterminate"))
                fake.add_issue("CORE-999", created=datetime.now(UTC))
                fake.delete("PAY-50")
        return None

    fake.hook = meanwhile
    keys = read(fake, concurrency=2)
    counted = Counter(keys)
    assert all(n == 1 for n in counted.values())  # nothing twice
    assert before - {"PAY-50"} <= set(counted)  # every issue that stayed is there
    assert set(counted) <= before | {"CORE-999"}


def test_a_429_in_one_slice_is_retried_after_retry_after(fake: HookedJira) -> None:
    seed(fake, 60)
    refused: list[str] = []

    def limit(jql: str) -> Response | None:
        if SLICE.search(jql) and 'created >= "' in jql and not refused:
            refused.append(jql)
            return Response(
                429,
                {"errorMessages": ["Rate limit exceeded."]},
                {"Retry-After": "2", "Content-Type": "application/json"},
            )
        return None

    fake.hook = limit
    sleeps: list[float] = []
    keys = read(fake, http_for(fake, sleeps))
    assert refused
    assert Counter(keys) == Counter(list(fake.issues))
    assert sleeps == [2.0]  # Retry-After honoured, through the one retry layer
    assert fake.searches.count(refused[0]) >= 2  # the refused page asked again


def test_an_error_in_one_slice_fails_the_read_and_stops_the_others(fake: HookedJira) -> None:
    seed(fake, 120)

    def reject(jql: str) -> Response | None:
        if SLICE.search(jql) and jql.count("created") == 2:
            return Response(400, {"errorMessages": ["The JQL query is invalid."]})
        return None

    fake.hook = reject
    with pytest.raises(ConfigError):
        read(fake)
    asked = fake.count()
    threading.Event().wait(0.2)
    assert fake.count() == asked  # no reader left asking after the failure


def test_a_scope_too_small_to_slice_asks_its_size_then_reads_one_chain(fake: HookedJira) -> None:
    seed(fake, PAGE)
    assert sorted(read(fake)) == sorted(fake.issues)
    assert fake.count("POST", "/rest/api/3/search/approximate-count") == 1  # asked first
    assert fake.count("GET", "/rest/api/3/search/jql") == 1  # no probe: the one page
    seed(fake, 2 * PAGE, first=PAGE + 1)  # 3 pages: under MIN_PAGES
    fake.reset_counts()
    fake.searches.clear()
    assert Counter(read(fake)) == Counter(list(fake.issues))
    assert fake.count("POST", "/rest/api/3/search/approximate-count") == 1
    assert fake.count("GET", "/rest/api/3/search/jql") == math.ceil(len(fake.issues) / PAGE)
    assert not sliced(fake)


def test_a_count_far_below_the_truth_means_one_chain_that_reads_everything(
    fake: HookedJira,
) -> None:
    seed(fake, 120)  # 24 pages of 5: sliced, were the count right
    fake.count_error = -110  # Jira's index lags: it says 10, 2 pages
    keys = read(fake)
    assert Counter(keys) == Counter(list(fake.issues))  # nothing lost, nothing twice
    assert not sliced(fake)
    assert not [jql for jql in fake.searches if "created ASC" in jql]  # no probe either
    assert fake.count("GET", "/rest/api/3/search/jql") == math.ceil(120 / PAGE)


def test_a_count_jira_cannot_give_means_one_chain(fake: HookedJira) -> None:
    seed(fake, 120)
    http = http_for(fake)
    http.approximate_count = _unavailable  # type: ignore[method-assign]
    with structlog.testing.capture_logs() as logs:
        keys = read(fake, http)
    assert Counter(keys) == Counter(list(fake.issues))
    assert not sliced(fake)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["jira_count_unavailable"]


def _unavailable(jql: str) -> int | None:
    raise FatalError("approximate count: 404 Not Found")


def test_the_fake_answers_approximate_count_as_jira_cloud(fake: HookedJira) -> None:
    seed(fake, 12)
    http = http_for(fake)
    assert http.approximate_count("project = PAY") == 8
    with pytest.raises(ConfigError):
        http.approximate_count("")  # unbounded: Jira refuses


# --- Data Center: once `total` is known, every startAt is -------------------------------------


class HookedDC(FakeJira):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("dc", **kwargs)
        self.hook: Callable[[Request], Response | None] = lambda request: None
        self.lock = threading.Lock()

    def _search(self, request: Request) -> Response:
        with self.lock:
            answer = self.hook(request)
        return answer if answer is not None else super()._search(request)


@pytest.fixture
def dc() -> Iterator[HookedDC]:
    jira = HookedDC(user_tz="America/Los_Angeles", window_limit=40)
    with jira:
        jira.projects.update({"PAY", "CORE"})
        yield jira


def read_dc(
    fake: FakeJira,
    concurrency: int,
    sleeps: list[float] | None = None,
    until: datetime | None = None,
) -> list[str]:
    http = http_for(fake, sleeps)
    http.use_deployment("Server")
    issues = search_dc.fetch_dc_search(
        http,
        Query(SCOPE, KEY_ORDER),
        fields=["summary", "updated"],
        expand=None,
        page_size=PAGE,
        zone=UTC,
        until=until or datetime.now(UTC),
        window_limit=40,  # 100 issues: `updated` windows of at most 40, 8 pages each
        concurrency=concurrency,
    )
    return [str(i["key"]) for i in issues]


def test_dc_pages_read_at_once_are_the_chains_pages_in_its_order(dc: HookedDC) -> None:
    seed(dc, 100)
    for i, key in enumerate(dc.issues):  # `updated` spread, so that windows can split them
        dc.edit(key, at=datetime.now(UTC) - timedelta(hours=100 - i))
    # One instant for both reads: the `updated` windows end at `until`, to the minute, so two
    # reads either side of a minute's turn split the issues differently (a CI run met this).
    until = datetime.now(UTC)
    chained = read_dc(dc, concurrency=1, until=until)
    asked = dc.count("GET", "/rest/api/2/search")
    dc.reset_counts()
    assert read_dc(dc, concurrency=4, until=until) == chained  # same issues, same order
    assert Counter(chained) == Counter(list(dc.issues))
    assert dc.count("GET", "/rest/api/2/search") == asked  # and not one request more


def test_dc_a_429_on_one_page_read_at_once_is_retried(dc: HookedDC) -> None:
    seed(dc, 30)
    refused: list[str] = []

    def limit(request: Request) -> Response | None:
        if request.arg("startAt") == str(3 * PAGE) and not refused:
            refused.append("once")
            return Response(429, {"errorMessages": ["Rate limit"]}, {"Retry-After": "1"})
        return None

    dc.hook = limit
    sleeps: list[float] = []
    keys = read_dc(dc, concurrency=4, sleeps=sleeps)
    assert refused and sleeps == [1.0]
    assert Counter(keys) == Counter(list(dc.issues))


# --- through the source: a sliced complete pull, then incremental and reconcile -----------------


def test_a_sliced_complete_pull_then_incremental_and_reconcile_stay_right(
    fake: HookedJira,
) -> None:
    seed(fake, 60, start=datetime.now(UTC) - timedelta(days=3))
    cfg = JiraSourceConfig.model_validate({"type": "jira", "url": fake.url, "jql": SCOPE})
    source = JiraSource(
        "jira", cfg, BASIC, page_size=PAGE, slice_min_pages=MIN_PAGES, sleep=lambda s: None
    )
    first = source.fetch(PullContext(source="jira", run_started=datetime.now(UTC), tz=UTC))
    assert first.complete
    assert Counter(i.key for i in first.items) == Counter(list(fake.issues))
    assert sliced(fake)  # it was read in slices
    assert first.requests == fake.count()

    fake.edit("PAY-2", summary="Renamed")
    fake.searches.clear()
    later = PullContext(
        source="jira",
        run_started=datetime.now(UTC),
        tz=UTC,
        cursor=first.cursor,
        state=first.state,
        last_full=datetime.now(UTC),
    )
    second = source.fetch(later)
    assert not second.complete and not sliced(fake)  # incremental: one search, as before
    assert [i.key for i in second.items] == ["PAY-2"]

    fake.delete("PAY-4")
    third = source.fetch(
        PullContext(
            source="jira",
            run_started=datetime.now(UTC),
            tz=UTC,
            cursor=second.cursor,
            state=second.state,
            full=True,
        )
    )
    assert third.complete and sliced(fake)
    assert {i.key for i in third.items} == set(fake.issues)  # PAY-4 gone: the reconcile drops it
    assert len(third.items) == len(fake.issues)
