"""The pure parsers the live GitHub connector adds: issue events, milestones, Link headers, an
org's repository list. Payloads are the recorded / OpenAPI ones (tests/fixtures/github)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.github.parse import (
    IssueRules,
    parse_event,
    parse_events,
    parse_issue,
    parse_link_next,
    parse_milestones,
    parse_org_repos,
    to_item_with_milestone,
)
from sync.base.errors import FatalError
from tests.connectors.helpers import load_json
from tests.fakes.github import (
    event_payload,
    issue_payload,
    milestone_payload,
    repo_payload,
)

T = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
RULES = IssueRules()


def test_the_openapi_example_event_parses() -> None:
    raw = load_json("github", "issue-events.json")[0]
    event = parse_event(raw, source="gh", rules=RULES)
    assert event is not None
    assert event.item_key == "octocat/Hello-World#1347"
    assert event.kind == "closed"
    assert event.at == datetime(2011, 4, 14, 16, 0, 49, tzinfo=UTC)
    assert event.actor == "octocat"
    # Its issue is a pull request without merged_at: closed unmerged, so cancelled.
    assert event.to_value == "closed" and event.to_state == "cancelled"


def test_events_of_interest_and_the_rest_skipped() -> None:
    issue = issue_payload("acme/web", 1, updated=T)
    raws = [
        event_payload(1, "labeled", issue, at=T, label="billing"),
        event_payload(2, "mentioned", issue, at=T),
        event_payload(3, "subscribed", issue, at=T),
        event_payload(4, "assigned", issue, at=T, assignee="ana"),
        event_payload(5, "reopened", issue, at=T),
    ]
    events = parse_events(raws, source="gh", rules=RULES)
    assert [(e.kind, e.to_value) for e in events] == [
        ("labeled", "billing"),
        ("assigned", "ana"),
        ("reopened", "open"),
    ]
    assert events[0].to_state is None  # an ordinary label is no state change
    assert events[1].to_state is None  # assigned means started only when asked
    assert events[2].to_state == "todo"


def test_in_progress_label_moves_an_open_issue_to_in_progress_and_back() -> None:
    issue = issue_payload("acme/web", 1, updated=T, labels=["WIP"])
    on = parse_event(
        event_payload(1, "labeled", issue, at=T, label="WIP"), source="gh", rules=RULES
    )
    off = parse_event(
        event_payload(2, "unlabeled", issue, at=T, label="wip"), source="gh", rules=RULES
    )
    assert on is not None and (on.from_state, on.to_state) == ("todo", "in_progress")
    assert off is not None and (off.from_state, off.to_state) == ("in_progress", "todo")


def test_a_label_after_the_issue_was_closed_is_no_state_change() -> None:
    closed = datetime(2026, 10, 1, tzinfo=UTC)
    issue = issue_payload("acme/web", 1, updated=T, state="closed", closed=closed)
    event = parse_event(
        event_payload(1, "labeled", issue, at=T, label="wip"), source="gh", rules=RULES
    )
    assert event is not None and event.to_state is None


def test_assigned_means_started_when_asked() -> None:
    issue = issue_payload("acme/web", 1, updated=T)
    raw = event_payload(1, "assigned", issue, at=T, assignee="bo")
    rules = IssueRules(assigned_means_started=True)
    event = parse_event(raw, source="gh", rules=rules)
    assert event is not None and event.to_state == "in_progress" and event.to_value == "bo"


@pytest.mark.parametrize(
    ("pull", "kind", "expected"),
    [("merged", "merged", "done"), ("merged", "closed", "done"), ("closed", "closed", "cancelled")],
)
def test_pull_request_events(pull: str, kind: str, expected: str) -> None:
    issue = issue_payload("acme/web", 7, updated=T, state="closed", closed=T, pull=pull)
    event = parse_event(event_payload(1, kind, issue, at=T), source="gh", rules=RULES)
    assert event is not None and event.to_state == expected
    assert event.item_key == "acme/web#7"


def test_closing_as_not_planned_is_cancelled_only_for_the_close_that_stands() -> None:
    early = datetime(2026, 10, 1, tzinfo=UTC)
    issue = issue_payload(
        "acme/web", 1, updated=T, state="closed", state_reason="not_planned", closed=T
    )
    last = parse_event(event_payload(2, "closed", issue, at=T), source="gh", rules=RULES)
    first = parse_event(event_payload(1, "closed", issue, at=early), source="gh", rules=RULES)
    assert last is not None and last.to_state == "cancelled"
    assert first is not None and first.to_state == "done"  # an earlier close, reason unknown
    with_reason = event_payload(1, "closed", issue, at=early) | {"state_reason": "not_planned"}
    stated = parse_event(with_reason, source="gh", rules=RULES)
    assert stated is not None and stated.to_state == "cancelled"


def test_an_event_without_its_issue_is_skipped_and_garbage_is_fatal() -> None:
    issue = issue_payload("acme/web", 1, updated=T)
    raw = event_payload(1, "closed", issue, at=T)
    raw["issue"] = None
    assert parse_event(raw, source="gh", rules=RULES) is None
    with pytest.raises(FatalError):
        parse_events(["not an event"], source="gh", rules=RULES)  # type: ignore[list-item]


def test_milestones_parse_and_enrich_items() -> None:
    recorded = parse_milestones(load_json("github", "milestones.json"), repo="octocat/Hello-World")
    v1 = recorded["v1.0"]
    assert (v1.number, v1.state, v1.open_issues, v1.closed_issues) == (1, "open", 4, 8)
    assert v1.due_on == datetime(2012, 10, 9, 23, 39, 1, tzinfo=UTC)

    due = datetime(2026, 12, 1, 12, tzinfo=UTC)
    fresh = milestone_payload("acme/web", 3, "Q4", due_on=due, open_issues=5, closed_issues=7)
    stale = milestone_payload("acme/web", 3, "Q4", open_issues=1, closed_issues=0)
    item = parse_issue(
        issue_payload("acme/web", 1, updated=T, milestone=stale), source="gh", rules=RULES
    )
    enriched = to_item_with_milestone(item, parse_milestones([fresh], repo="acme/web"))
    assert enriched.milestone == "Q4"
    assert enriched.due == date(2026, 12, 1)
    assert enriched.fields["milestone_open"] == 5 and enriched.fields["milestone_closed"] == 7
    assert enriched.fields["milestone_due"] == "2026-12-01T12:00:00Z"
    assert enriched.fields["number"] == 1
    other = parse_issue(issue_payload("acme/web", 2, updated=T), source="gh", rules=RULES)
    assert to_item_with_milestone(other, {}) is other


def test_a_milestone_without_title_is_fatal() -> None:
    with pytest.raises(FatalError, match="milestone"):
        parse_milestones([{"number": 1}], repo="acme/web")


def test_link_next_from_recorded_headers() -> None:
    pages = load_json("github", "paginate-issues.json")
    nexts = [parse_link_next(p["headers"].get("link")) for p in pages]
    assert nexts == [
        "https://api.github.com/repositories/1000/issues?per_page=3&page=2",
        "https://api.github.com/repositories/1000/issues?per_page=3&page=3",
        "https://api.github.com/repositories/1000/issues?per_page=3&page=4",
        "https://api.github.com/repositories/1000/issues?per_page=3&page=5",
        None,
    ]
    assert parse_link_next(None) is None
    assert parse_link_next('<https://x/y?page=2>; rel="prev"') is None


def test_org_repos_filtered_by_topics_and_name_pattern() -> None:
    raws: list[dict[str, Any]] = [
        repo_payload("acme/pay-api", 1, topics=["billing"]),
        repo_payload("acme/pay-web", 2, topics=["Billing", "web"]),
        repo_payload("acme/pay-docs", 3, topics=["billing"], has_issues=False),
        repo_payload("acme/ops", 4, topics=["billing"]),
        repo_payload("acme/Pay-old", 5, topics=[]),
    ]
    chosen, skipped = parse_org_repos(raws, topics=["billing"], name_pattern="pay-*")
    assert chosen == ["acme/pay-api", "acme/pay-web"]
    assert skipped == ["acme/pay-docs: issues are turned off in this repository"]
    everything, _ = parse_org_repos(raws, topics=[], name_pattern=None)
    assert everything == ["acme/pay-api", "acme/pay-web", "acme/ops", "acme/Pay-old"]
    by_name, _ = parse_org_repos(raws, topics=[], name_pattern="PAY-*")
    assert by_name == ["acme/pay-api", "acme/pay-web", "acme/Pay-old"]


def test_the_recorded_repository_has_the_fields_the_filter_reads() -> None:
    raw = load_json("github", "get-repository.json")[0]["response"]
    chosen, skipped = parse_org_repos([raw], topics=[], name_pattern=None)
    assert chosen == ["octokit-fixture-org/hello-world"] and skipped == []
