"""Jira search payloads -> WorkItems and Events. Pure: used by the live connector and by
`jira_search` file exports, which have the same shape (`/rest/api/3/search/jql` responses).

Jira quirks handled here:
- state comes from `status.statusCategory.key` (new / indeterminate / done), never from status
  names, which every workflow names differently, nor from `resolutiondate`, which can be empty on
  done issues;
- dates look like `2026-10-05T09:12:33.000+0000` (no colon in the offset);
- story points live in a custom field whose id differs per site: `names` (expand=names) or
  `schema` (expand=schema) in the response tell which;
- the Flagged field is a list of options (`[{"value": "Impediment"}]`) when set;
- on Server / Data Center a story names its epic in the "Epic Link" custom field (a key), not in
  `parent`, which there is for sub-tasks only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from connectors.jira.shapes import ISSUE
from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import Event, State, WorkItem
from sync.base.shapes import Skipped, parsed_or_skipped, problem_with

CATEGORY_STATES: dict[str, State] = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
STORY_POINT_NAMES = ("Story Points", "Story point estimate")
STORY_POINT_SCHEMA = "com.pyxis.greenhopper.jira:jsw-story-points"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
# The fields goalsync reads: asking for these (not *all) keeps pages full and small.
BASE_FIELDS = (
    "summary",
    "status",
    "assignee",
    "labels",
    "components",
    "parent",
    "priority",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "duedate",
    "issuetype",
    "project",
)


@dataclass(frozen=True, slots=True)
class FieldIds:
    """Which custom fields hold story points (first set wins, per issue), the Flagged mark and
    (Data Center) the Epic Link."""

    points: tuple[str, ...] = ()
    flagged: str | None = None
    epic_link: str | None = None

    @property
    def extra(self) -> tuple[str, ...]:
        """The custom fields to ask a search for."""
        more = (self.flagged, self.epic_link)
        return tuple(dict.fromkeys([*self.points, *(f for f in more if f)]))


def find_field_ids(
    names: Mapping[str, str] | None = None,
    schema: Mapping[str, Mapping[str, Any]] | None = None,
    points_field: str = "auto",
) -> FieldIds:
    """Resolve `points_field: auto` (and the Flagged field) from a payload's names or schema,
    or from `/rest/api/3/field` rows turned into the same two maps."""
    names = names or {}
    schema = schema or {}
    by_name: dict[str, list[str]] = {}
    for fid, name in names.items():
        by_name.setdefault(name.casefold(), []).append(fid)
    if points_field != "auto":
        points: tuple[str, ...] = (points_field,)
    else:
        found = [
            fid
            for wanted in STORY_POINT_NAMES
            for fid in sorted(by_name.get(wanted.casefold(), []))
        ]
        found += sorted(fid for fid, s in schema.items() if s.get("custom") == STORY_POINT_SCHEMA)
        points = tuple(dict.fromkeys(found))
    flagged = sorted(by_name.get("flagged", []))
    epic = sorted(fid for fid, s in schema.items() if s.get("custom") == EPIC_LINK_SCHEMA)
    return FieldIds(
        points=points,
        flagged=flagged[0] if flagged else None,
        epic_link=epic[0] if epic else None,
    )


def check_issue(raw: Any, field_ids: FieldIds) -> str | None:
    """What is wrong with a search page's issue (jira_shapes.Issue, and the site's custom fields
    that hold story points and the Epic Link), or None when it has the shape parse_issue reads."""
    problem = problem_with(ISSUE, raw)
    if problem is not None:
        return problem
    fields = raw["fields"]
    for fid in field_ids.points:
        value = fields.get(fid)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"fields.{fid} (story points): a number expected (got {type(value).__name__})"
    link = fields.get(field_ids.epic_link) if field_ids.epic_link else None
    if link is not None and not isinstance(link, str):
        got = type(link).__name__
        return f"fields.{field_ids.epic_link} (Epic Link): an issue key expected (got {got})"
    return None


def issue_name(raw: Any) -> str:
    """What names an issue in a message, as far as its payload allows: `PAY-12`."""
    if not isinstance(raw, Mapping):
        return f"an entry that is not an object ({type(raw).__name__})"
    key, issue_id = raw.get("key"), raw.get("id")
    if isinstance(key, str) and key:
        return key[:60]
    if isinstance(issue_id, str | int) and not isinstance(issue_id, bool):
        return f"issue id {str(issue_id)[:40]}"
    return "an issue without key or id"


def checked_issue(
    raw: Any,
    *,
    source: str,
    fields_ids: FieldIds,
    rules: ItemRules,
    categories: Mapping[str, State],
    skipped: Skipped,
    checked: bool = False,
) -> tuple[WorkItem, list[Event]] | None:
    """`parse_issue` of an issue whose shape is checked first (`check_issue`, unless `checked`
    says the caller did); one of the wrong shape, or with an unreadable time or date, is added
    to `skipped` and gives None."""
    return parsed_or_skipped(
        None if checked else check_issue(raw, fields_ids),
        lambda: parse_issue(
            raw, source=source, fields_ids=fields_ids, rules=rules, categories=categories
        ),
        lambda: issue_name(raw),
        skipped,
    )


def status_categories(issues: Iterable[Mapping[str, Any]]) -> dict[str, State]:
    """Status name -> state, learnt from the issues' current statuses (of issues whose shape was
    checked). Changelogs carry status names only; this is how their transitions get a state."""
    out: dict[str, State] = {}
    for issue in issues:
        status = (issue.get("fields") or {}).get("status") or {}
        name = status.get("name")
        key = (status.get("statusCategory") or {}).get("key")
        if name and key in CATEGORY_STATES:
            out[name.casefold()] = CATEGORY_STATES[key]
    return out


def changelog_statuses(issues: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every status name (casefolded) the issues' changelogs move from or to."""
    names: set[str] = set()
    for issue in issues:
        changelog = issue.get("changelog")
        histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
        # Unchecked as yet (a cut-short changelog completed by another call): what is not an
        # object is passed over here and named by the shape check before the issue is parsed.
        for history in histories if isinstance(histories, list) else ():
            changes = history.get("items") if isinstance(history, Mapping) else None
            for change in changes if isinstance(changes, list) else ():
                if not isinstance(change, Mapping):
                    continue
                if change.get("field") == "status" or change.get("fieldId") == "status":
                    for name in (change.get("fromString"), change.get("toString")):
                        if name:
                            names.add(str(name).casefold())
    return names


def parse_issue(
    raw: Mapping[str, Any],
    *,
    source: str,
    fields_ids: FieldIds,
    rules: ItemRules,
    categories: Mapping[str, State],
) -> tuple[WorkItem, list[Event]]:
    """One issue of a search page (with its embedded changelog, if any)."""
    key = raw.get("key")
    fields = raw.get("fields")
    if not isinstance(key, str) or not isinstance(fields, Mapping):
        raise FatalError(f"a Jira issue without key or fields: {str(raw)[:120]}")
    status = fields.get("status") or {}
    status_name = str(status.get("name") or "")
    category = (status.get("statusCategory") or {}).get("key")
    state: State = CATEGORY_STATES.get(category or "", "todo")
    resolution = (fields.get("resolution") or {}).get("name")
    if state == "done" and rules.is_cancelled_resolution(resolution):
        state = "cancelled"
    labels = tuple(str(label) for label in fields.get("labels") or ())
    events = parse_changelog(source, key, raw.get("changelog"), categories)
    status_events = [e for e in events if e.kind == "status_changed"]
    started = next((e.at for e in status_events if e.to_state == "in_progress"), None)
    done_moves = [e.at for e in status_events if e.to_state == "done"]
    done_at = done_moves[-1] if done_moves else parse_time(fields.get("resolutiondate"))
    flagged = bool(fields_ids.flagged and fields.get(fields_ids.flagged))
    issuetype = fields.get("issuetype") or {}
    is_epic = issuetype.get("name") == "Epic" or issuetype.get("hierarchyLevel") == 1
    item = WorkItem(
        source=source,
        key=key,
        kind="epic" if is_epic else "issue",
        title=str(fields.get("summary") or ""),
        url=browse_url(raw.get("self"), key),
        status=status_name,
        state=state,
        blocked=state in ("todo", "in_progress")
        and (rules.is_blocked_status(status_name) or rules.has_blocked_label(labels) or flagged),
        assignee=_person(fields.get("assignee")),
        labels=labels,
        components=tuple(
            str(c.get("name")) for c in fields.get("components") or () if c.get("name")
        ),
        parent=(fields.get("parent") or {}).get("key") or _epic_link(fields, fields_ids.epic_link),
        project=(fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0],
        points=_points(fields, fields_ids.points),
        priority=(fields.get("priority") or {}).get("name"),
        created=parse_time(fields.get("created")),
        updated=parse_time(fields.get("updated")),
        started=started if state in ("in_progress", "done") else None,
        done_at=done_at if state in ("done", "cancelled") else None,
        due=_parse_date(fields.get("duedate")),
        fields={"resolution": resolution} if resolution else {},
    )
    return item, events


def parse_changelog(
    source: str,
    key: str,
    changelog: Mapping[str, Any] | None,
    categories: Mapping[str, State],
) -> list[Event]:
    """Status changes of one issue, oldest first (Jira lists histories newest first or oldest
    first depending on the endpoint: sort, never trust the order)."""
    if not changelog:
        return []
    return parse_histories(source, key, changelog.get("histories") or (), categories)


def parse_histories(
    source: str,
    key: str,
    histories: Sequence[Mapping[str, Any]],
    categories: Mapping[str, State],
) -> list[Event]:
    ordered: list[tuple[datetime, int, Event]] = []
    for history in histories:
        at = parse_time(history.get("created"))
        if at is None:
            continue
        actor = _person(history.get("author"))
        # Two changes in the same millisecond (a bulk transition) keep their order by history
        # id, which Jira hands out increasing.
        hid = str(history.get("id") or "")
        order = int(hid) if hid.isdigit() else 0
        for change in history.get("items") or ():
            if change.get("field") != "status" and change.get("fieldId") != "status":
                continue
            before, after = change.get("fromString"), change.get("toString")
            event = Event(
                source=source,
                item_key=key,
                at=at,
                kind="status_changed",
                from_value=before,
                to_value=after,
                actor=actor,
                from_state=categories.get(str(before).casefold()) if before else None,
                to_state=categories.get(str(after).casefold()) if after else None,
            )
            ordered.append((at, order, event))
    ordered.sort(key=lambda t: (t[0], t[1]))
    return [event for _, _, event in ordered]


def browse_url(self_url: Any, key: str) -> str | None:
    """`https://x.atlassian.net/rest/api/3/issue/10001` -> `https://x.atlassian.net/browse/KEY`."""
    if not isinstance(self_url, str) or "/rest/api/" not in self_url:
        return None
    return f"{self_url.split('/rest/api/', 1)[0]}/browse/{key}"


_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_time(value: Any) -> datetime | None:
    """Jira's `2026-10-05T09:12:33.000+0000` (and any ISO 8601 with an offset) -> UTC. Epoch
    numbers are read too (seconds, or milliseconds when that large): the changelog bulkfetch
    endpoint is documented with them."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value:
        return None
    text = _OFFSET.sub(r"\1:\2", value.strip().replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise FatalError(f"unreadable Jira time {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise FatalError(f"unreadable Jira date {value!r}") from exc


def _epic_link(fields: Mapping[str, Any], field_id: str | None) -> str | None:
    value = fields.get(field_id) if field_id else None
    return value if isinstance(value, str) and value else None


def _person(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    name = value.get("displayName") or value.get("name") or value.get("emailAddress")
    return str(name) if name else None


def _points(fields: Mapping[str, Any], candidates: Sequence[str]) -> float | None:
    for fid in candidates:
        value = fields.get(fid)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None
