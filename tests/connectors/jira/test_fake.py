"""The live Jira source against the loopback fake Jira (tests/fakes/jira.py), Cloud and Data
Center: request counts measured on the server side, incremental runs across time zones, the
reconcile, Data Center's `updated` windows, and injected faults."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from connectors.jira.client import JiraAuth
from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base.contracts import PullContext, PullResult
from sync.base.errors import AuthError, FatalError, RetriableError
from tests.fakes.jira import Auth, FakeJira, parse_jql
from tests.fakes.server import Fault, Response

EMAIL, TOKEN = "bot@acme.example", "atl-token-123456"
NOW = datetime.now(UTC).replace(microsecond=0)


BASIC = JiraAuth("basic", ("JIRA_EMAIL", "JIRA_API_TOKEN"), SecretStr(EMAIL), SecretStr(TOKEN))
BEARER = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr("pat"))


def make_source(
    fake: FakeJira, *, page: int = 10, auth: JiraAuth = BASIC, **kwargs: Any
) -> JiraSource:
    cfg = JiraSourceConfig.model_validate(
        {"type": "jira", "url": fake.url, "jql": "project in (PAY, CORE)"}
    )
    return JiraSource("jira", cfg, auth, page_size=page, sleep=lambda s: None, **kwargs)


def seed(fake: FakeJira, n: int, *, cut_short: int = 0) -> None:
    """n issues updated over the last days; the first `cut_short` have long histories."""
    fake.add_issue(
        "PAY-1", summary="Billing epic", issuetype="Epic", updated=NOW - timedelta(days=9)
    )
    for i in range(2, n + 1):
        fake.add_issue(
            f"PAY-{i}" if i % 3 else f"CORE-{i}",
            parent="PAY-1" if i % 2 else None,
            labels=["billing"] if i % 4 == 0 else [],
            points=float(i % 5) if i % 5 else None,
            updated=NOW - timedelta(days=8, minutes=i),
        )
    for key in list(fake.issues)[:cut_short]:
        for step in range(fake.changelog_limit + 1):
            target = ("In Progress", "indeterminate") if step % 2 == 0 else ("To Do", "new")
            fake.transition(key, *target, at=NOW - timedelta(days=7, minutes=60 - step))


def pull(source: JiraSource, previous: PullResult | None = None, **kwargs: Any) -> PullResult:
    context: dict[str, Any] = {"source": "jira", "run_started": datetime.now(UTC), "tz": UTC}
    if previous is not None:
        context |= {"cursor": previous.cursor, "state": previous.state, "last_full": NOW}
    return source.fetch(PullContext(**(context | kwargs)))


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud", user_tz="Europe/Berlin", auth=Auth("basic", EMAIL, TOKEN)) as fake:
        fake.projects.update({"PAY", "CORE"})
        yield fake


@pytest.fixture
def dc() -> Iterator[FakeJira]:
    with FakeJira("dc", user_tz="America/Los_Angeles", auth=Auth("bearer", secret="pat")) as fake:
        fake.projects.update({"PAY", "CORE"})
        yield fake


@pytest.mark.parametrize(("n", "page", "cut_short"), [(23, 10, 2), (10, 10, 0), (1, 10, 1)])
def test_cloud_full_pull_costs_pages_serverinfo_field_myself_and_bulk(
    cloud: FakeJira, n: int, page: int, cut_short: int
) -> None:
    seed(cloud, n, cut_short=cut_short)
    result = pull(make_source(cloud, page=page))
    assert len(result.items) == n
    assert cloud.count("GET", "/rest/api/3/search/jql") == math.ceil(n / page)
    assert cloud.count("GET", "/rest/api/2/serverInfo") == 1
    assert cloud.count("GET", "/rest/api/3/field") == 1
    assert cloud.count("POST", "/rest/api/3/search/approximate-count") == 1  # the size, first
    assert cloud.count("GET", "/rest/api/3/myself") == 0  # no user zone needed
    # /status only when a changelog names a status no issue sits in now
    current = {i["fields"]["status"]["name"] for i in cloud.issues.values()}
    named = {
        change[end]
        for histories in cloud.histories.values()
        for history in histories
        for change in history["items"]
        for end in ("fromString", "toString")
    }
    assert cloud.count("GET", "/rest/api/3/status") == (1 if named - current else 0)
    assert cloud.count("POST", "/rest/api/3/changelog/bulkfetch") == (1 if cut_short else 0)
    assert cloud.count("GET", "/rest/api/3/issue") == 0  # never a request per issue on Cloud
    assert result.requests == cloud.count()
    long = [i for i in result.items if i.key in list(cloud.issues)[:cut_short]]
    assert len(long) == cut_short
    for item in long:  # every status change came back, not only the latest 40
        events = [e for e in result.events if e.item_key == item.key]
        assert len(events) == cloud.changelog_limit + 1


def test_cloud_unchanged_incremental_run_is_one_search_per_scope(cloud: FakeJira) -> None:
    seed(cloud, 23)
    source = make_source(cloud)
    clauses = ("labels = billing", "parent = PAY-1")
    first = pull(source, native_clauses={"jql": clauses})
    cloud.reset_counts()
    second = pull(source, first, native_clauses={"jql": clauses})
    assert cloud.count() == second.requests == 3
    assert cloud.count("GET", "/rest/api/3/search/jql") == 3
    assert second.items == [] and not second.complete
    assert second.native_matches == first.native_matches
    assert second.native_matches["jql"]["labels = billing"] == frozenset(
        k for k, i in cloud.issues.items() if "billing" in i["fields"]["labels"]
    )


def test_cloud_incremental_run_reads_what_changed_whatever_the_users_zone(cloud: FakeJira) -> None:
    seed(cloud, 12)
    source = make_source(cloud)
    first = pull(source)
    cloud.transition("PAY-2", "In Progress", "indeterminate")
    cloud.add_issue("PAY-99", summary="New work", updated=datetime.now(UTC))
    cloud.reset_counts()
    second = pull(source, first)
    assert {i.key for i in second.items} == {"PAY-2", "PAY-99"}
    assert {i.key: i for i in second.items}["PAY-2"].state == "in_progress"
    assert [e.to_value for e in second.events] == ["In Progress"]
    assert cloud.count() == 1
    # "minutes ago": this user reads absolute dates in Europe/Berlin, which the pull never
    # needed to know
    assert re.search(r'updated >= "-\d+m"', cloud.searches[-1])


def test_an_edit_just_before_the_cursor_is_read_again_within_the_lookback(
    cloud: FakeJira,
) -> None:
    seed(cloud, 5)
    source = make_source(cloud)
    first = pull(source)
    cursor = datetime.fromisoformat(first.cursor or "")
    # indexed late: updated 4 minutes before the cursor, visible only after the last run
    cloud.edit("PAY-2", at=cursor - timedelta(minutes=4), summary="Late index")
    second = pull(source, first)
    assert [i.title for i in second.items] == ["Late index"]


def test_reconcile_drops_vanished_issues(cloud: FakeJira) -> None:
    seed(cloud, 8)
    source = make_source(cloud)
    first = pull(source)
    cloud.delete("PAY-4")
    incremental = pull(source, first)
    assert not incremental.complete  # an incremental pull cannot see a deletion
    reconcile = pull(source, first, last_full=NOW - timedelta(hours=25))
    assert reconcile.complete
    assert "PAY-4" not in {i.key for i in reconcile.items}
    assert len(reconcile.items) == 7
    full = pull(source, first, full=True)
    assert full.complete and len(full.items) == 7


def test_dc_pages_by_start_at_in_the_users_zone(dc: FakeJira) -> None:
    seed(dc, 23, cut_short=1)
    pat = make_source(dc, auth=BEARER)
    first = pull(pat)
    assert len(first.items) == 23
    assert dc.count("GET", "/rest/api/2/search") == 3
    assert dc.count("GET", "/rest/api/2/issue/") == 1  # the one cut-short changelog
    assert dc.count("GET", "/rest/api/2/search/jql") == 0
    assert first.requests == dc.count() == 3 + 2 + 1  # searches, serverInfo + /field, changelog
    dc.transition("CORE-3", "Done", "done")
    dc.reset_counts()
    second = pull(pat, first)
    assert [i.key for i in second.items] == ["CORE-3"] and dc.count() == 1
    assert "ORDER BY key ASC" in dc.searches[-1]


def test_dc_slices_a_large_scope_into_updated_windows_under_the_limit(dc: FakeJira) -> None:
    dc.window_limit = 10
    for i in range(1, 36):
        dc.add_issue(f"PAY-{i}", updated=NOW - timedelta(hours=40 - i))
    source = make_source(dc, page=4, auth=BEARER, window_limit=10)
    result = pull(source)
    assert sorted(i.key for i in result.items) == sorted(dc.issues)
    windows = [q for q in dc.searches if "updated <" in q or "updated >=" in q]
    assert windows, "the scope was sliced"
    # the fake refuses any page past the limit with a 400: none was asked
    assert result.requests == dc.count()


def test_dc_more_than_the_limit_within_one_minute_is_refused(dc: FakeJira) -> None:
    dc.window_limit = 3
    for i in range(1, 6):
        dc.add_issue(f"PAY-{i}", updated=NOW - timedelta(hours=1))
    source = make_source(dc, page=2, auth=BEARER, window_limit=3)
    with pytest.raises(FatalError, match="within one minute"):
        pull(source)


def test_a_503_then_success_is_retried_and_counted(cloud: FakeJira) -> None:
    seed(cloud, 4)
    cloud.inject(
        Fault("GET", "/rest/api/3/search/jql", Response(503, "busy", {"Retry-After": "0"}))
    )
    result = pull(make_source(cloud))
    assert len(result.items) == 4
    assert cloud.count("GET", "/rest/api/3/search/jql") == 2
    assert result.requests == cloud.count()


def test_a_slow_answer_times_out(cloud: FakeJira) -> None:
    seed(cloud, 2)
    cloud.inject(Fault("GET", "/rest/api/2/serverInfo", delay=2.0, times=5))
    source = make_source(cloud, timeout=(0.5, 0.3))
    with pytest.raises(RetriableError, match="Timeout"):
        pull(source, budget_s=0.2)


def test_a_repeated_token_from_the_fake_is_refused(cloud: FakeJira) -> None:
    seed(cloud, 25)
    cloud.repeat_token = True
    with pytest.raises(FatalError, match="same nextPageToken twice"):
        pull(make_source(cloud))


def test_wrong_credentials_fail_at_once(cloud: FakeJira) -> None:
    cfg = make_source(cloud).config
    wrong = JiraAuth("basic", ("JIRA_EMAIL", "JIRA_API_TOKEN"), SecretStr(EMAIL), SecretStr("x"))
    with pytest.raises(AuthError, match="JIRA_EMAIL and JIRA_API_TOKEN"):
        pull(JiraSource("jira", cfg, wrong))
    assert cloud.count() == 1


def test_the_fake_reads_jql_dates_in_the_users_zone(cloud: FakeJira) -> None:
    cloud.add_issue("PAY-1", updated=datetime(2026, 11, 16, 8, 30, tzinfo=UTC))  # 09:30 Berlin
    cloud.add_issue("PAY-2", updated=datetime(2026, 11, 16, 7, 30, tzinfo=UTC))  # 08:30 Berlin
    predicate, order = parse_jql(
        'project = PAY AND updated >= "2026-11-16 09:00" ORDER BY updated ASC, key ASC',
        ZoneInfo("Europe/Berlin"),
        {"PAY"},
    )
    assert [k for k, i in cloud.issues.items() if predicate(i)] == ["PAY-1"]
    assert order == [("updated", False), ("key", False)]


def test_status_categories_learnt_earlier_type_the_changes_of_a_later_pull(cloud: FakeJira) -> None:
    """Changelogs name statuses only; a status nobody holds in this pull's few issues still gets
    its category from what earlier pulls saw (kept in the state)."""
    seed(cloud, 4)
    cloud.transition("PAY-4", "In Review", "indeterminate")
    source = make_source(cloud)
    first = pull(source)
    assert '"in review": "in_progress"' in first.state["status_categories"]
    cloud.transition("PAY-4", "Done", "done")  # nobody is "In Review" any more
    cloud.transition("PAY-2", "In Review", "indeterminate")
    cloud.transition("PAY-2", "Done", "done")
    second = pull(source, first)
    item = {i.key: i for i in second.items}["PAY-2"]
    assert item.state == "done" and item.started is not None
    moves = [(e.to_value, e.to_state) for e in second.events if e.item_key == "PAY-2"]
    assert moves == [("In Review", "in_progress"), ("Done", "done")]


def test_an_anonymous_pull_skips_myself_and_uses_the_server_zone(cloud: FakeJira) -> None:
    cloud.auth = None  # a public site
    seed(cloud, 3)
    anonymous = JiraAuth("anonymous", ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"))
    result = pull(make_source(cloud, auth=anonymous))
    assert len(result.items) == 3
    assert cloud.count("GET", "/rest/api/3/myself") == 0
    assert result.state["zone"] == "Etc/UTC"
    assert result.requests == cloud.count() == 4  # serverInfo, /field, the size, the one page


def test_the_incremental_bound_holds_in_a_zone_far_from_utc(dc: FakeJira) -> None:
    # This user reads JQL dates in America/Los_Angeles (UTC-8): an absolute bound written in
    # the server's zone would skip the last 8 hours of edits. "Minutes ago" skips nothing.
    seed(dc, 3)
    pat = make_source(dc, auth=BEARER)
    first = pull(pat)
    dc.transition("PAY-2", "In Progress", "indeterminate")  # just now
    second = pull(pat, first)
    assert [i.key for i in second.items] == ["PAY-2"]


def test_a_status_no_issue_sits_in_now_gets_its_category_from_one_status_call(
    cloud: FakeJira,
) -> None:
    # Everyone has passed "In Review": no current status names it, yet the changelogs do.
    cloud.add_issue("PAY-1", summary="Shipped")
    cloud.transition("PAY-1", "In Review", "indeterminate", at=NOW - timedelta(days=3))
    cloud.transition("PAY-1", "Done", "done", at=NOW - timedelta(days=1))
    result = pull(make_source(cloud))
    item = result.items[0]
    assert item.started == NOW - timedelta(days=3)  # the move to In Review started the work
    assert [(e.to_value, e.to_state) for e in result.events] == [
        ("In Review", "in_progress"), ("Done", "done"),
    ]  # fmt: skip
    assert cloud.count("GET", "/rest/api/3/status") == 1
    assert "in review" in result.state["status_categories"]  # kept: later pulls ask nothing
