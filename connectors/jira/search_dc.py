"""Jira Server / Data Center search: `GET /rest/api/2/search`, paged by `startAt`.

Data Center refuses offsets past 10,000 results, so a larger result is read in `updated` windows
that tile the scope exactly (adjacent windows share a bound: `>= a` and `< a`) and each stay
under the limit; a window's pages after its first may be read concurrently, their offsets known
from its `total`. Also `fetch_keys`, for either flavour (see its section).

Separate from `search` (JQL composition, Cloud's search, the changelog fetches) so that each
module stays under the project's size and holds one API flavour's paging.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

import structlog

from connectors.jira.client import JiraHttp
from connectors.jira.parse import parse_time
from connectors.jira.search import (
    Keep,
    Query,
    fetch_cloud_search,
    jql_time,
    page_endpoint,
    page_issues,
)
from sync.base.contracts import ProgressCallback, no_progress
from sync.base.errors import FatalError
from sync.base.paging import Pages, read_concurrently

log = structlog.get_logger(__name__)

DC_WINDOW_LIMIT = 10_000  # Data Center refuses startAt paging past this many results


def fetch_dc_search(
    http: JiraHttp,
    query: Query,
    *,
    fields: Sequence[str],
    expand: str | None,
    page_size: int,
    zone: tzinfo,
    until: datetime,
    window_limit: int = DC_WINDOW_LIMIT,
    progress: ProgressCallback = no_progress,
    keep: Keep | None = None,
    concurrency: int = 1,
) -> list[Any]:
    """All issues of `query`, in `updated` windows of at most `window_limit` results each, as
    `keep` makes each page into what is kept (one entry per issue: offsets count entries), or
    raw. With `concurrency` above 1, a window's pages after its first (whose `total` tells
    every startAt) are read that many at once."""

    def first_page(q: Query) -> Mapping[str, Any]:
        return http.search_dc(
            q.render(), fields=fields, expand=expand, max_results=page_size, start_at=0
        )

    def rest(q: Query, first: Mapping[str, Any]) -> list[Any]:
        stride = len(page_issues(first))  # what a page holds here (Jira may cap page_size)
        offsets = list(range(stride, min(_total(first), window_limit), stride)) if stride else []
        if concurrency > 1 and len(offsets) >= 2:
            return at_offsets(q, first, offsets)
        issues: list[Any] = []
        ended = False  # a page came back empty before `total` (issues left the scope)

        def fetch(start_at: int | None) -> Mapping[str, Any]:
            if start_at is None:
                return first  # asked already: its total decided the windows
            return http.search_dc(
                q.render(), fields=fields, expand=expand, max_results=page_size, start_at=start_at
            )

        def following(page: Mapping[str, Any]) -> int | None:
            more = not ended and len(issues) < min(_total(page), window_limit)
            return len(issues) if more else None

        pages = Pages(
            fetch,
            following,
            endpoint=page_endpoint(http, repr(q.render()), marker="startAt"),
            count=lambda page: len(page_issues(page)),
            progress=progress,
        )
        for page in pages:
            batch = page_issues(page)
            ended = not batch
            issues.extend(keep(batch) if keep else batch)
        return issues

    def at_offsets(q: Query, first: Mapping[str, Any], offsets: list[int]) -> list[Any]:
        # `total` is known: every page's startAt is, so they are read at once, in key order as
        # the chain reads them (an issue leaving the scope meanwhile shifts later offsets as it
        # shifts the chain's); kept in offset order whatever order they arrive in.
        jql = q.render()

        def one(start_at: int) -> Callable[[], list[Mapping[str, Any]]]:
            return lambda: [
                http.search_dc(
                    jql, fields=fields, expand=expand, max_results=page_size, start_at=start_at
                )
            ]

        batch = page_issues(first)
        parts: list[list[Any]] = [keep(batch) if keep else batch]
        progress(1, len(batch))
        parts += [[] for _ in offsets]
        for index, page in read_concurrently([one(o) for o in offsets], concurrency=concurrency):
            batch = page_issues(page)
            parts[index + 1] = keep(batch) if keep else batch
            progress(1, len(batch))
        return [entry for part in parts for entry in part]

    def window(
        q: Query, low: datetime, high: datetime, page: Mapping[str, Any] | None = None
    ) -> list[Any]:
        if page is None:
            page = first_page(q)
        if _total(page) <= window_limit:
            return rest(q, page)
        if high - low < timedelta(minutes=2):  # JQL dates stop at minutes: cannot cut finer
            raise FatalError(
                f"source {http.source!r}: {_total(page)} issues were updated within one minute "
                f"in {q.render()!r}, more than Data Center pages ({window_limit})"
            )
        middle = (low + (high - low) / 2).replace(second=0, microsecond=0)
        cut = jql_time(middle, zone)
        log.info("jira_dc_slice", source=http.source, total=_total(page), at=cut)
        return window(replace(q, window_to=cut), low, middle) + window(
            replace(q, window_from=cut), middle, high
        )

    page = first_page(query)
    if _total(page) <= window_limit:
        return rest(query, page)
    low = _earliest_update(http, query) or until
    return window(query, low, max(until, low) + timedelta(minutes=1), page)


def _earliest_update(http: JiraHttp, query: Query) -> datetime | None:
    probe = replace(query, order="updated ASC")
    page = http.search_dc(
        probe.render(), fields=["updated"], expand=None, max_results=1, start_at=0
    )
    for issue in page_issues(page):
        fields = issue.get("fields")
        return parse_time(fields.get("updated")) if isinstance(fields, Mapping) else None
    return None


def _total(page: Mapping[str, Any]) -> int:
    total = page.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    raise FatalError("a Jira Data Center search page without a total")


# --- keys, either flavour -----------------------------------------------------------------------
# Here rather than in `search`: it needs both flavours' searches, and this module already builds
# on `search` (the other way round would be an import cycle).


def fetch_keys(
    http: JiraHttp,
    query: Query,
    *,
    page_size: int,
    zone: tzinfo,
    until: datetime,
    window_limit: int = DC_WINDOW_LIMIT,
) -> frozenset[str]:
    """The keys a search matches, fetching keys only (the most a page can hold)."""
    if http.cloud:
        issues = fetch_cloud_search(
            http, query.render(), fields=["key"], expand=None, page_size=page_size
        )
    else:
        issues = fetch_dc_search(
            http,
            query,
            fields=["key"],
            expand=None,
            page_size=page_size,
            zone=zone,
            until=until,
            window_limit=window_limit,
        )
    return frozenset(str(i["key"]) for i in issues if isinstance(i.get("key"), str))
