"""GitHub list payloads -> records. Pure: used by the live connector and by `github_issues` file
exports (a JSON array as `GET /repos/{o}/{r}/issues` returns it).

Everything comes from the list payload, never from a request per issue:
- the issues endpoint returns pull requests too; they carry a `pull_request` key, whose
  `merged_at` says whether a closed one was merged (done) or closed unmerged (cancelled);
- a closed issue with `state_reason` `not_planned` (or `duplicate`) is cancelled, else done;
- an open item is in progress when it carries an in-progress label, or an assignee when
  `assigned_means_started`; an open pull request is in progress; anything else open is todo;
- the repository is read from `repository_url`, the key is `owner/repo#number`.

The live connector also reads the repository's issue events stream (`/issues/events`: each event
embeds its issue, so no request per issue is needed), its milestones (`/milestones`) and, for an
`org:` scope, the organisation's repository list; their parsers are here too.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from connectors.github.shapes import ISSUE, ISSUE_EVENT, MILESTONE
from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import Event, EventKind, State, WorkItem
from sync.base.shapes import Skipped, parsed_or_skipped, problem_with

CANCELLED_REASONS = frozenset({"not_planned", "duplicate"})


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueRules:
    in_progress_labels: tuple[str, ...] = ("in progress", "in-progress", "wip")
    assigned_means_started: bool = False
    items: ItemRules = field(default_factory=ItemRules)


def checked_issue(raw: Any, *, source: str, rules: IssueRules, skipped: Skipped) -> WorkItem | None:
    """`parse_issue` of an entry whose shape is checked first (github_shapes.Issue); one of the
    wrong shape, or with an unreadable time, is added to `skipped` and gives None."""
    return parsed_or_skipped(
        problem_with(ISSUE, raw),
        lambda: parse_issue(raw, source=source, rules=rules),
        lambda: issue_name(raw),
        skipped,
    )


def issue_name(raw: Any) -> str:
    """What names an issue in a message, as far as its payload allows: `acme/web#42`."""
    if not isinstance(raw, Mapping):
        return f"an entry that is not an object ({type(raw).__name__})"
    repo = repo_of(raw)
    number = raw.get("number")
    if isinstance(number, int | str) and not isinstance(number, bool) and str(number):
        return f"{repo or '?'}#{str(number)[:40]}"
    url = raw.get("html_url")
    if isinstance(url, str) and url:
        return url[:200]
    return f"an issue of {repo} without a number" if repo else "an issue without number or repo"


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
        # A pull request is work in progress from the moment it is opened: its start is its
        # creation, which gives merged pull requests a cycle time without an event per PR.
        started=parse_time(raw.get("created_at")) if is_pr and state != "todo" else None,
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


# --- the repository's issue events stream ------------------------------------------------------

_EVENT_KINDS: dict[str, EventKind] = {
    "closed": "closed",
    "reopened": "reopened",
    "merged": "merged",
    "labeled": "labeled",
    "unlabeled": "unlabeled",
    "assigned": "assigned",
}


def parse_events(
    raws: Iterable[Mapping[str, Any]], *, source: str, rules: IssueRules
) -> list[Event]:
    """The events goalsync keeps (state changes, labels, assignments); the rest of the stream
    (mentioned, subscribed, referenced, ...) is skipped."""
    out: list[Event] = []
    for raw in raws:
        if not isinstance(raw, Mapping):
            raise FatalError(f"a GitHub issue event that is not an object: {str(raw)[:120]}")
        event = parse_event(raw, source=source, rules=rules)
        if event is not None:
            out.append(event)
    return out


def checked_event(
    raw: Mapping[str, Any], *, source: str, rules: IssueRules, skipped: Skipped
) -> Event | None:
    """`parse_event` of an event goalsync keeps, its shape checked first (github_shapes): one of
    the wrong shape, or with an unreadable time, is added to `skipped` and gives None. Events of
    other kinds are left out unchecked: nothing is read from them."""
    if str(raw.get("event")) not in _EVENT_KINDS:
        return None
    return parsed_or_skipped(
        problem_with(ISSUE_EVENT, raw),
        lambda: parse_event(raw, source=source, rules=rules),
        lambda: f"event {str(raw.get('id'))[:40]} of {issue_name(raw.get('issue'))}",
        skipped,
    )


def checked_own_event(
    raw: Mapping[str, Any], item: WorkItem, *, source: str, rules: IssueRules, skipped: Skipped
) -> Event | None:
    """`checked_event` of an entry of one issue's own events (`/issues/{n}/events`), which do not
    embed their issue: the item read from the issues list stands in for it."""
    with_issue = {**raw, "issue": embedded_issue(item)}
    return checked_event(with_issue, source=source, rules=rules, skipped=skipped)


def embedded_issue(item: WorkItem) -> dict[str, Any]:
    """What `parse_event` reads of an event's embedded issue, from the item `parse_issue` made."""
    repo, _, number = item.key.rpartition("#")
    closed = item.status in ("closed", "merged")
    issue: dict[str, Any] = {
        "number": int(number),
        "repository_url": f"/repos/{repo}",
        "state": "closed" if closed else "open",
        # an issue's done_at is its closed_at (a pull request's, its merge)
        "closed_at": _iso(item.done_at) if closed and item.done_at else None,
        "state_reason": item.fields.get("state_reason"),
    }
    if item.kind == "pull_request":
        merged = item.done_at if item.status == "merged" else None
        issue["pull_request"] = {"merged_at": _iso(merged) if merged else None}
    return issue


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_event(raw: Mapping[str, Any], *, source: str, rules: IssueRules) -> Event | None:
    """One entry of `GET /repos/{o}/{r}/issues/events`. Each embeds its issue as it is now (not
    as it was then), which is enough to name the item and, with care, to say what state an
    event moved it to: `from_state` / `to_state` are set only where the event itself says so."""
    kind = _EVENT_KINDS.get(str(raw.get("event")))
    issue = raw.get("issue")
    if kind is None or not isinstance(issue, Mapping):  # an event of a deleted issue has none
        return None
    number = issue.get("number")
    repo = repo_of(issue)
    at = parse_time(raw.get("created_at"))
    if not isinstance(number, int) or repo is None or at is None:
        return None
    pull = issue.get("pull_request")
    is_pr = isinstance(pull, Mapping)
    closed_at = parse_time(issue.get("closed_at"))
    # The embedded issue is today's: a label or an assignment after it was closed (closed_at is
    # cleared when an issue is reopened) does not move it to in progress.
    closed_then = issue.get("state") == "closed" and closed_at is not None and closed_at <= at
    to_value: str | None = None
    from_state: State | None = None
    to_state: State | None = None
    if kind == "closed":
        to_value = "closed"
        to_state = _closed_state(raw, issue, pull if is_pr else None, at, closed_at)
    elif kind == "merged":
        to_value, to_state = "merged", "done"
    elif kind == "reopened":
        to_value, to_state = "open", ("in_progress" if is_pr else "todo")
    elif kind in ("labeled", "unlabeled"):
        label = raw.get("label")
        to_value = str(label.get("name")) if isinstance(label, Mapping) else None
        wanted = {name.casefold() for name in rules.in_progress_labels}
        # An open pull request is in progress whatever its labels say.
        if to_value and to_value.casefold() in wanted and not is_pr and not closed_then:
            from_state, to_state = (
                ("todo", "in_progress") if kind == "labeled" else ("in_progress", "todo")
            )
    elif kind == "assigned":
        to_value = _login(raw.get("assignee"))
        if rules.assigned_means_started and not is_pr and not closed_then:
            from_state, to_state = "todo", "in_progress"
    return Event(
        source=source,
        item_key=f"{repo}#{number}",
        at=at,
        kind=kind,
        to_value=to_value,
        actor=_login(raw.get("actor")),
        from_state=from_state,
        to_state=to_state,
    )


def _closed_state(
    raw: Mapping[str, Any],
    issue: Mapping[str, Any],
    pull: Any,
    at: datetime,
    closed_at: datetime | None,
) -> State:
    if isinstance(pull, Mapping):
        return "done" if pull.get("merged_at") else "cancelled"
    # Newer servers put the reason on the event itself; otherwise the issue's current reason
    # belongs to this event only if this is the close that left it closed.
    if "state_reason" in raw:
        reason = raw.get("state_reason")
    elif issue.get("state") == "closed" and closed_at == at:
        reason = issue.get("state_reason")
    else:
        reason = None
    return "cancelled" if reason in CANCELLED_REASONS else "done"


# --- milestones ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    repo: str
    number: int
    title: str
    state: str
    due_on: datetime | None
    open_issues: int
    closed_issues: int


def parse_milestones(raws: Iterable[Mapping[str, Any]], *, repo: str) -> dict[str, Milestone]:
    """`GET /repos/{o}/{r}/milestones?state=all` -> milestones by title (unique in a repo)."""
    out: dict[str, Milestone] = {}
    for raw in raws:
        # Milestones are few and not items: one of the wrong shape fails the source (stale)
        # rather than let its items lose their due date and the milestone measure its counts.
        problem = problem_with(MILESTONE, raw)
        if problem is not None or not raw.get("title"):
            raise FatalError(
                f"a GitHub milestone of {repo} without number or title, or of the wrong shape "
                f"({problem or 'title: empty'}): {str(raw)[:120]}"
            )
        number, title = raw["number"], str(raw["title"])
        out[title] = Milestone(
            repo=repo,
            number=number,
            title=title,
            state=str(raw.get("state") or ""),
            due_on=parse_time(raw.get("due_on")),
            open_issues=_count(raw.get("open_issues")),
            closed_issues=_count(raw.get("closed_issues")),
        )
    return out


def to_item_with_milestone(item: WorkItem, milestones: Mapping[str, Milestone]) -> WorkItem:
    """The item with its milestone's current due date and counts (the list payload embeds the
    milestone too, but the milestones call is the fresher and the only one a run always makes)."""
    milestone = milestones.get(item.milestone) if item.milestone else None
    if milestone is None:
        return item
    extra = dict(item.fields)
    extra.update(
        milestone_number=milestone.number,
        milestone_state=milestone.state,
        milestone_open=milestone.open_issues,
        milestone_closed=milestone.closed_issues,
    )
    if milestone.due_on is not None:
        extra["milestone_due"] = milestone.due_on.isoformat().replace("+00:00", "Z")
    due = milestone.due_on.date() if milestone.due_on else item.due
    return dataclasses.replace(item, due=due, fields=extra)


# --- paging and repository lists ------------------------------------------------------------------


def parse_link_next(header: str | None) -> str | None:
    """The `rel="next"` URL of an RFC 8288 Link header, as GitHub sends it:
    `<https://api.github.com/repositories/1/issues?page=2>; rel="next", <...>; rel="last"`."""
    return parse_link_rel(header, "next")


def parse_link_rel(header: str | None, rel: str) -> str | None:
    """The URL of relation `rel` (next, last, ...) of an RFC 8288 Link header."""
    if not header:
        return None
    for part in header.split(","):
        target, _, params = part.partition(";")
        rels = {
            rel
            for param in params.split(";")
            if param.strip().lower().startswith("rel=")
            for rel in param.strip()[4:].strip('"').split()
        }
        target = target.strip()
        if rel in rels and target.startswith("<") and target.endswith(">"):
            return target[1:-1]
    return None


def parse_org_repos(
    raws: Iterable[Mapping[str, Any]], *, topics: Sequence[str], name_pattern: str | None
) -> tuple[list[str], list[str]]:
    """`GET /orgs/{org}/repos` -> (the repositories in scope as owner/name, why others were left
    out). `topics` keeps repositories with any of them; `name_pattern` is a shell-style pattern
    (`pay-*`) matched against the name without the owner, case ignored. Repositories with issues
    turned off are left out with a reason: their issues endpoint answers 410."""
    wanted = {t.casefold() for t in topics}
    chosen: list[str] = []
    skipped: list[str] = []
    for raw in raws:
        full_name = raw.get("full_name") if isinstance(raw, Mapping) else None
        if not isinstance(raw, Mapping) or not isinstance(full_name, str) or "/" not in full_name:
            raise FatalError(f"a GitHub repository without full_name: {str(raw)[:120]}")
        name = full_name.split("/", 1)[1]
        if name_pattern and not fnmatch.fnmatchcase(name.casefold(), name_pattern.casefold()):
            continue
        if wanted and not wanted & {str(t).casefold() for t in raw.get("topics") or ()}:
            continue
        if raw.get("has_issues") is False:
            skipped.append(f"{full_name}: issues are turned off in this repository")
            continue
        chosen.append(full_name)
    return chosen, skipped


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
