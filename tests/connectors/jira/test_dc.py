"""The live Jira source against Server / Data Center answers (`responses`): /rest/api/2/search
with startAt (never search/jql, never bulkfetch), a personal access token as bearer, the Epic
Link as parent, and a cut-short changelog completed per issue."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from pydantic import SecretStr
from responses import matchers

from connectors.jira.client import JiraAuth
from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base.contracts import PullContext, PullResult
from tests.connectors.helpers import load_json

URL = "https://jira.acme.example"
API2 = f"{URL}/rest/api/2"
RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PAT = "pat-SECRET-0123456789"
PAGE = 3


def live(name: str) -> Any:
    return load_json("jira", "live", name)


def source(clock: Callable[[], datetime] | None = None, **config: Any) -> JiraSource:
    cfg = JiraSourceConfig.model_validate(
        {"type": "jira", "url": URL, "jql": "project = CORE"} | config
    )
    auth = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr(PAT))
    return JiraSource(
        "core", cfg, auth, page_size=PAGE, sleep=lambda s: None, clock=clock or (lambda: RUN)
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(call.request.url)).query)


def paths(rsps: responses.RequestsMock) -> list[str]:
    return [urlsplit(str(c.request.url)).path for c in rsps.calls]


def full_pull(rsps: responses.RequestsMock) -> PullResult:
    rsps.get(f"{API2}/serverInfo", json=live("serverInfo-dc.json"))
    rsps.get(f"{API2}/field", json=live("field-dc.json"))
    rsps.get(
        f"{API2}/search",
        json=live("dc-search-1.json"),
        match=[matchers.query_param_matcher({"startAt": "0"}, strict_match=False)],
    )
    rsps.get(
        f"{API2}/search",
        json=live("dc-search-2.json"),
        match=[matchers.query_param_matcher({"startAt": "3"}, strict_match=False)],
    )
    rsps.get(f"{API2}/issue/CORE-4", json=live("dc-issue-CORE-4.json"))
    return source().fetch(PullContext(source="core", run_started=RUN, tz=UTC))


def test_a_full_pull_pages_by_start_at_and_completes_changelogs_per_issue(
    rsps: responses.RequestsMock,
) -> None:
    result = full_pull(rsps)
    n = len(result.items)
    assert n == 5
    assert paths(rsps) == [
        "/rest/api/2/serverInfo",
        "/rest/api/2/field",
        *["/rest/api/2/search"] * math.ceil(n / PAGE),
        "/rest/api/2/issue/CORE-4",  # the one cut-short changelog: no bulk endpoint on DC
    ]
    assert result.requests == len(rsps.calls) == 5
    searches = [
        query(c) for c in rsps.calls if urlsplit(str(c.request.url)).path.endswith("/search")
    ]
    assert [s["startAt"] for s in searches] == [["0"], ["3"]]
    assert searches[0]["jql"] == ["(project = CORE) ORDER BY key ASC"]
    assert searches[0]["validateQuery"] == ["True"]
    assert "customfield_10106" in searches[0]["fields"] and "*all" not in searches[0]["fields"]
    issue_call = rsps.calls[-1]
    assert query(issue_call) == {"expand": ["changelog"], "fields": ["status"]}


def test_every_request_carries_the_personal_access_token_as_bearer(
    rsps: responses.RequestsMock,
) -> None:
    full_pull(rsps)
    assert {c.request.headers["Authorization"] for c in rsps.calls} == {f"Bearer {PAT}"}


def test_items_from_data_center_shapes(rsps: responses.RequestsMock) -> None:
    result = full_pull(rsps)
    items = {i.key: i for i in result.items}
    assert items["CORE-1"].kind == "epic"
    assert items["CORE-2"].parent == "CORE-1"  # from the Epic Link field
    assert items["CORE-2"].points == 5.0 and items["CORE-2"].state == "done"
    assert items["CORE-2"].assignee is None and items["CORE-3"].assignee == "Kim Park"
    assert items["CORE-3"].blocked  # label
    assert items["CORE-4"].blocked  # Flagged
    assert items["CORE-5"].blocked  # status Blocked
    # started comes from the whole changelog fetched for CORE-4, not the embedded latest one
    assert items["CORE-4"].started == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    events = [e for e in result.events if e.item_key == "CORE-4"]
    assert [e.to_value for e in events] == ["In Progress", "Blocked", "In Progress"]
    assert result.state["deployment"] == "Server"
    assert result.state["zone"] == "+0100"  # serverTime's offset: DC names no zone
    assert result.state["epic_link_field"] == "customfield_10101"


def test_an_unchanged_incremental_run_costs_one_search(rsps: responses.RequestsMock) -> None:
    first = full_pull(rsps)
    rsps.reset()
    rsps.get(
        f"{API2}/search",
        json={"expand": "schema,names", "startAt": 0, "maxResults": 3, "total": 0, "issues": []},
    )
    later = RUN + timedelta(minutes=30)
    result = source(clock=lambda: later).fetch(
        PullContext(
            source="core",
            run_started=later,
            tz=UTC,
            cursor=first.cursor,
            last_full=RUN,
            state=first.state,
        )
    )
    assert result.requests == len(rsps.calls) == 1
    # the cursor (09:00) minus 10 minutes, seen from 09:30: 40 minutes ago, in every zone
    assert query(rsps.calls[0])["jql"] == [
        '(project = CORE) AND updated >= "-40m" ORDER BY key ASC'
    ]
    assert not result.complete


def test_the_cloud_endpoints_are_never_asked_on_data_center(rsps: responses.RequestsMock) -> None:
    full_pull(rsps)
    assert not any("search/jql" in p or "bulkfetch" in p or "/api/3/" in p for p in paths(rsps))


def test_an_issue_deleted_before_its_changelog_is_fetched_keeps_what_came(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{API2}/serverInfo", json=live("serverInfo-dc.json"))
    rsps.get(f"{API2}/field", json=live("field-dc.json"))
    rsps.get(
        f"{API2}/search",
        json=live("dc-search-1.json"),
        match=[matchers.query_param_matcher({"startAt": "0"}, strict_match=False)],
    )
    rsps.get(
        f"{API2}/search",
        json=live("dc-search-2.json"),
        match=[matchers.query_param_matcher({"startAt": "3"}, strict_match=False)],
    )
    rsps.get(
        f"{API2}/issue/CORE-4",
        status=404,
        json={"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
    )
    result = source().fetch(PullContext(source="core", run_started=RUN, tz=UTC))
    assert len(result.items) == 5
    assert any("CORE-4" in w for w in result.warnings)
    assert [e.to_value for e in result.events if e.item_key == "CORE-4"] == ["In Progress"]
