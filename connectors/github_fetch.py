"""Network reads of the GitHub source: the one pagination loop and what one repository costs.

Per repository and pull:
- the issues list `/repos/{o}/{r}/issues?state=all&sort=created&direction=asc&per_page=100`
  (pull requests included), with `since` on incremental pulls, sent in UTC. Its pages are
  offsets (`page=N`): in update order, an item updated while the pages are read would move to
  the end and push the next page's first item onto the page already read, missed (and dropped
  from a full pull's snapshot). Creation order does not move, and the update itself is read by
  the next run (the cursor never passes the run's start). A deletion meanwhile can still shift an
  item onto a page already read: the lookback and the full reconcile cover that;
- a conditional request where one is sound (see `fetch_repo`): 304 means nothing changed and
  costs no rate limit; then nothing else is requested for the repository;
- otherwise one milestones call and the issue events stream, newest first, back to the cursor;
  unless every item the list shows is one the last pull read at that very update (`seen`):
  then nothing changed either, and nothing else is requested.
Issues and events are parsed page by page as they come (`RowParsers`), so a pull never holds a
repository's raw payloads (about 15 KB an item with its events) beside its records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.github_client import PER_PAGE, GitHubClient
from connectors.github_parse import parse_link_next, parse_time
from sync.contracts import ProgressCallback, no_progress
from sync.errors import FatalError
from sync.records import Event, WorkItem

Raw = Mapping[str, Any]
FIRST_EVENTS_DAYS = 365  # a repository's first pull reads its events stream back this far


@dataclass(frozen=True, slots=True)
class KeptPage:
    """The URL and ETag of a repository's last issues list, kept only when it was one page."""

    url: str
    etag: str


@dataclass(slots=True, kw_only=True)
class Listing:
    rows: list[Any] = field(default_factory=list)  # the raw rows, or what `keep` made of them
    url: str = ""  # the first page's URL
    etag: str | None = None  # the first page's ETag
    pages: int = 0
    complete: bool = True  # every page was read (not stopped early)
    not_modified: bool = False

    @property
    def kept(self) -> KeptPage | None:
        """A first page's ETag says something about the whole list only if there is no other
        page: with more, page 1 can stay the same while a later page changes."""
        if self.pages == 1 and self.complete and self.etag:
            return KeptPage(self.url, self.etag)
        return None


def fetch_list(
    client: GitHubClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    scope: str,
    what: str,
    etag: str | None = None,
    stop_after: Callable[[list[Raw]], bool] | None = None,
    progress: ProgressCallback = no_progress,
    keep: Callable[[Raw], Any] | None = None,
) -> Listing:
    """The one pagination loop: GET the first page (conditionally when `etag` is given), then
    follow Link rel="next" until there is none, or `stop_after(page_rows)` says enough. A page URL
    seen twice, or a link off the API root, is refused rather than followed."""
    out = Listing(url=client.page_key(path, params))
    url: str | None = path
    seen: set[str] = set()
    while url is not None:
        key = out.url if out.pages == 0 else client.page_key(url)
        if key in seen:
            raise FatalError(
                f"source {client.settings.source!r}: GitHub sent the page {url[:160]} twice "
                f"({scope}); stopped rather than loop"
            )
        seen.add(key)
        first = out.pages == 0
        reply = client.fetch_json(
            url,
            params if first else None,
            etag=etag if first else None,
            scope=scope,
            what=f"{what} page {out.pages + 1}",
        )
        if reply.not_modified:
            out.not_modified = True
            return out
        out.pages += 1
        if first:
            out.etag = reply.headers.get("etag")
        if not isinstance(reply.data, list):
            raise FatalError(
                f"source {client.settings.source!r}: GitHub answered {scope}'s {what} with "
                f"{type(reply.data).__name__}, not a list"
            )
        rows = [row for row in reply.data if isinstance(row, Mapping)]
        if len(rows) != len(reply.data):
            raise FatalError(f"source {client.settings.source!r}: a {what} entry is not an object")
        if keep is None:
            out.rows.extend(rows)
        else:  # each page made into what is kept as it comes: its raw rows are not
            out.rows.extend(kept for kept in map(keep, rows) if kept is not None)
        progress(1, len(rows))
        url = parse_link_next(reply.headers.get("link"))
        if url is not None:
            client.check_same_api(url)
            if stop_after is not None and stop_after(rows):
                out.complete = False
                url = None
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoPlan:
    repo: str
    full: bool  # read every item (no since, no condition)
    watermark: datetime | None  # the newest update read before: the repository's cursor
    kept: KeptPage | None  # last run's single-page list, asked again with If-None-Match
    lookback: timedelta
    run_started: datetime
    # The items the last pull read within `lookback` of the watermark: issue number -> its
    # updated_at (`stamp`). They are what a since-list shows when nothing changed.
    seen: Mapping[int, str] = field(default_factory=dict)

    @property
    def events_floor(self) -> datetime:
        if self.watermark is None:
            return self.run_started - timedelta(days=FIRST_EVENTS_DAYS)
        return self.watermark - self.lookback


@dataclass(frozen=True, slots=True)
class RowParsers:
    """How an issues-list row and an events-stream row become records (github_parse, bound to
    the source's name and rules by connectors/github.py); None leaves a row out (one of the
    wrong shape, which the parser names)."""

    issue: Callable[[Raw], WorkItem | None]
    event: Callable[[Raw], Event | None]


@dataclass(slots=True, kw_only=True)
class RepoPull:
    repo: str
    issues: list[WorkItem] = field(default_factory=list)  # without milestone details yet
    milestones: list[Raw] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    kept: KeptPage | None = None
    unchanged: bool = False  # answered 304, or showed only `seen` items: nothing else asked


def fetch_repo(
    client: GitHubClient,
    plan: RepoPlan,
    progress: ProgressCallback = no_progress,
    *,
    parsers: RowParsers,
) -> RepoPull:
    """Read one repository as `plan` says.

    Incremental: when last run's list was one page, ask for the same URL with its ETag. That
    list holds everything updated since its `since` (or everything), so a 304 means nothing in
    the repository changed, and a 200 is a superset of what changed since the cursor. Otherwise
    ask for `since` = cursor - lookback without a condition (the URL is new: no ETag can match).
    A since-URL that changes every run could never be answered 304; this one changes only when
    the list outgrows one page.

    A 200 whose items are all `seen` (read by the last pull at the same update) means nothing
    changed either: the list holds every update since the cursor minus the lookback, and the
    last pull read every update in that span. That happens on the first incremental pull after
    a full one of more than a page (no ETag was kept): one request instead of three."""
    scope = f"repo {plan.repo}"
    path = f"/repos/{plan.repo}/issues"
    out = RepoPull(repo=plan.repo)

    def pages_only(pages: int, items: int) -> None:  # milestones and events are not items
        progress(pages, 0)

    if not plan.full and plan.kept is not None:
        listing = fetch_list(
            client,
            plan.kept.url,
            scope=scope,
            what="issues",
            etag=plan.kept.etag,
            progress=progress,
            keep=parsers.issue,
        )
        if listing.not_modified:
            out.unchanged, out.kept = True, plan.kept
            return out
    else:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "created",  # an order that edits do not change: see the module's doc
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        if not plan.full and plan.watermark is not None:
            params["since"] = to_since(plan.watermark - plan.lookback)
        listing = fetch_list(
            client, path, params, scope=scope, what="issues", progress=progress, keep=parsers.issue
        )
    out.issues, out.kept = listing.rows, listing.kept
    if not plan.full and plan.seen and all(_was_seen(i, plan.seen) for i in out.issues):
        out.unchanged, out.issues = True, []
        return out
    out.milestones = fetch_list(
        client,
        f"/repos/{plan.repo}/milestones",
        {"state": "all", "per_page": PER_PAGE},
        scope=scope,
        what="milestones",
        progress=pages_only,
    ).rows
    out.events = fetch_events(
        client, plan.repo, plan.events_floor, parsers.event, scope=scope, progress=pages_only
    )
    return out


def stamp(moment: datetime) -> str:
    """An update time as GitHub writes it (UTC, whole seconds), to compare with `seen`."""
    return to_since(moment)


def _was_seen(item: WorkItem, seen: Mapping[int, str]) -> bool:
    number = item.fields.get("number")
    return (
        item.updated is not None
        and isinstance(number, int)
        and seen.get(number) == stamp(item.updated)
    )


def fetch_events(
    client: GitHubClient,
    repo: str,
    floor: datetime,
    parse: Callable[[Raw], Event | None],
    *,
    scope: str,
    progress: ProgressCallback = no_progress,
) -> list[Event]:
    """The repository's issue events, newest first, read until a page reaches back past `floor`
    (the cursor minus the lookback): one request when nothing older is needed. Those at or
    after `floor` are parsed as they come."""

    def reached_floor(rows: list[Raw]) -> bool:
        times = [t for t in (_created(r) for r in rows) if t is not None]
        return not times or min(times) < floor

    def keep(row: Raw) -> Event | None:
        return parse(row) if (_created(row) or floor) >= floor else None

    listing = fetch_list(
        client,
        f"/repos/{repo}/issues/events",
        {"per_page": PER_PAGE},
        scope=scope,
        what="issue events",
        stop_after=reached_floor,
        progress=progress,
        keep=keep,
    )
    return listing.rows


def fetch_org_repos(client: GitHubClient, org: str) -> list[Raw]:
    return fetch_list(
        client,
        f"/orgs/{org}/repos",
        {"type": "all", "sort": "full_name", "per_page": PER_PAGE},
        scope=f"org {org}",
        what="repositories",
    ).rows


def to_since(moment: datetime) -> str:
    """GitHub's `since` as UTC ISO 8601. PyGithub's own `since=` drops the timezone and writes
    the wall time with a Z, which is off by the UTC offset for any non-UTC datetime."""
    if moment.tzinfo is None:
        raise ValueError("since needs an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _created(raw: Raw) -> datetime | None:
    try:
        return parse_time(raw.get("created_at"))
    except FatalError:
        return None
