"""Jira search exports read by a file source (`format: jira_search`): the same payloads a live
search returns, parsed by the same code, so an offline export and a live pull agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.jira import parse as jira_parse
from sync.base.contracts import Export, PullContext, PullResult
from sync.base.errors import FatalError
from sync.base.paging import dedupe_by_key
from sync.base.records import Event, WorkItem
from sync.base.shapes import Skipped


def read_search_export(data: object, export: Export, ctx: PullContext, out: PullResult) -> None:
    """A `jira_search` file: a search response object, or a list of them (the pages)."""
    path = export.path
    pages = data if isinstance(data, list) else [data]
    issues: list[Mapping[str, Any]] = []
    names: dict[str, str] = {}
    schema: dict[str, Any] = {}
    for n, page in enumerate(pages):
        if not isinstance(page, Mapping) or not isinstance(page.get("issues"), list):
            raise FatalError(
                f"{path}: page {n} is not a Jira search response (an object with an 'issues' "
                "list, as /rest/api/3/search/jql returns)"
            )
        if not all(isinstance(i, Mapping) for i in page["issues"]):
            raise FatalError(f"{path}: page {n} has 'issues' entries that are not objects")
        issues.extend(page["issues"])
        names.update(page.get("names") or {})
        schema.update(page.get("schema") or {})
    field_ids = jira_parse.find_field_ids(names, schema, export.points_field or "auto")
    if not field_ids.points:
        out.warnings.append(
            f"{path}: no story points field found (export with expand=names, or set "
            "points_field); points are unknown"
        )
    # Shapes first: statuses are learnt only from issues of the right shape; the others are
    # skipped and named.
    skipped = Skipped(export.source)
    good: list[Mapping[str, Any]] = []
    for raw in issues:
        problem = jira_parse.check_issue(raw, field_ids)
        if problem is None:
            good.append(raw)
        else:
            skipped.add(jira_parse.issue_name(raw), problem)
    categories = jira_parse.status_categories(good)
    # Pages of one export can overlap (an issue updated while paging moves to a later page):
    # the key is the identity, and the later copy is the newer one.
    parsed: list[tuple[WorkItem, list[Event]]] = []
    for raw in good:
        one = jira_parse.checked_issue(
            raw,
            source=export.source,
            fields_ids=field_ids,
            rules=ctx.rules,
            categories=categories,
            skipped=skipped,
            checked=True,
        )
        if one is None:
            continue
        parsed.append(one)
        out.has_history = out.has_history or "changelog" in raw
    for item, events in dedupe_by_key(parsed, key=lambda one: one[0].key):
        out.items.append(item)
        out.events.extend(events)
    skipped.report(out.warnings, where=path.name)
