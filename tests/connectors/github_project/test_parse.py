"""Board items -> WorkItems: keys, states from columns, cancelled whatever the column, drafts,
archived and redacted items left out, field values as text, malformed items skipped and named."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.github_project.config import BoardRules
from connectors.github_project.parse import checked_item
from sync.base.records import WorkItem
from sync.base.shapes import Skipped
from tests.fakes.github_graphql import BoardItem, item_node

BOARD = "acme/project-7"
RULES = BoardRules(
    done_values=("Done", "Shipped"),
    in_progress_values=("In Progress", "Review"),
    points_field="Estimate",
    goal_field="Goal",
)


def parse(item: BoardItem | dict[str, Any], rules: BoardRules = RULES) -> WorkItem | None:
    raw = item_node(item) if isinstance(item, BoardItem) else item
    skipped = Skipped("board")
    out = checked_item(raw, source="board", board=BOARD, rules=rules, skipped=skipped)
    assert not skipped.found, skipped.found
    return out


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Done", "done"),
        ("shipped", "done"),  # case ignored
        ("In Progress", "in_progress"),
        (" review ", "in_progress"),
        ("Todo", "todo"),
        ("Backlog", "todo"),
        (None, "todo"),
    ],
)
def test_state_comes_from_the_status_column(status: str | None, state: str) -> None:
    item = parse(BoardItem(status=status, number=4))
    assert item is not None
    assert item.state == state
    assert item.status == (status or "")


def test_an_issue_closed_as_not_planned_is_cancelled_whatever_its_column() -> None:
    item = parse(BoardItem(status="Done", state="CLOSED", state_reason="NOT_PLANNED"))
    assert item is not None and item.state == "cancelled"
    completed = parse(BoardItem(status="In Progress", state="CLOSED", state_reason="COMPLETED"))
    assert completed is not None and completed.state == "in_progress"  # the column decides


def test_a_pull_request_closed_unmerged_is_cancelled_a_merged_one_follows_its_column() -> None:
    closed = parse(BoardItem(kind="PULL_REQUEST", number=9, status="Done", state="CLOSED"))
    assert closed is not None
    assert (closed.kind, closed.key, closed.state) == ("pull_request", "acme/web#9", "cancelled")
    merged = parse(BoardItem(kind="PULL_REQUEST", number=9, status="Done", state="MERGED"))
    assert merged is not None and merged.state == "done" and merged.done_at is not None


def test_keys_are_the_github_sources_and_fields_are_text() -> None:
    item = parse(
        BoardItem(
            repo="acme/api",
            number=42,
            status="In Progress",
            points=3.0,
            iteration="Sprint 12",
            team="Payments",
            goal="KR1.2",
            labels=("blocked",),
        )
    )
    assert item is not None
    assert (item.key, item.project, item.kind) == ("acme/api#42", "acme/api", "issue")
    assert item.points == 3.0
    assert item.blocked  # the blocked label, as everywhere
    assert item.fields["project_fields"] == {
        "Title": "",
        "Status": "In Progress",
        "Team": "Payments",
        "Estimate": "3",
        "Iteration": "Sprint 12",
        "Goal": "KR1.2",
    }
    assert item.fields["goal"] == "KR1.2"


def test_a_draft_is_keyed_by_its_draft_issue_node_id() -> None:
    item = parse(BoardItem(kind="DRAFT_ISSUE", node_id="PVTI_9", title="Sketch", status="Done"))
    assert item is not None
    assert item.key == "acme/project-7#draft-DI_PVTI_9"
    assert (item.kind, item.project, item.state, item.title) == (
        "task",
        BOARD,
        "done",
        "Sketch",
    )


def test_archived_and_redacted_items_are_left_out() -> None:
    assert parse(BoardItem(archived=True)) is None
    assert parse(BoardItem(kind="REDACTED")) is None


def test_a_malformed_item_is_skipped_and_named() -> None:
    skipped = Skipped("board")
    raw = item_node(BoardItem(repo="acme/web", number=5, malformed=True))
    assert checked_item(raw, source="board", board=BOARD, rules=RULES, skipped=skipped) is None
    assert skipped.names == ["acme/web#5"]
    assert "content.number" in skipped.found[0][1]


def test_a_points_value_of_the_wrong_type_is_malformed() -> None:
    raw = item_node(BoardItem(number=6, points=2.0))
    for node in raw["fieldValues"]["nodes"]:
        if node.get("field", {}).get("name") == "Estimate":
            node["number"] = "2"
    skipped = Skipped("board")
    assert checked_item(raw, source="board", board=BOARD, rules=RULES, skipped=skipped) is None
    assert skipped.names == ["acme/web#6"]


def test_without_goal_or_points_fields_none_are_read() -> None:
    item = parse(BoardItem(points=5.0, goal="KR1"), BoardRules())
    assert item is not None
    assert item.points is None and "goal" not in item.fields
