"""JQL composition, the pieces both Jira API flavours' searches share, and Cloud's search.

- Cloud: `GET /rest/api/3/search/jql`, paged by `nextPageToken` until it is absent. The library's
  own `maxResults=0` loop trusts the token blindly; a server answering the same token twice would
  loop for ever, so goalsync pages itself and refuses a repeated token. (The old `/search`
  answers 410 on Cloud, and the library's `search_issues(startAt>0)` raises there: not used.)
- Server / Data Center: `GET /rest/api/2/search` with `startAt`, in `search_dc` (its 10,000-result
  limit and the `updated` windows that keep each part under it), with `fetch_keys`, which needs
  both flavours' searches.
- JQL dates have no zone: Jira reads them in the searching user's time zone (the profile's, else
  the server's default), so cursors are written in that zone, never in UTC.
- Changelogs: the one embedded in a search page is cut short on busy issues (`total` > the
  histories returned); the rest comes from `POST /rest/api/3/changelog/bulkfetch` on Cloud (up to
  1,000 issues a call, status changes only), never a request per issue there; Data Center has no
  bulk endpoint, so one `GET issue/{key}?expand=changelog` per cut-short issue.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from connectors.jira.client import JiraHttp, quote_key
from connectors.jira.parse import parse_time
from sync.base.contracts import ProgressCallback, no_progress
from sync.base.errors import FatalError, RetriableError
from sync.base.paging import Endpoint, Pages, read_concurrently

log = structlog.get_logger(__name__)

# A complete Cloud pull of at least this many pages is read in `created` slices, concurrently:
# below it the probe (one request more than the count every complete pull asks) and the slices'
# part pages cost more than the chain's round trips save.
SLICE_MIN_PAGES = 10
# Slices read at once. Jira Cloud limits by cost per time, not connections: a few concurrent
# searches cost what the chain's would, just sooner, and a 429 is retried (Retry-After) by
# the one retry layer. More slices than readers: a thin slice frees its reader for the next.
SLICE_CONCURRENCY = 4
SLICES_PER_READER = 2
BULK_CHANGELOG_ISSUES = 1_000  # /changelog/bulkfetch takes at most this many issues a call
# What a search keeps of each page, as it comes: one entry per issue, in order (the live source
# parses pages as they arrive; without it the raw issues are kept).
Keep = Callable[[list[Mapping[str, Any]]], list[Any]]
# Offset paging (startAt) shifts when an issue moves inside the order while pages are read; an
# issue edited mid-run moves in `updated` order but never in `key` order, so Data Center pages
# in key order and nothing is skipped. Cloud's nextPageToken is opaque: were it an offset too, an
# issue edited on a page already read would move to the end in `updated` order and push the
# next page's first issue onto the read page, missed (dropped from a complete pull's snapshot
# until the next reconcile). In key order that cannot happen whatever the token is; the edit
# itself is read by the next run (the cursor is this run's start, before the edit).
KEY_ORDER = "key ASC"
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Query:
    """`(<scope>) AND (<clause>) AND updated >= "<since>" ... ORDER BY <order>`."""

    scope: str
    order: str
    clause: str | None = None
    since: str | None = None
    window_from: str | None = None
    window_to: str | None = None
    created_from: str | None = None  # a slice of a Cloud scope (fetch_cloud_sliced)
    created_to: str | None = None

    def render(self) -> str:
        parts = [f"({strip_order_by(self.scope)})"]
        if self.clause:
            parts.append(f"({strip_order_by(self.clause)})")
        if self.since:
            parts.append(f'updated >= "{self.since}"')
        if self.window_from:
            parts.append(f'updated >= "{self.window_from}"')
        if self.window_to:
            parts.append(f'updated < "{self.window_to}"')
        if self.created_from:
            parts.append(f'created >= "{self.created_from}"')
        if self.created_to:
            parts.append(f'created < "{self.created_to}"')
        return f"{' AND '.join(parts)} ORDER BY {self.order}"


def strip_order_by(jql: str) -> str:
    """The JQL without a trailing ORDER BY (outside quotes): `(… ORDER BY rank) AND …` is not
    valid JQL, and goalsync sets the order itself."""
    cut = len(jql)
    for match in _ORDER_BY.finditer(jql):
        before = jql[: match.start()]
        if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
            cut = match.start()
            break
    return jql[:cut].strip()


def site_zone(name: str) -> tzinfo:
    """The zone Jira reads JQL dates in: an IANA name from /myself or serverInfo, or an offset
    such as `+0100` taken from serverInfo's serverTime."""
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return timezone(sign * timedelta(minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("jira_unknown_time_zone", zone=name, effect="JQL dates written in UTC")
        return UTC


def relative_since(since: datetime, now: datetime) -> str:
    """`-<minutes>m`: the incremental bound as a relative JQL date. Jira reads absolute JQL dates
    in the searching user's time zone, which a token may not reveal (a scoped token cannot read
    /myself, an anonymous search has no user); "N minutes ago" means the same in every zone.
    Rounded up, so the window reaches back at least to `since`."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    return f"-{minutes}m"


def jql_time(at: datetime, zone: tzinfo) -> str:
    """A JQL date literal: minutes in the searching user's zone, seconds dropped (rounding down
    keeps every issue at or after `at`)."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# --- Cloud ------------------------------------------------------------------------------------


def fetch_cloud_search(
    http: JiraHttp,
    jql: str,
    *,
    fields: Sequence[str],
    expand: str | None,
    page_size: int,
    progress: ProgressCallback = no_progress,
    keep: Keep | None = None,
) -> list[Any]:
    """Every issue of `jql`, as `keep` makes each page into what is kept (one entry per issue),
    or raw."""
    issues: list[Any] = []

    def fetch(token: str | None) -> Mapping[str, Any]:
        return _cloud_page(http, jql, fields, expand, page_size, token)

    pages = Pages(
        fetch,
        _following,
        endpoint=page_endpoint(http, repr(jql)),
        count=lambda page: len(page_issues(page)),
        progress=progress,
    )
    for page in pages:
        batch = page_issues(page)
        issues.extend(keep(batch) if keep else batch)
    return issues


def fetch_cloud_sliced(
    http: JiraHttp,
    query: Query,
    *,
    fields: Sequence[str],
    expand: str | None,
    page_size: int,
    zone: tzinfo,
    until: datetime,
    progress: ProgressCallback = no_progress,
    keep: Keep | None = None,
    min_pages: int = SLICE_MIN_PAGES,
    concurrency: int = SLICE_CONCURRENCY,
) -> list[Any]:
    """Every issue of `query`, as fetch_cloud_search, but a scope of `min_pages` or more is cut
    into `created` ranges read concurrently, each slice's own chain in key order as before.

    Cost: the scope's approximate count is asked first (no issues in its answer); a scope under
    `min_pages` is then read as one chain, a larger one asks for its earliest `created` (a
    one-issue probe) and is read in slices. At most the minimum, plus one part page per slice,
    plus those two. The first page is not asked before the size is known: at 20,000 issues it
    was the slowest of three round trips before the slices, and was read again in its slice.

    The ranges tile the scope exactly: adjacent slices share one bound literal (`created < "b"`,
    `created >= "b"`), the first has no lower bound and the last no upper one, so an issue falls
    in exactly one slice whatever zone Jira reads the literals in (a wrong zone only unbalances
    them), whatever it is edited to while slices are read (`created` never changes), and an
    issue created meanwhile is in the last slice or the next run's window. Issues created in the
    same minute as a bound all fall on one side of it. The result is slice after slice: the same
    whatever order the pages arrive in. The count is an estimate: a low one only means one
    chain, which reads whatever is there."""
    jql = query.render()
    try:
        count = http.approximate_count(strip_order_by(jql))
    except (RetriableError, FatalError) as exc:
        # The count only chooses between one chain and slices: without it the scope is read as
        # one chain. A JQL it rejects (ConfigError) or refused credentials (AuthError) would
        # fail the search too: those go up.
        log.warning(
            "jira_count_unavailable", source=http.source, error=str(exc), effect="one chain"
        )
        count = None
    pages = math.ceil((count or 0) / page_size)
    bounds = _created_bounds(http, query, pages, zone, until, min_pages, concurrency)
    if not bounds:  # one chain from the first page
        return fetch_cloud_search(
            http,
            jql,
            fields=fields,
            expand=expand,
            page_size=page_size,
            progress=progress,
            keep=keep,
        )
    edges: list[str | None] = [None, *bounds, None]
    slices = [
        replace(query, created_from=low, created_to=high) for low, high in itertools.pairwise(edges)
    ]
    log.info("jira_cloud_slices", source=http.source, estimate=count, slices=len(slices))

    def chain(q: Query) -> Callable[[], Pages[str, Mapping[str, Any]]]:
        sliced = q.render()
        return lambda: Pages(
            lambda token: _cloud_page(http, sliced, fields, expand, page_size, token),
            _following,
            endpoint=page_endpoint(http, repr(sliced)),
        )

    kept: list[list[Any]] = [[] for _ in slices]
    for index, page in read_concurrently([chain(q) for q in slices], concurrency=concurrency):
        batch = page_issues(page)
        kept[index].extend(keep(batch) if keep else batch)
        progress(1, len(batch))
    return [entry for part in kept for entry in part]


def _created_bounds(
    http: JiraHttp,
    query: Query,
    pages: int,
    zone: tzinfo,
    until: datetime,
    min_pages: int,
    concurrency: int,
) -> list[str]:
    """The inner bounds of the `created` slices (ascending minute literals in `zone`), none when
    the scope is too small to pay. Equal stretches of time from the earliest `created` (one
    probe) to `until`: issues are created at a fairly steady pace, and spare slices (more than
    readers) even out the rest."""
    if pages < max(2, min_pages):
        return []
    wanted = min(concurrency * SLICES_PER_READER, max(2, pages // max(1, min_pages // 2)))
    probe = replace(query, order="created ASC")
    first = _cloud_page(http, probe.render(), ["created"], None, 1, None)
    earliest: datetime | None = None
    for issue in page_issues(first):
        fields = issue.get("fields")
        earliest = parse_time(fields.get("created")) if isinstance(fields, Mapping) else None
    if earliest is None or earliest >= until:
        return []
    step = (until - earliest) / wanted
    # Minute literals sort as text; a stretch of fewer minutes than slices gives fewer slices.
    return sorted({jql_time(earliest + step * n, zone) for n in range(1, wanted)})


def _cloud_page(
    http: JiraHttp,
    jql: str,
    fields: Sequence[str],
    expand: str | None,
    page_size: int,
    token: str | None,
) -> Mapping[str, Any]:
    return http.search_cloud(jql, fields=fields, expand=expand, max_results=page_size, token=token)


def _following(page: Mapping[str, Any]) -> str | None:
    return None if page.get("isLast") is True else next_page_token(page)


# --- both ---------------------------------------------------------------------------------------


def next_page_token(page: Mapping[str, Any]) -> str | None:
    """The token of the next page (Cloud's search and bulkfetch), None on the last."""
    token = page.get("nextPageToken")
    if not token:
        return None
    if not isinstance(token, str):
        raise FatalError(f"a Jira page whose nextPageToken is not text: {token!r}"[:200])
    return token


def page_endpoint(http: JiraHttp, name: str, marker: str = "nextPageToken") -> Endpoint:
    """What a page loop's errors name (Cloud's loops here, Data Center's in search_dc)."""
    return Endpoint(f"source {http.source!r}", "Jira", name, marker)


def page_issues(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A search page's issues. A page of the wrong shape (no `issues` list, or entries that are
    not objects) fails the source; an issue object of the wrong shape is the parser's to name
    and skip."""
    issues = page.get("issues") if isinstance(page, Mapping) else None
    if not isinstance(issues, list):
        raise FatalError(
            "a Jira search page without an 'issues' list (got "
            f"{type(page).__name__}{' without one' if isinstance(page, Mapping) else ''})"
        )
    if not all(isinstance(i, Mapping) for i in issues):
        raise FatalError("a Jira search page whose 'issues' are not all objects")
    return issues


# --- changelogs -------------------------------------------------------------------------------


def is_cut_short(issue: Mapping[str, Any]) -> bool:
    """The embedded changelog holds only the latest histories when `total` says there are more."""
    changelog = issue.get("changelog")
    if not isinstance(changelog, Mapping):
        return False
    histories = changelog.get("histories") or []
    total = changelog.get("total")
    return isinstance(total, int) and total > len(histories)


def fetch_bulk_changelogs(
    http: JiraHttp, issue_ids: Sequence[str], *, batch: int = BULK_CHANGELOG_ISSUES
) -> dict[str, list[Mapping[str, Any]]]:
    """Issue id -> its status histories, up to `batch` issues a call (Cloud only)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for chunk in _chunks(issue_ids, batch):

        def fetch(token: str | None, chunk: Sequence[str] = chunk) -> Mapping[str, Any]:
            body: dict[str, Any] = {
                "issueIdsOrKeys": list(chunk),
                "fieldIds": ["status"],
                "maxResults": 1000,
            }
            if token:
                body["nextPageToken"] = token
            page = http.post("changelog/bulkfetch", body, what="changelog bulkfetch")
            if not isinstance(page, Mapping):
                raise FatalError("a Jira changelog bulkfetch answer that is not an object")
            return page

        for page in Pages(
            fetch, next_page_token, endpoint=page_endpoint(http, "changelog bulkfetch")
        ):
            for entry in page.get("issueChangeLogs") or ():
                if isinstance(entry, Mapping) and entry.get("issueId") is not None:
                    histories = [h for h in entry.get("changeHistories") or () if h]
                    out.setdefault(str(entry["issueId"]), []).extend(histories)
    return out


def fetch_issue_changelog(http: JiraHttp, key: str) -> list[Mapping[str, Any]]:
    """One issue's whole changelog (Data Center, where the issue resource returns all of it)."""
    data = http.get(
        f"issue/{quote_key(key)}",
        {"expand": "changelog", "fields": "status"},
        what=f"the changelog of {key}",
    )
    changelog = data.get("changelog") if isinstance(data, Mapping) else None
    histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
    if not isinstance(histories, list):
        raise FatalError(f"source {http.source!r}: Jira answered {key} without a changelog")
    return [h for h in histories if isinstance(h, Mapping)]


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
