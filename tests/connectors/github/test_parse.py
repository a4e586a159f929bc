from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.github.parse import IssueRules, parse_issue, parse_time, repo_of
from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import WorkItem
from tests.connectors.helpers import load_json


def handmade() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = load_json("github", "issues-handmade.json")
    return data


def raw(number: int) -> dict[str, Any]:
    return next(i for i in handmade() if i["number"] == number)


def parse(entry: dict[str, Any], rules: IssueRules | None = None) -> WorkItem:
    return parse_issue(entry, source="gh", rules=rules or IssueRules())


def parsed(rules: IssueRules | None = None) -> dict[str, WorkItem]:
    out = {}
    for entry in handmade():
        item = parse(entry, rules)
        out[item.key] = item
    return out


def test_the_export_is_the_recorded_responses_joined() -> None:
    recorded = load_json("github", "paginate-issues.json")
    joined = [issue for exchange in recorded for issue in exchange["response"]]
    assert len(joined) == 13
    assert load_json("github", "issues-export.json") == joined


def test_recorded_issues_parse() -> None:
    export = load_json("github", "issues-export.json")
    got = [parse(entry) for entry in export]
    assert [i.key for i in got] == [
        f"octokit-fixture-org/paginate-issues#{n}" for n in range(13, 0, -1)
    ]
    first = got[0]
    assert first.kind == "issue"
    assert first.title == "Test issue 13"
    assert first.state == "todo"
    assert first.status == "open"
    assert first.project == "octokit-fixture-org/paginate-issues"
    assert first.url == "https://github.com/octokit-fixture-org/paginate-issues/issues/13"
    assert first.created == datetime(2017, 10, 10, 16, 0, tzinfo=UTC)
    assert first.updated == datetime(2017, 10, 10, 16, 0, tzinfo=UTC)
    assert first.assignee is None
    assert first.labels == ()
    assert first.milestone is None
    assert first.due is None
    assert first.done_at is None
    assert first.fields == {"number": 13}


def test_handmade_items_have_the_recorded_shape() -> None:
    template = set(load_json("github", "issues-export.json")[0])
    for entry in handmade():
        assert set(entry) - {"pull_request", "draft"} == template


def test_pull_request_or_issue_is_decided_by_the_pull_request_key() -> None:
    got = parsed()
    assert got["acme/web#46"].kind == "pull_request"
    assert got["acme/web#47"].kind == "pull_request"
    assert got["acme/web#48"].kind == "pull_request"
    assert got["acme/web#42"].kind == "issue"

    entry = raw(46)
    del entry["pull_request"]
    as_issue = parse(entry)
    assert as_issue.kind == "issue"
    assert as_issue.state == "done"  # a closed issue without state_reason is done
    assert as_issue.status == "closed"


def test_merged_pull_request_is_done_at_its_merge() -> None:
    item = parsed()["acme/web#46"]
    assert item.state == "done"
    assert item.status == "merged"
    assert item.done_at == datetime(2026, 10, 19, 17, 45, tzinfo=UTC)
    assert item.url == "https://github.com/acme/web/pull/46"


def test_merged_at_wins_over_closed_at_for_done_at() -> None:
    entry = raw(46)
    entry["closed_at"] = "2026-10-20T08:00:00Z"
    assert parse(entry).done_at == datetime(2026, 10, 19, 17, 45, tzinfo=UTC)


def test_pull_request_closed_unmerged_is_cancelled() -> None:
    item = parsed()["acme/web#47"]
    assert item.state == "cancelled"
    assert item.status == "closed"


def test_open_pull_request_is_in_progress() -> None:
    item = parsed()["acme/web#48"]
    assert item.state == "in_progress"
    assert item.status == "open"


def test_closed_issue_completed_is_done() -> None:
    item = parsed()["acme/web#42"]
    assert item.state == "done"
    assert item.done_at == datetime(2026, 10, 18, 12, 0, tzinfo=UTC)
    assert item.fields == {
        "number": 42,
        "state_reason": "completed",
        "milestone_due": "2026-12-15T08:00:00Z",
    }


@pytest.mark.parametrize("reason", ["not_planned", "duplicate"])
def test_closed_issue_not_planned_or_duplicate_is_cancelled(reason: str) -> None:
    entry = raw(43)
    entry["state_reason"] = reason
    item = parse(entry)
    assert item.state == "cancelled"
    assert item.fields["state_reason"] == reason


def test_the_not_planned_fixture_is_cancelled() -> None:
    assert parsed()["acme/web#43"].state == "cancelled"


def test_in_progress_label_makes_an_open_issue_in_progress() -> None:
    got = parsed()
    assert got["acme/web#41"].state == "in_progress"  # "in progress"
    assert got["acme/ledger#7"].state == "in_progress"  # "WIP", compared without case
    assert got["acme/web#44"].state == "todo"


def test_in_progress_labels_follow_the_rules() -> None:
    got = parsed(IssueRules(in_progress_labels=("doing",)))
    assert got["acme/web#41"].state == "todo"
    entry = raw(44)
    entry["labels"].append({"name": "Doing"})
    assert parse(entry, IssueRules(in_progress_labels=("doing",))).state == "in_progress"


def test_labels_may_be_plain_strings() -> None:
    entry = raw(44)
    entry["labels"] = ["wip", "billing"]
    item = parse(entry)
    assert item.labels == ("wip", "billing")
    assert item.state == "in_progress"


def test_assigned_means_started_only_when_asked() -> None:
    assert parsed()["acme/web#45"].state == "todo"
    assert parsed(IssueRules(assigned_means_started=True))["acme/web#45"].state == "in_progress"
    # no assignee: stays todo either way
    assert parsed(IssueRules(assigned_means_started=True))["acme/web#44"].state == "todo"


def test_assignee_is_the_assignee_or_else_the_first_of_assignees() -> None:
    got = parsed()
    assert got["acme/web#42"].assignee == "bo"
    entry = raw(42)
    entry["assignee"] = None
    assert parse(entry).assignee == "bo"
    assert got["acme/web#44"].assignee is None


def test_blocked_label_blocks_only_open_items() -> None:
    got = parsed()
    assert got["acme/web#44"].blocked is True
    assert [k for k, i in got.items() if i.blocked] == ["acme/web#44"]
    entry = raw(42)
    entry["labels"].append({"name": "Blocked"})
    assert parse(entry).blocked is False  # closed
    open_entry = raw(45)
    open_entry["labels"].append({"name": "on hold"})
    rules = IssueRules(items=ItemRules(blocked_labels=("On Hold",)))
    assert parse(open_entry, rules).blocked is True


def test_key_and_project_come_from_repository_url() -> None:
    got = parsed()
    assert set(got) == {
        "acme/web#41",
        "acme/web#42",
        "acme/web#43",
        "acme/web#44",
        "acme/web#45",
        "acme/web#46",
        "acme/web#47",
        "acme/web#48",
        "acme/ledger#7",
    }
    assert got["acme/ledger#7"].project == "acme/ledger"  # a GitHub Enterprise /api/v3 URL
    assert got["acme/web#41"].project == "acme/web"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.github.com/repos/acme/web", "acme/web"),
        ("https://api.github.com/repos/acme/web/", "acme/web"),
        ("https://ghe.example.com/api/v3/repos/acme/api", "acme/api"),
        ("http://127.0.0.1:8765/repos/o/r", "o/r"),
        ("https://api.github.com/repositories/1000", None),
        ("https://api.github.com/repos/acme", None),
        ("https://api.github.com/repos/acme/web/issues", None),
        (None, None),
    ],
)
def test_repo_of(url: str | None, expected: str | None) -> None:
    assert repo_of({"repository_url": url}) == expected


def test_milestone_title_and_due() -> None:
    got = parsed()
    assert got["acme/web#41"].milestone == "Billing v1"
    assert got["acme/web#41"].due == date(2026, 12, 15)
    assert got["acme/ledger#7"].milestone == "Q4"
    assert got["acme/ledger#7"].due is None  # a milestone without due_on
    assert "milestone_due" not in got["acme/ledger#7"].fields
    assert got["acme/web#45"].milestone is None
    assert got["acme/web#45"].due is None


def test_the_rest_of_an_issue() -> None:
    item = parsed()["acme/web#41"]
    assert item.source == "gh"
    assert item.title == "Refund API"
    assert item.labels == ("billing", "in progress")
    assert item.assignee == "ana"
    assert item.url == "https://github.com/acme/web/issues/41"
    assert item.created == datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
    assert item.updated == datetime(2026, 10, 20, 15, 30, tzinfo=UTC)
    assert item.done_at is None
    assert item.points is None


def test_cancelled_items_keep_their_closing_time() -> None:
    item = parsed()["acme/web#43"]
    assert item.done_at == datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        {"number": None},
        {"number": "42"},
        {"repository_url": None},
        {"repository_url": "https://api.github.com/repositories/1000"},
    ],
)
def test_an_issue_without_number_or_repository_is_fatal(change: dict[str, Any]) -> None:
    entry = copy.deepcopy(raw(42)) | change
    with pytest.raises(FatalError, match="without number or repository_url"):
        parse(entry)


def test_github_times() -> None:
    assert parse_time("2026-10-19T17:45:00Z") == datetime(2026, 10, 19, 17, 45, tzinfo=UTC)
    assert parse_time(None) is None
    with pytest.raises(FatalError, match="unreadable GitHub time"):
        parse_time("yesterday")


def test_a_pull_request_starts_when_it_is_opened_an_issue_has_no_start() -> None:

    def parsed(raw: dict[str, object]) -> WorkItem:
        return parse_issue(raw, source="gh", rules=IssueRules())

    base = {
        "number": 7,
        "repository_url": "https://api.github.com/repos/acme/web",
        "created_at": "2026-10-01T08:00:00Z",
        "updated_at": "2026-10-03T08:00:00Z",
    }
    pr = parsed(
        {
            **base,
            "state": "closed",
            "closed_at": "2026-10-03T08:00:00Z",
            "pull_request": {"merged_at": "2026-10-03T08:00:00Z"},
        }
    )
    assert (pr.state, pr.started, pr.done_at) == (
        "done",
        datetime(2026, 10, 1, 8, tzinfo=UTC),
        datetime(2026, 10, 3, 8, tzinfo=UTC),
    )
    issue = parsed({**base, "state": "open", "labels": [{"name": "wip"}]})
    assert (issue.state, issue.started) == ("in_progress", None)
