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
  then nothing changed either, and nothing else is requested;
- but the milestones, always: a milestone's due date or title edit changes no issue's
  `updated_at`, so an unchanged repository asks its milestones list again with its ETag (a 304,
  free); when it changed, the items that carry a milestone are read again (`recheck_milestones`);
- the stream goes only so deep: past a limit (a few pages on a busy repository) GitHub answers
  422 "pagination is limited for this resource", and its rel="last" names the last page it
  serves. That is where the repository's known history begins (its reach, kept between runs):
  state, close and merge times come from the issues themselves, and only the issues whose start
  a key result measures (`RepoPlan.needs_start`), opened before the reach, have their own events
  read (`/issues/{n}/events`, one request each, once per update).
Issues and events are parsed page by page as they come (`RowParsers`), so a pull never holds a
repository's raw payloads (about 15 KB an item with its events) beside its records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from connectors.github.client import PER_PAGE, GitHubClient, PagingLimit, Reply, with_query
from connectors.github.parse import parse_link_rel, parse_time
from sync.base.contracts import ProgressCallback, no_progress
from sync.base.errors import FatalError
from sync.base.paging import Endpoint, Pages
from sync.base.records import Event, WorkItem
from sync.base.window import lookback_start

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
    cut: bool = False  # the server's paging limit ended the list before its end (`bounded`)

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
    bounded: bool = False,
) -> Listing:
    """The one pagination loop: GET the first page (conditionally when `etag` is given), then
    follow Link rel="next" until there is none, or `stop_after(page_rows)` says enough. A page URL
    seen twice, or a link off the API root, is refused rather than followed.

    `bounded`: the list is one GitHub pages only so deep (the issue events). Its end is then
    where the limit is (`cut`): a 422 for a page past it, or the page its rel="last" named still
    linking a next one. GitHub may also leave rel="next" out on the last page it serves, which
    then looks like the list's real end: when that page is the one rel="last" named and it is
    full, the next page number is asked for too, which answers empty at the real end and 422 at
    the limit (one request, for a list that ends exactly on a page boundary)."""
    out = Listing(url=client.page_key(path, params))
    bound: str | None = None  # the last page the server says it serves (rel="last")
    following: str | None = None  # the next page, as the body of the loop finds it

    def fetch(url: str | None) -> Reply:
        first = out.pages == 0
        return client.fetch_json(
            path if first else str(url),
            params if first else None,
            etag=etag if first else None,
            scope=scope,
            what=f"{what} page {out.pages + 1}",
        )

    pages = Pages(
        fetch,
        lambda reply: following,
        endpoint=Endpoint(
            f"source {client.settings.source!r}", "GitHub", f"{scope}'s {what}", "page"
        ),
        first=out.url,
        key=client.page_key,
        count=lambda reply: len(reply.data),
        progress=progress,
    )
    try:
        for reply in pages:
            if reply.not_modified:
                out.not_modified = True
                break
            out.pages += 1
            key = client.page_key(reply.url) if out.pages > 1 else out.url
            if out.pages == 1:
                out.etag = reply.headers.get("etag")
            if not isinstance(reply.data, list):
                raise FatalError(
                    f"source {client.settings.source!r}: GitHub answered {scope}'s {what} with "
                    f"{type(reply.data).__name__}, not a list"
                )
            rows = [row for row in reply.data if isinstance(row, Mapping)]
            if len(rows) != len(reply.data):
                raise FatalError(
                    f"source {client.settings.source!r}: a {what} entry is not an object"
                )
            if keep is None:
                out.rows.extend(rows)
            else:  # each page made into what is kept as it comes: its raw rows are not
                out.rows.extend(kept for kept in map(keep, rows) if kept is not None)
            link = reply.headers.get("link")
            last = parse_link_rel(link, "last")
            bound = client.page_key(last) if last is not None else bound
            following = linked = parse_link_rel(link, "next")
            if linked is not None:
                client.check_same_api(linked)
            elif bounded and key == bound and len(rows) >= PER_PAGE:
                following = with_query(
                    key, {"page": _page_number(key) + 1}
                )  # the limit, or the end?
            if following is not None:
                if stop_after is not None and stop_after(rows):
                    out.complete = False
                    following = None
                elif bounded and linked is not None and key == bound:
                    out.cut = True  # the last page served links more beyond it
                    following = None
    except PagingLimit:
        if not bounded or out.pages == 0:
            raise
        out.cut = True
    return out


def _page_number(key: str) -> int:
    page = dict(parse_qsl(key.partition("?")[2])).get("page", "1")
    return int(page) if page.isdigit() else 1


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptHistory:
    """How far back a repository's events are known, kept between runs (github_state)."""

    # The events since this moment were all read; None: since the repository began.
    reach: datetime | None = None
    limited: bool = False  # the reach is GitHub's paging limit (not just the first pull's floor)
    # The issues whose own events were read: number -> their updated_at (`stamp`) then. Read
    # again only when the issue changes.
    starts: Mapping[int, str] = field(default_factory=dict)


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
    milestones_kept: KeptPage | None = None  # last run's milestones list, asked with its ETag
    history: KeptHistory = field(default_factory=KeptHistory)
    # An item whose start (first move to in progress) a key result measures; None: none is.
    needs_start: Callable[[WorkItem], bool] | None = None
    # The earliest instant the run's measures look back to (PullContext.history_from).
    history_from: datetime | None = None

    @property
    def events_floor(self) -> datetime:
        if self.watermark is None:
            return self.first_floor
        return lookback_start(self.watermark, self.run_started, self.lookback)

    @property
    def first_floor(self) -> datetime:
        """How far back a first pull reads the events stream: a year, or only as far as the
        run's measures look (the cycle's start, the throughput and forecast windows) when that
        is less: each page of a busy repository's stream is a request, and older events change
        no number. Not when a key result measures cycle times: an item done in its window may
        have started long before, and its own events would then cost a request per item."""
        year = self.run_started - timedelta(days=FIRST_EVENTS_DAYS)
        if self.history_from is None or self.needs_start is not None:
            return year
        return max(year, min(self.history_from, self.run_started))


@dataclass(frozen=True, slots=True)
class RowParsers:
    """How an issues-list row and an events-stream row become records (github_parse, bound to
    the source's name and rules by connectors/github/source.py); None leaves a row out (one of the
    wrong shape, which the parser names)."""

    issue: Callable[[Raw], WorkItem | None]
    event: Callable[[Raw], Event | None]
    # A row of one issue's own events (which do not embed the issue), with the issue's item.
    own_event: Callable[[Raw, WorkItem], Event | None]


@dataclass(slots=True, kw_only=True)
class RepoPull:
    repo: str
    issues: list[WorkItem] = field(default_factory=list)  # without milestone details yet
    milestones: list[Raw] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    kept: KeptPage | None = None
    unchanged: bool = False  # answered 304, or showed only `seen` items: no events asked
    history: KeptHistory = field(default_factory=KeptHistory)
    milestones_kept: KeptPage | None = None  # the milestones list's URL and ETag, if one page


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
            out.unchanged, out.kept, out.history = True, plan.kept, plan.history
            return recheck_milestones(client, plan, out, parsers, progress)
    else:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "created",  # an order that edits do not change: see the module's doc
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        if not plan.full and plan.watermark is not None:
            params["since"] = to_since(plan.events_floor)  # the cursor minus the lookback
        listing = fetch_list(
            client, path, params, scope=scope, what="issues", progress=progress, keep=parsers.issue
        )
    out.issues, out.kept = listing.rows, listing.kept
    if not plan.full and plan.seen and all(_was_seen(i, plan.seen) for i in out.issues):
        out.unchanged, out.issues, out.history = True, [], plan.history
        return recheck_milestones(client, plan, out, parsers, progress)
    milestones = fetch_list(
        client,
        f"/repos/{plan.repo}/milestones",
        {"state": "all", "per_page": PER_PAGE},
        scope=scope,
        what="milestones",
        progress=pages_only,
    )
    out.milestones, out.milestones_kept = milestones.rows, milestones.kept
    stream = fetch_events(
        client, plan.repo, plan.events_floor, parsers.event, scope=scope, progress=pages_only
    )
    out.events = stream.events
    out.history = history = reach_after(plan, stream)
    starts = {n: at for n, at in history.starts.items()}
    for item in out.issues:
        number = item.fields.get("number")
        if not isinstance(number, int):
            continue
        if not _start_out_of_reach(item, history.reach, plan.needs_start):
            starts.pop(number, None)  # no longer needed (left the window): forgotten
        elif item.updated is None or starts.get(number) != stamp(item.updated):
            out.events += fetch_own_events(client, plan.repo, item, parsers, progress=pages_only)
            if item.updated is not None:
                starts[number] = stamp(item.updated)
    out.history = replace(history, starts=starts)
    return out


def reach_after(plan: RepoPlan, stream: EventsRead) -> KeptHistory:
    """How far back the repository's events are known after this pull's stream: on the first
    pull, as far as the stream went; later, as before, unless the stream was cut short before
    the cursor (a gap: known only from the cut on)."""
    kept = plan.history
    if plan.watermark is None:
        return KeptHistory(reach=stream.reach, limited=stream.cut)
    if stream.cut and stream.reach is not None:
        reach = max(stream.reach, kept.reach) if kept.reach is not None else stream.reach
        return replace(kept, reach=reach, limited=True)
    return kept


def _start_out_of_reach(
    item: WorkItem, reach: datetime | None, needs_start: Callable[[WorkItem], bool] | None
) -> bool:
    """A key result measures the item's start, and its first move to in progress may lie
    before the events known: an issue opened before the reach. (A pull request starts when it
    is opened: its own payload says when.)"""
    if reach is None or needs_start is None or item.kind != "issue":
        return False
    return (item.created is None or item.created < reach) and needs_start(item)


def fetch_own_events(
    client: GitHubClient,
    repo: str,
    item: WorkItem,
    parsers: RowParsers,
    *,
    progress: ProgressCallback = no_progress,
) -> list[Event]:
    """One issue's own events (`/issues/{n}/events`, oldest first): usually one page."""
    number = item.fields["number"]
    return fetch_list(
        client,
        f"/repos/{repo}/issues/{number}/events",
        {"per_page": PER_PAGE},
        scope=f"issue {item.key}",
        what=f"events of {item.key}",
        progress=progress,
        keep=lambda row: parsers.own_event(row, item),
        bounded=True,
    ).rows


def recheck_milestones(
    client: GitHubClient,
    plan: RepoPlan,
    out: RepoPull,
    parsers: RowParsers,
    progress: ProgressCallback = no_progress,
) -> RepoPull:
    """A repository whose issues did not change: ask its milestones again with their ETag.
    A milestone's due date or title edit changes no issue's `updated_at`, so without this it
    showed up only at the next full reconcile. A 304 costs no rate limit; a 200 re-reads the
    items that carry a milestone (`milestone=*`) to attach the new details. Without a kept
    ETag (a milestones list of several pages) nothing is asked: the reconcile covers it."""
    kept = plan.milestones_kept
    if kept is None:
        return out
    scope = f"repo {plan.repo}"
    listing = fetch_list(
        client,
        kept.url,
        scope=scope,
        what="milestones",
        etag=kept.etag,
        progress=lambda pages, items: progress(pages, 0),
    )
    if listing.not_modified:
        out.milestones_kept = kept
        return out
    out.milestones, out.milestones_kept = listing.rows, listing.kept
    params = {"state": "all", "milestone": "*", "sort": "created", "direction": "asc"}
    out.issues = fetch_list(
        client,
        f"/repos/{plan.repo}/issues",
        params | {"per_page": PER_PAGE},
        scope=scope,
        what="issues with a milestone",
        progress=progress,
        keep=parsers.issue,
    ).rows
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


@dataclass(slots=True, kw_only=True)
class EventsRead:
    events: list[Event]
    reach: datetime | None  # every event since this moment was read; None: the whole stream
    cut: bool  # GitHub's paging limit ended the stream at `reach`


def fetch_events(
    client: GitHubClient,
    repo: str,
    floor: datetime,
    parse: Callable[[Raw], Event | None],
    *,
    scope: str,
    progress: ProgressCallback = no_progress,
) -> EventsRead:
    """The repository's issue events, newest first, read until a page reaches back past `floor`
    (the cursor minus the lookback): one request when nothing older is needed. Those at or
    after `floor` are parsed as they come. GitHub's paging limit may end the stream earlier:
    then the events are known from the oldest one read."""
    oldest: list[datetime] = []

    def reached_floor(rows: list[Raw]) -> bool:
        times = [t for t in (_created(r) for r in rows) if t is not None]
        if times:
            oldest[:] = [min([*oldest, *times])]
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
        bounded=True,
    )
    if listing.cut:
        return EventsRead(events=listing.rows, reach=oldest[0] if oldest else floor, cut=True)
    return EventsRead(events=listing.rows, reach=None if listing.complete else floor, cut=False)


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
