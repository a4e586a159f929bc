"""Board items (nodes of `ProjectV2.items`, checked against shapes.Item) -> WorkItems. Pure.

- keys as the github source's: `owner/repo#N` for issues and pull requests, so that a key result
  selecting the same issue through both sources counts it once; a draft issue, which lives only
  on the board, is `owner/project-N#draft-<DraftIssue node id>`;
- archived items and redacted ones (the token cannot see their repository) are left out;
- state from the status field: a value in `done_values` is done, in `in_progress_values` in
  progress, any other value or none to do; but an issue closed as not planned (or as a
  duplicate, as the github source reads it) or a pull request closed unmerged is cancelled
  whatever its column;
- `fields["project_fields"]`: every board field value a select clause can filter on, as text
  (an option's name, an iteration's title, a text, a number); `fields["goal"]`: the
  `goal_field` value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.github_project.config import BoardRules
from connectors.github_project.shapes import ITEM
from sync.base.errors import FatalError
from sync.base.records import State, WorkItem
from sync.base.shapes import Skipped, parsed_or_skipped, problem_with

CANCELLED_REASONS = frozenset({"NOT_PLANNED", "DUPLICATE"})


def checked_item(
    raw: Any, *, source: str, board: str, rules: BoardRules, skipped: Skipped
) -> WorkItem | None:
    """The WorkItem of one board item; None for an archived or redacted one, and for one of the
    wrong shape (added to `skipped`, named)."""
    if isinstance(raw, Mapping) and (
        raw.get("isArchived") is True or raw.get("type") == "REDACTED"
    ):
        return None
    return parsed_or_skipped(
        problem_with(ITEM, raw),
        lambda: parse_item(raw, source=source, board=board, rules=rules),
        lambda: item_name(raw, board),
        skipped,
    )


def _left_out(raw: Mapping[str, Any]) -> bool:
    return raw.get("isArchived") is True or raw.get("type") == "REDACTED"


def item_name(raw: Any, board: str) -> str:
    """What names an item in a message, as far as its payload allows."""
    if not isinstance(raw, Mapping):
        return f"an item of {board} that is not an object ({type(raw).__name__})"
    content = raw.get("content")
    if isinstance(content, Mapping):
        repo = content.get("repository")
        number = content.get("number")
        if isinstance(repo, Mapping) and isinstance(repo.get("nameWithOwner"), str):
            return f"{repo['nameWithOwner']}#{str(number)[:40]}"
        if content.get("__typename") == "DraftIssue" and isinstance(content.get("id"), str):
            return f"{board}#draft-{content['id'][:80]}"
    item_id = raw.get("id")
    return f"item {str(item_id)[:80]} of {board}" if item_id else f"an item of {board} without id"


def parse_item(raw: Mapping[str, Any], *, source: str, board: str, rules: BoardRules) -> WorkItem:
    content = raw.get("content")
    if not isinstance(content, Mapping):  # an item whose content the token cannot read
        raise FatalError("content: missing (the item's issue is not readable with this token)")
    values = field_values(raw)
    status = values.get(_fold(rules.status_field), ("", ""))[1]
    kind_name = content["__typename"]
    closed_at = parse_time(content.get("closedAt"))
    merged_at = parse_time(content.get("mergedAt"))
    if kind_name == "DraftIssue":
        if not isinstance(content.get("id"), str):
            raise FatalError("content.id: missing (a draft issue is keyed by its node id)")
        key, kind, project, url = f"{board}#draft-{content['id']}", "task", board, None
        labels: tuple[str, ...] = ()
        assignee = None
        cancelled = False
    else:
        repo = content.get("repository")
        number = content.get("number")
        if repo is None or number is None:
            raise FatalError("content.repository / content.number: missing")
        project = repo["nameWithOwner"]
        key, kind = (
            f"{project}#{number}",
            ("pull_request" if kind_name == "PullRequest" else "issue"),
        )
        url = content.get("url")
        labels = tuple(n["name"] for n in ((content.get("labels") or {}).get("nodes") or []) if n)
        logins = [
            n.get("login") for n in ((content.get("assignees") or {}).get("nodes") or []) if n
        ]
        assignee = next((login for login in logins if login), None)
        if kind == "issue":
            cancelled = content.get("state") == "CLOSED" and (
                content.get("stateReason") in CANCELLED_REASONS
            )
        else:
            cancelled = content.get("prState") == "CLOSED"  # closed unmerged
    state = "cancelled" if cancelled else state_of(status, rules)
    points_text = values.get(_fold(rules.points_field or ""), ("", None))
    goal = values.get(_fold(rules.goal_field), ("", ""))[1] if rules.goal_field else ""
    extra: dict[str, Any] = {"project_fields": {name: text for name, text in values.values()}}
    if goal:
        extra["goal"] = goal
    return WorkItem(
        source=source,
        key=key,
        kind=kind,  # type: ignore[arg-type]  # "task", "issue" or "pull_request"
        title=str(content.get("title") or ""),
        url=url,
        status=status,
        state=state,
        blocked=state in ("todo", "in_progress")
        and (rules.items.is_blocked_status(status) or rules.items.has_blocked_label(labels)),
        assignee=assignee,
        labels=labels,
        project=project,
        points=_points(points_text[1]) if rules.points_field else None,
        created=parse_time(content.get("createdAt")),
        updated=_latest(parse_time(content.get("updatedAt")), parse_time(raw.get("updatedAt"))),
        done_at=(merged_at or closed_at) if state in ("done", "cancelled") else None,
        fields=extra,
    )


def state_of(status: str, rules: BoardRules) -> State:
    folded = _fold(status)
    if folded and folded in {_fold(v) for v in rules.done_values}:
        return "done"
    if folded and folded in {_fold(v) for v in rules.in_progress_values}:
        return "in_progress"
    return "todo"


def field_values(raw: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{folded field name: (field name, value as text)} of an item's board fields goalsync
    reads (single select, iteration, number, text); a value with no field name, or none set,
    is left out."""
    out: dict[str, tuple[str, str]] = {}
    for node in (raw.get("fieldValues") or {}).get("nodes") or []:
        if not node:
            continue
        named = node.get("field")
        name = named.get("name") if isinstance(named, Mapping) else None
        if not name:
            continue
        text = _value_text(node)
        if text is not None:
            out[_fold(name)] = (name, text)
    return out


def _value_text(node: Mapping[str, Any]) -> str | None:
    kind = node.get("__typename")
    if kind == "ProjectV2ItemFieldSingleSelectValue":
        return node.get("name")
    if kind == "ProjectV2ItemFieldIterationValue":
        return node.get("title")
    if kind == "ProjectV2ItemFieldTextValue":
        return node.get("text")
    if kind == "ProjectV2ItemFieldNumberValue":
        number = node.get("number")
        if number is None:
            return None
        return str(int(number)) if float(number).is_integer() else str(number)
    return None


def _nodes(connection: Any) -> list[Any]:
    return list((connection or {}).get("nodes") or [])


def _points(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FatalError(f"points field: {text[:40]!r} is not a number") from None


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else (a or b)


def parse_time(value: object) -> datetime | None:
    """GraphQL's DateTime (ISO 8601, `Z`) -> aware UTC; None when unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FatalError(f"a time that is not text: {type(value).__name__}")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FatalError(f"unreadable time {value[:40]!r}") from None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
