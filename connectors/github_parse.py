"""GitHub issue list payloads -> WorkItems. Pure: used by the live connector and by
`github_issues` file exports (a JSON array as `GET /repos/{o}/{r}/issues` returns it).

Everything comes from the list payload, never from a request per issue:
- the issues endpoint returns pull requests too; they carry a `pull_request` key, whose
  `merged_at` says whether a closed one was merged (done) or closed unmerged (cancelled);
- a closed issue with `state_reason` `not_planned` (or `duplicate`) is cancelled, else done;
- an open item is in progress when it carries an in-progress label, or an assignee when
  `assigned_means_started`; an open pull request is in progress; anything else open is todo;
- the repository is read from `repository_url`, the key is `owner/repo#number`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sync.contracts import ItemRules
from sync.errors import FatalError
from sync.records import State, WorkItem

CANCELLED_REASONS = frozenset({"not_planned", "duplicate"})


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueRules:
    in_progress_labels: tuple[str, ...] = ("in progress", "in-progress", "wip")
    assigned_means_started: bool = False
    items: ItemRules = field(default_factory=ItemRules)


def parse_issue(raw: Mapping[str, Any], *, source: str, rules: IssueRules) -> WorkItem:
    number = raw.get("number")
    repo = repo_of(raw)
    if not isinstance(number, int) or repo is None:
        raise FatalError(f"a GitHub issue without number or repository_url: {str(raw)[:120]}")
    pull = raw.get("pull_request")
    is_pr = isinstance(pull, Mapping)
    labels = tuple(
        str(label.get("name")) if isinstance(label, Mapping) else str(label)
        for label in raw.get("labels") or ()
    )
    assignee = _login(raw.get("assignee")) or next(
        (_login(a) for a in raw.get("assignees") or () if _login(a)), None
    )
    closed = raw.get("state") == "closed"
    merged_at = parse_time(pull.get("merged_at")) if is_pr and isinstance(pull, Mapping) else None
    state = _state(
        raw,
        is_pr=is_pr,
        merged=merged_at is not None,
        labels=labels,
        assignee=assignee,
        rules=rules,
    )
    closed_at = parse_time(raw.get("closed_at"))
    status = "merged" if merged_at else ("closed" if closed else "open")
    milestone = raw.get("milestone") if isinstance(raw.get("milestone"), Mapping) else None
    extra: dict[str, Any] = {"number": number}
    if raw.get("state_reason"):
        extra["state_reason"] = raw["state_reason"]
    if milestone and milestone.get("due_on"):
        extra["milestone_due"] = milestone["due_on"]
    return WorkItem(
        source=source,
        key=f"{repo}#{number}",
        kind="pull_request" if is_pr else "issue",
        title=str(raw.get("title") or ""),
        url=raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
        status=status,
        state=state,
        blocked=state in ("todo", "in_progress") and rules.items.has_blocked_label(labels),
        assignee=assignee,
        labels=labels,
        milestone=str(milestone.get("title")) if milestone and milestone.get("title") else None,
        project=repo,
        created=parse_time(raw.get("created_at")),
        updated=parse_time(raw.get("updated_at")),
        done_at=(merged_at or closed_at) if state == "done" else (closed_at if closed else None),
        due=_milestone_due(milestone),
        fields=extra,
    )


def repo_of(raw: Mapping[str, Any]) -> str | None:
    """`https://api.github.com/repos/acme/web` (or a GHE `/api/v3/repos/...`) -> `acme/web`."""
    url = raw.get("repository_url")
    if not isinstance(url, str) or "/repos/" not in url:
        return None
    owner_repo = url.split("/repos/", 1)[1].strip("/")
    return owner_repo if owner_repo.count("/") == 1 else None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise FatalError(f"unreadable GitHub time {value!r}") from exc


def _state(
    raw: Mapping[str, Any],
    *,
    is_pr: bool,
    merged: bool,
    labels: Sequence[str],
    assignee: str | None,
    rules: IssueRules,
) -> State:
    if raw.get("state") == "closed":
        if is_pr:
            return "done" if merged else "cancelled"
        return "cancelled" if raw.get("state_reason") in CANCELLED_REASONS else "done"
    wanted = {label.casefold() for label in rules.in_progress_labels}
    if is_pr or any(label.casefold() in wanted for label in labels):
        return "in_progress"
    if rules.assigned_means_started and assignee:
        return "in_progress"
    return "todo"


def _milestone_due(milestone: Mapping[str, Any] | None) -> date | None:
    """Items in a milestone are due when it is (GitHub issues have no due date of their own)."""
    due = parse_time(milestone.get("due_on")) if milestone else None
    return due.date() if due else None


def _login(user: Any) -> str | None:
    if isinstance(user, Mapping) and user.get("login"):
        return str(user["login"])
    return None
