"""The payload shapes at the connector boundary (connectors/*_shapes.py): every real recorded
payload fits; an item of the wrong shape is skipped and named, never read as something else; a
reply of the wrong shape fails the call."""

from __future__ import annotations

import copy
import glob
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.github.parse import IssueRules, checked_event, checked_issue
from connectors.github.shapes import ISSUE, ISSUE_EVENT, MILESTONE
from connectors.jira.client import JiraAuth
from connectors.jira.parse import FieldIds, check_issue
from connectors.jira.source import JiraSource, JiraSourceConfig
from connectors.sheets.batches import parse_sheets
from connectors.sheets.shapes import VALUE_RANGE, checked
from sync.base.contracts import PullContext
from sync.base.errors import FatalError
from sync.base.shapes import KEYS_SHOWN, Skipped, problem_with
from tests.fakes.github import event_payload, issue_payload
from tests.fakes.jira import Auth, FakeJira

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RULES = IssueRules()


def nested(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from nested(value)
    elif isinstance(data, list):
        for value in data:
            yield from nested(value)


def test_every_recorded_github_payload_fits_its_shape() -> None:
    seen = {"issue": 0, "event": 0, "milestone": 0}
    for path in sorted(glob.glob(str(FIXTURES / "github" / "*.json"))):
        for d in nested(json.loads(Path(path).read_text())):
            if {"repository_url", "number", "labels"} <= set(d):
                seen["issue"] += 1
                assert problem_with(ISSUE, d) is None, (path, d["number"])
            elif {"event", "actor"} <= set(d):
                seen["event"] += 1
                assert problem_with(ISSUE_EVENT, d) is None, path
            elif {"open_issues", "due_on"} <= set(d):
                seen["milestone"] += 1
                assert problem_with(MILESTONE, d) is None, path
    assert seen["issue"] >= 30 and seen["event"] >= 1 and seen["milestone"] >= 2


def test_every_recorded_jira_issue_fits_its_shape() -> None:
    ids = FieldIds(points=("customfield_10016", "customfield_10002"), epic_link="customfield_10014")
    count = 0
    for path in sorted(glob.glob(str(FIXTURES / "jira" / "**" / "*.json"), recursive=True)):
        for d in nested(json.loads(Path(path).read_text())):
            if isinstance(d.get("fields"), dict) and "key" in d and len(d["fields"]) > 1:
                count += 1
                assert check_issue(d, ids) is None, (path, d["key"])
    assert count >= 20


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"labels": "x"}, "labels"),
        ({"labels": [{"name": 5}]}, "labels.0"),
        ({"number": "7"}, "number"),
        ({"number": True}, "number"),
        ({"state": "merged"}, "state"),
        ({"state": 1}, "state"),
        ({"assignee": "ana"}, "assignee"),
        ({"assignees": ["ana"]}, "assignees.0"),
        ({"milestone": "M1"}, "milestone"),
        ({"pull_request": True}, "pull_request"),
        ({"title": ["a"]}, "title"),
        ({"updated_at": "yesterday"}, "yesterday"),
        ({"closed_at": 1700000000}, "closed_at"),
    ],
)
def test_a_github_issue_of_the_wrong_shape_is_skipped_and_named(
    change: dict[str, Any], where: str
) -> None:
    raw = issue_payload("acme/web", 7, updated=T, labels=["billing"], assignee="ana") | change
    skipped = Skipped("gh")
    assert checked_issue(raw, source="gh", rules=RULES, skipped=skipped) is None
    ((name, problem),) = skipped.found
    assert name in ("acme/web#7", raw["html_url"])  # a number that is no number: its URL
    assert where in problem


def test_nulls_and_bare_string_labels_are_the_right_shape() -> None:
    raw = issue_payload("acme/web", 7, updated=T) | {
        "labels": ["billing", {"name": "wip", "color": "fff"}],
        "title": None,
        "state": None,
        "assignee": None,
        "milestone": None,
        "closed_at": None,
    }
    skipped = Skipped("gh")
    item = checked_issue(raw, source="gh", rules=RULES, skipped=skipped)
    assert item is not None and not skipped.found
    assert item.labels == ("billing", "wip") and item.state == "in_progress"


def test_a_github_event_of_the_wrong_shape_is_skipped_and_one_of_another_kind_is_not() -> None:
    issue = issue_payload("acme/web", 3, updated=T)
    skipped = Skipped("gh")
    bad = event_payload(11, "labeled", issue, at=T) | {"label": "wip"}
    assert checked_event(bad, source="gh", rules=RULES, skipped=skipped) is None
    assert skipped.names == ["event 11 of acme/web#3"]
    # Kinds goalsync does not keep are not read, so not checked; a deleted issue's event is
    # left out as before.
    other = event_payload(12, "mentioned", issue, at=T) | {"label": "anything"}
    gone = event_payload(13, "closed", issue, at=T) | {"issue": None}
    assert checked_event(other, source="gh", rules=RULES, skipped=skipped) is None
    assert checked_event(gone, source="gh", rules=RULES, skipped=skipped) is None
    assert len(skipped) == 1


JIRA_OK: dict[str, Any] = {
    "key": "PAY-1",
    "id": "10001",
    "fields": {
        "summary": "s",
        "status": {"name": "Done", "statusCategory": {"key": "done"}},
        "labels": ["a"],
        "customfield_10016": 3,
        "customfield_10014": "PAY-100",
    },
}


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("fields", "labels"), "billing", "fields.labels"),
        (("fields", "status"), "Done", "fields.status"),
        (("fields", "status", "statusCategory", "key"), 3, "statusCategory.key"),
        (("fields", "status", "statusCategory", "key"), "finished", "statusCategory.key"),
        (("fields", "components"), [{"name": 1}], "fields.components.0.name"),
        (("fields", "assignee"), "dana", "fields.assignee"),
        (("fields", "customfield_10016"), "5", "story points"),
        (("fields", "customfield_10016"), True, "story points"),
        (("fields", "customfield_10014"), 100, "Epic Link"),
        (("fields", "created"), "Tuesday", "Tuesday"),
        (("fields",), None, "fields"),
        (("key",), 12, "key"),
    ],
)
def test_a_jira_issue_of_the_wrong_shape_is_named(
    path: tuple[str, ...], value: Any, where: str
) -> None:
    from connectors.jira.parse import checked_issue as jira_checked

    raw = copy.deepcopy(JIRA_OK)
    target = raw
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    ids = FieldIds(points=("customfield_10016",), epic_link="customfield_10014")
    skipped = Skipped("jira")
    parsed = jira_checked(
        raw, source="jira", fields_ids=ids, rules=RULES.items, categories={}, skipped=skipped
    )
    assert parsed is None
    ((name, problem),) = skipped.found
    assert name == ("issue id 10001" if path == ("key",) else "PAY-1")
    assert where in problem


def test_the_run_tab_line_names_the_first_keys_and_counts_all() -> None:
    skipped = Skipped("gh")
    assert skipped.warning() is None
    for n in range(KEYS_SHOWN + 3):
        skipped.add(f"acme/web#{n}", "labels: input should be a valid list (got string)")
    warnings: list[str] = []
    skipped.report(warnings, where="export.json")
    (line,) = warnings
    assert line.startswith(f"export.json: {KEYS_SHOWN + 3} items skipped as malformed: acme/web#0")
    assert f"acme/web#{KEYS_SHOWN - 1} " in line and f"acme/web#{KEYS_SHOWN} " not in line
    assert line.endswith("; and 3 more (see the log)")


def test_data_center_paging_keeps_its_offsets_past_a_malformed_issue() -> None:
    """startAt counts entries: a skipped issue must still count, or the next page starts one
    early (read twice) or late (one missed)."""
    now = datetime.now(UTC).replace(microsecond=0)
    with FakeJira("dc", auth=Auth("bearer", secret="pat")) as fake:
        for n in range(1, 8):
            fake.add_issue(f"PAY-{n}", updated=now - timedelta(days=2, minutes=n))
        fake.issues["PAY-2"]["fields"]["labels"] = "x"
        fake.issues["PAY-5"]["fields"]["status"]["statusCategory"]["key"] = 2
        cfg = JiraSourceConfig.model_validate(
            {"type": "jira", "url": fake.url, "jql": "project = PAY"}
        )
        auth = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr("pat"))
        source = JiraSource("jira", cfg, auth, page_size=2, sleep=lambda s: None)
        result = source.fetch(PullContext(source="jira", run_started=now, tz=UTC))
    assert sorted(i.key for i in result.items) == ["PAY-1", "PAY-3", "PAY-4", "PAY-6", "PAY-7"]
    (line,) = [w for w in result.warnings if "malformed" in w]
    assert line.startswith("2 items skipped as malformed: PAY-2 (fields.labels")
    assert "PAY-5 (fields.status.statusCategory.key" in line


def test_a_sheets_reply_of_the_wrong_shape_fails_the_call() -> None:
    sheets = parse_sheets({"sheets": [{"properties": {"title": "Status"}}, {}]})
    assert [(s.sheet_id, s.title) for s in sheets] == [(0, "Status"), (0, "")]
    replies: list[Any] = [{}, {"sheets": {}}, {"sheets": [{"properties": {"title": 5}}]}, "<p>"]
    for reply in replies:
        with pytest.raises(FatalError, match=r"spreadsheets\.get answered something"):
            parse_sheets(reply)
    checked(VALUE_RANGE, {"values": [["a", 1, True, 2.5]]}, who="w", what="x")
    checked(VALUE_RANGE, {"range": "A1"}, who="w", what="x")  # an empty tab
    with pytest.raises(FatalError, match=r"values\.0"):
        checked(VALUE_RANGE, {"values": ["a,b"]}, who="source 'plan'", what="values.batchGet")
