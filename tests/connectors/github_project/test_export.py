"""The board export format (`type: file`, `format: github_project`): the board query's GraphQL
answers as saved, one or an array of pages, read by the same parser as a live pull."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import connectors  # noqa: F401  (the registry hands the file source its export readers)
from connectors.files.source import FileSourceConfig
from sync.base.contracts import PullContext, PullResult
from sync.base.errors import FatalError
from tests.fakes.github_graphql import BoardItem, FakeGitHubGraphQL, make_board


def answers(items: list[BoardItem], page: int) -> list[dict[str, Any]]:
    fake = FakeGitHubGraphQL(items=items)  # not started: only its answers are used
    out, cursor = [], None
    while True:
        project = fake.items_page(page, cursor)
        out.append({"data": {"repositoryOwner": {"login": "acme", "projectV2": project}}})
        if not project["items"]["pageInfo"]["hasNextPage"]:
            return out
        cursor = project["items"]["pageInfo"]["endCursor"]


def read(tmp_path: Path, data: object, **config: Any) -> PullResult:
    (tmp_path / "board.json").write_text(json.dumps(data), encoding="utf-8")
    entry = {"type": "file", "path": "board.json", "format": "github_project"} | config
    source = FileSourceConfig.model_validate(entry).build("board", tmp_path)
    return source.fetch(PullContext(source="board", run_started=datetime.now(UTC), tz=UTC))


def test_pages_of_answers_are_read_as_a_live_pull_reads_them(tmp_path: Path) -> None:
    items = [
        *make_board(5),
        BoardItem(kind="DRAFT_ISSUE", status="Done", node_id="PVTI_x"),
        BoardItem(number=40, archived=True),
        BoardItem(number=41, malformed=True),
    ]
    result = read(tmp_path, answers(items, 3), points_field="Estimate")
    keys = [i.key for i in result.items]
    assert keys == [
        "acme/api#1",
        "acme/web#2",
        "acme/api#3",
        "acme/web#4",
        "acme/api#5",
        "acme/project-7#draft-DI_PVTI_x",
    ]
    assert [i.state for i in result.items[:3]] == ["todo", "in_progress", "done"]
    assert result.items[0].points == 1.0
    assert result.warnings == [
        "board.json: 1 item skipped as malformed: acme/web#41 (content.number: input should be "
        "a valid integer (got string))"
    ]


def test_one_answer_alone_is_read_too(tmp_path: Path) -> None:
    (answer,) = answers(make_board(2), 100)
    assert len(read(tmp_path, answer).items) == 2


@pytest.mark.parametrize("data", [[1, 2], {"issues": []}, {"data": {"repositoryOwner": None}}])
def test_a_file_of_another_shape_fails_naming_it(tmp_path: Path, data: object) -> None:
    with pytest.raises(FatalError, match=r"board\.json: expected a GraphQL answer"):
        read(tmp_path, data)
