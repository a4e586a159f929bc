"""Board exports read by a file source (`format: github_project`): the answers of the board
query (fetch.ITEMS_QUERY) as GitHub returns them, parsed by the same code as a live pull.

The file holds one answer (`{"data": {"repositoryOwner": {"projectV2": {...}}}}`) or a JSON
array of them, one per page. The board's owner and number come from the answer (`number` is
asked for; the owner is the `owner` object's `login` when the file has one, else the first
repository's owner); the status rules are the defaults (Status; Done; In Progress), the points
field is the file source's `points_field`. Save one with:

    gh api graphql -f query="$(cat query.graphql)" -F owner=acme -F number=7 > board.json
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.github_project.config import BoardRules
from connectors.github_project.fetch import items_of
from connectors.github_project.parse import checked_item
from sync.base.contracts import Export, PullContext, PullResult
from sync.base.errors import FatalError
from sync.base.shapes import Skipped


def read_project_export(data: object, export: Export, ctx: PullContext, out: PullResult) -> None:
    path = export.path
    answers = data if isinstance(data, list) else [data]
    rules = BoardRules(points_field=export.points_field, items=ctx.rules)
    skipped = Skipped(export.source)
    who = path.name
    for answer in answers:
        project = _project(answer, who)
        board = _board_name(project)
        for raw in items_of(project, who):
            item = checked_item(
                raw, source=export.source, board=board, rules=rules, skipped=skipped
            )
            if item is not None:
                out.items.append(item)
    skipped.report(out.warnings, where=path.name)


def _project(answer: Any, who: str) -> dict[str, Any]:
    shape = 'a GraphQL answer {"data": {"repositoryOwner": {"projectV2": {...}}}} (or an array)'
    data = answer.get("data") if isinstance(answer, Mapping) else None
    owner = data.get("repositoryOwner") if isinstance(data, Mapping) else None
    project = owner.get("projectV2") if isinstance(owner, Mapping) else None
    if not isinstance(project, dict):
        raise FatalError(f"{who}: expected {shape}")
    if isinstance(owner, Mapping) and isinstance(owner.get("login"), str):
        project = {**project, "_owner": owner["login"]}
    return project


def _board_name(project: Mapping[str, Any]) -> str:
    number = project.get("number")
    owner = project.get("_owner")
    if not isinstance(owner, str):
        for raw in (project.get("items") or {}).get("nodes") or []:
            repo = ((raw or {}).get("content") or {}).get("repository") or {}
            name = repo.get("nameWithOwner") if isinstance(repo, Mapping) else None
            if isinstance(name, str) and "/" in name:
                owner = name.split("/", 1)[0]
                break
    return f"{owner or 'unknown'}/project-{number if isinstance(number, int) else '?'}"
