"""The live Jira source against Jira Cloud's answers (`responses`, fixtures in tests/fixtures/jira/
live/ in the real shapes): what it asks for, how many requests it makes, what it makes of them."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from pydantic import SecretStr

from connectors.jira.client import JiraAuth
from connectors.jira.parse import BASE_FIELDS
from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base.contracts import PullContext, PullResult
from sync.base.errors import FatalError
from tests.connectors.helpers import load_json

URL = "https://acme.atlassian.net"
API3 = f"{URL}/rest/api/3"
RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PAGE = 5


def live(name: str) -> Any:
    return load_json("jira", "live", name)


def source(clock: Callable[[], datetime] | None = None, **config: Any) -> JiraSource:
    cfg = JiraSourceConfig.model_validate(
        {"type": "jira", "url": URL, "jql": "project = PAY"} | config
    )
    auth = JiraAuth(
        "basic",
        ("JIRA_EMAIL", "JIRA_API_TOKEN"),
        SecretStr("goalsync@acme.example"),
        SecretStr("atl-token-123456"),
    )
    return JiraSource(
        "jira", cfg, auth, page_size=PAGE, sleep=lambda s: None, clock=clock or (lambda: RUN)
    )


def ctx(**kwargs: Any) -> PullContext:
    return PullContext(source="jira", run_started=RUN, tz=UTC, **kwargs)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def site(rsps: responses.RequestsMock) -> None:
    """serverInfo, /field, and the size a complete pull asks first: these scopes are too small to
    slice (fetch_cloud_sliced)."""
    rsps.get(f"{URL}/rest/api/2/serverInfo", json=live("serverInfo-cloud.json"))
    rsps.get(f"{API3}/field", json=live("field-cloud.json"))
    rsps.post(f"{API3}/search/approximate-count", json={"count": 9})


def search_pages(rsps: responses.RequestsMock, pages: dict[str | None, Any]) -> None:
    """GET /search/jql answering by nextPageToken (None: the first page)."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        token = query(request).get("nextPageToken", [None])[0]
        return 200, {"Content-Type": "application/json"}, json.dumps(pages[token])

    rsps.add_callback(responses.GET, f"{API3}/search/jql", callback=answer)


def query(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


def calls(rsps: responses.RequestsMock, path: str) -> list[Any]:
    return [c for c in rsps.calls if urlsplit(str(c.request.url)).path.endswith(path)]


def full_pull(rsps: responses.RequestsMock) -> PullResult:
    site(rsps)
    search_pages(rsps, {None: live("search-jql-1.json"), "CAEaAggD": live("search-jql-2.json")})
    rsps.post(f"{API3}/changelog/bulkfetch", json=live("changelog-bulkfetch.json"))
    return source().fetch(ctx())


def test_a_full_pull_costs_pages_plus_serverinfo_field_and_one_bulkfetch(
    rsps: responses.RequestsMock,
) -> None:
    result = full_pull(rsps)
    n = len(result.items)
    assert n == 9
    searches = calls(rsps, "/search/jql")
    assert len(searches) == math.ceil(n / PAGE) == 2
    assert len(calls(rsps, "/serverInfo")) == 1
    assert len(calls(rsps, "/field")) == 1
    assert not calls(rsps, "/myself")  # the incremental bound is relative: no zone needed
    assert len(calls(rsps, "/changelog/bulkfetch")) == 1  # one issue's changelog was cut short
    # a complete pull asks its size once (approximate-count), first: too small to slice
    assert len(calls(rsps, "/search/approximate-count")) == 1
    assert result.requests == len(rsps.calls) == 2 + 1 + 1 + 1 + 1
    assert not calls(rsps, "/search")  # the old endpoint (410 on Cloud) is never asked


def test_the_search_asks_for_the_fields_goalsync_reads_not_all(
    rsps: responses.RequestsMock,
) -> None:
    full_pull(rsps)
    first = query(calls(rsps, "/search/jql")[0].request)
    assert first["jql"] == ["(project = PAY) ORDER BY key ASC"]
    assert first["maxResults"] == [str(PAGE)]
    assert first["expand"] == ["changelog"]
    assert "nextPageToken" not in first
    wanted = [*BASE_FIELDS, "customfield_10026", "customfield_10016", "customfield_10021"]
    assert sorted(first["fields"]) == sorted(wanted)
    assert "*all" not in first["fields"]
    second = query(calls(rsps, "/search/jql")[1].request)
    assert second["nextPageToken"] == ["CAEaAggD"]


def test_only_cut_short_changelogs_are_bulk_fetched_status_changes_by_issue_id(
    rsps: responses.RequestsMock,
) -> None:
    result = full_pull(rsps)
    body = json.loads(calls(rsps, "/changelog/bulkfetch")[0].request.body)
    assert body == {"issueIdsOrKeys": ["10101"], "fieldIds": ["status"], "maxResults": 1000}
    events = [e for e in result.events if e.item_key == "PAY-101"]
    # 5 status changes: the 3 embedded ones and 2 older ones only bulkfetch knew about
    assert [(e.from_value, e.to_value) for e in events] == [
        ("To Do", "In Progress"),
        ("In Progress", "To Do"),
        ("To Do", "In Progress"),
        ("In Progress", "In Review"),
        ("In Review", "Done"),
    ]
    assert events[0].at == datetime(2026, 10, 2, 8, 30, tzinfo=UTC)
    assert events[0].actor == "Sam Ortiz"
    item = {i.key: i for i in result.items}["PAY-101"]
    assert item.started == datetime(2026, 10, 2, 8, 30, tzinfo=UTC)  # from the older history


def test_items_carry_parent_labels_components_points_state_and_blocked(
    rsps: responses.RequestsMock,
) -> None:
    result = full_pull(rsps)
    items = {i.key: i for i in result.items}
    epic, story = items["PAY-100"], items["PAY-101"]
    assert epic.kind == "epic" and epic.state == "in_progress" and epic.points is None
    assert story.parent == "PAY-100"
    assert story.labels == ("billing", "api")
    assert story.components == ("API", "Billing")
    assert story.state == "done" and story.status == "Done"
    assert story.points == 5.0  # "Story Points" first, then "Story point estimate"
    assert story.url == f"{URL}/browse/PAY-101"
    assert items["PAY-102"].blocked  # Flagged
    assert items["PAY-103"].blocked  # status Blocked
    assert items["PAY-105"].blocked  # label blocked (any case)
    assert not items["PAY-104"].blocked
    assert items["PAY-106"].state == "done"  # "Closed": the category decides, not the name
    assert items["PAY-107"].points == 0.0
    assert result.complete and result.has_history
    assert result.cursor == RUN.isoformat()
    assert result.state["deployment"] == "Cloud"
    assert result.state["zone"] == "Etc/UTC"  # serverInfo's: Data Center cuts windows in it
    assert result.state["points_fields"] == "customfield_10026,customfield_10016"
    assert result.state["flagged_field"] == "customfield_10021"


def test_an_unchanged_incremental_run_costs_one_search_per_scope(
    rsps: responses.RequestsMock,
) -> None:
    first = full_pull(rsps)
    rsps.reset()
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    later = RUN + timedelta(hours=1)
    result = source(clock=lambda: later + timedelta(seconds=30)).fetch(
        PullContext(
            source="jira",
            run_started=later,
            tz=UTC,
            cursor=first.cursor,
            last_full=RUN,
            state=first.state,
            native_clauses={"jql": ("labels = billing", "component = API")},
        )
    )
    assert result.requests == len(rsps.calls) == 1 + 2
    jqls = [query(c.request)["jql"][0] for c in rsps.calls]
    # the cursor (09:00 UTC) minus 10 minutes, as "minutes ago" from the search's moment
    # (10:00:30): 70.5 minutes, rounded up to 71, the same in whatever zone Jira reads dates
    assert jqls[0] == '(project = PAY) AND updated >= "-71m" ORDER BY key ASC'
    assert jqls[1:] == [
        "(project = PAY) AND (labels = billing) ORDER BY key ASC",
        "(project = PAY) AND (component = API) ORDER BY key ASC",
    ]
    assert not result.complete and result.items == [] and result.cursor == later.isoformat()
    assert result.state["deployment"] == "Cloud"  # kept for the next run


def test_jql_clauses_run_as_keys_only_searches(rsps: responses.RequestsMock) -> None:
    site(rsps)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        q = query(request)
        if q["fields"] == ["key"]:
            return 200, {}, json.dumps(live("search-jql-keys.json"))
        token = q.get("nextPageToken", [None])[0]
        page = live("search-jql-1.json" if token is None else "search-jql-2.json")
        return 200, {}, json.dumps(page)

    rsps.add_callback(responses.GET, f"{API3}/search/jql", callback=answer)
    rsps.post(f"{API3}/changelog/bulkfetch", json=live("changelog-bulkfetch.json"))
    result = source().fetch(ctx(native_clauses={"jql": ("labels = billing",)}))
    assert result.native_matches == {"jql": {"labels = billing": frozenset({"PAY-101", "PAY-102"})}}
    keys_call = next(c for c in rsps.calls if query(c.request).get("fields") == ["key"])
    assert query(keys_call.request)["maxResults"] == ["1000"]
    assert "expand" not in query(keys_call.request)


def test_duplicates_across_pages_are_dropped_by_key_the_later_copy_wins(
    rsps: responses.RequestsMock,
) -> None:
    site(rsps)
    first = live("search-jql-1.json")
    second = live("search-jql-2.json")
    moved = copy.deepcopy(first["issues"][4])  # PAY-104, edited while the pages were read
    moved["fields"]["summary"] = "Edited mid-run"
    second["issues"].append(moved)
    search_pages(rsps, {None: first, "CAEaAggD": second})
    rsps.post(f"{API3}/changelog/bulkfetch", json=live("changelog-bulkfetch.json"))
    result = source().fetch(ctx())
    keys = [i.key for i in result.items]
    assert len(keys) == len(set(keys)) == 9
    assert {i.key: i for i in result.items}["PAY-104"].title == "Edited mid-run"


def test_a_repeated_next_page_token_is_refused_not_looped(rsps: responses.RequestsMock) -> None:
    site(rsps)
    again = live("search-jql-1.json")  # every page says: next is CAEaAggD
    search_pages(rsps, {None: again, "CAEaAggD": again})
    with pytest.raises(FatalError, match="same nextPageToken twice"):
        source().fetch(ctx())
    assert len(calls(rsps, "/search/jql")) == 2


def test_a_kept_server_deployment_that_answers_410_is_detected_again(
    rsps: responses.RequestsMock,
) -> None:
    """The site moved to Cloud since the state was written: the old /search answers 410."""
    first = full_pull(rsps)
    rsps.reset()
    state = {**first.state, "deployment": "Server"}
    rsps.get(f"{URL}/rest/api/2/search", status=410, json=live("error-410-search.json"))
    site(rsps)
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    result = source().fetch(
        PullContext(
            source="jira",
            run_started=RUN + timedelta(hours=1),
            tz=UTC,
            cursor=first.cursor,
            last_full=RUN,
            state=state,
        )
    )
    paths = [urlsplit(str(c.request.url)).path for c in rsps.calls]
    assert paths == [
        "/rest/api/2/search",
        "/rest/api/2/serverInfo",
        "/rest/api/3/field",
        "/rest/api/3/search/jql",
    ]
    assert result.state["deployment"] == "Cloud"
    assert result.requests == 4


@pytest.mark.parametrize(
    ("last_full", "full", "complete"),
    [
        (RUN - timedelta(hours=1), False, False),
        (RUN - timedelta(hours=24), False, True),  # reconcile_hours (24) passed
        (RUN - timedelta(hours=1), True, True),  # --full
        (None, False, True),
    ],
)
def test_reconcile_and_full_make_a_complete_pull(
    rsps: responses.RequestsMock, last_full: datetime | None, full: bool, complete: bool
) -> None:
    state = full_pull(rsps).state
    rsps.reset()
    site(rsps)
    search_pages(rsps, {None: live("search-jql-2.json")})
    result = source().fetch(
        PullContext(
            source="jira",
            run_started=RUN,
            tz=UTC,
            cursor=(RUN - timedelta(hours=1)).isoformat(),
            last_full=last_full,
            full=full,
            state=state,
        )
    )
    assert result.complete is complete
    jql = query(calls(rsps, "/search/jql")[0].request)["jql"][0]
    assert ("updated >=" not in jql) is complete
    assert len(calls(rsps, "/serverInfo")) == (1 if complete else 0)


def test_a_changed_jql_forces_a_complete_pull(rsps: responses.RequestsMock) -> None:
    state = full_pull(rsps).state
    rsps.reset()
    site(rsps)
    search_pages(rsps, {None: live("search-jql-2.json")})
    result = source(jql="project = PAY AND labels = billing").fetch(
        ctx(cursor=RUN.isoformat(), last_full=RUN, state=state)
    )
    assert result.complete


def test_an_explicit_points_field_wins(rsps: responses.RequestsMock) -> None:
    site(rsps)
    search_pages(rsps, {None: live("search-jql-1.json"), "CAEaAggD": live("search-jql-2.json")})
    rsps.post(f"{API3}/changelog/bulkfetch", json=live("changelog-bulkfetch.json"))
    result = source(points_field="customfield_10016").fetch(ctx())
    items = {i.key: i for i in result.items}
    assert items["PAY-101"].points == 3.0
    assert items["PAY-105"].points is None  # only "Story Points" is set there


def test_bulkfetch_pages_by_its_own_token(rsps: responses.RequestsMock) -> None:
    site(rsps)
    search_pages(rsps, {None: live("search-jql-1.json"), "CAEaAggD": live("search-jql-2.json")})
    whole = live("changelog-bulkfetch.json")["issueChangeLogs"][0]["changeHistories"]
    pages = {
        None: {"issueChangeLogs": [{"issueId": "10101", "changeHistories": whole[:3]}],
               "nextPageToken": "b2"},
        "b2": {"issueChangeLogs": [{"issueId": "10101", "changeHistories": whole[3:]}]},
    }  # fmt: skip

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps(pages[json.loads(request.body).get("nextPageToken")])

    rsps.add_callback(responses.POST, f"{API3}/changelog/bulkfetch", callback=answer)
    result = source().fetch(ctx())
    assert len(calls(rsps, "/changelog/bulkfetch")) == 2
    assert len([e for e in result.events if e.item_key == "PAY-101"]) == 5
