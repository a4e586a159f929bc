"""Network reads of the GitHub source: the one pagination loop and what one repository costs.

Per repository and pull:
- the issues list `/repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&per_page=100`
  (pull requests included), with `since` on incremental pulls, sent in UTC. Ascending by update
  time: an item updated while the pages are read moves behind them and is read again (the later
  copy wins), so paging loses no update (a deletion meanwhile can shift an item onto a page
  already read: the lookback and the full reconcile cover that);
- a conditional request where one is sound (see `fetch_repo`): 304 means nothing changed and
  costs no rate limit; then nothing else is requested for the repository;
- otherwise one milestones call and the issue events stream, newest first, back to the cursor.
Raw payloads leave this module only towards `connectors/github.py`, which parses them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.github_client import PER_PAGE, GitHubClient
from connectors.github_parse import parse_link_next, parse_time
from sync.errors import FatalError

Raw = Mapping[str, Any]
FIRST_EVENTS_DAYS = 365  # a repository's first pull reads its events stream back this far


@dataclass(frozen=True, slots=True)
class KeptPage:
    """The URL and ETag of a repository's last issues list, kept only when it was one page."""

    url: str
    etag: str


@dataclass(slots=True, kw_only=True)
class Listing:
    rows: list[Raw] = field(default_factory=list)
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
        out.rows.extend(rows)
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

    @property
    def events_floor(self) -> datetime:
        if self.watermark is None:
            return self.run_started - timedelta(days=FIRST_EVENTS_DAYS)
        return self.watermark - self.lookback


@dataclass(slots=True, kw_only=True)
class RepoPull:
    repo: str
    issues: list[Raw] = field(default_factory=list)
    milestones: list[Raw] = field(default_factory=list)
    events: list[Raw] = field(default_factory=list)
    kept: KeptPage | None = None
    unchanged: bool = False  # answered 304: nothing else was asked


def fetch_repo(client: GitHubClient, plan: RepoPlan) -> RepoPull:
    """Read one repository as `plan` says.

    Incremental: when last run's list was one page, ask for the same URL with its ETag. That
    list holds everything updated since its `since` (or everything), so a 304 means nothing in
    the repository changed, and a 200 is a superset of what changed since the cursor. Otherwise
    ask for `since` = cursor - lookback without a condition (the URL is new: no ETag can match).
    A since-URL that changes every run could never be answered 304; this one changes only when
    the list outgrows one page."""
    scope = f"repo {plan.repo}"
    path = f"/repos/{plan.repo}/issues"
    out = RepoPull(repo=plan.repo)
    if not plan.full and plan.kept is not None:
        listing = fetch_list(client, plan.kept.url, scope=scope, what="issues", etag=plan.kept.etag)
        if listing.not_modified:
            out.unchanged, out.kept = True, plan.kept
            return out
    else:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        if not plan.full and plan.watermark is not None:
            params["since"] = to_since(plan.watermark - plan.lookback)
        listing = fetch_list(client, path, params, scope=scope, what="issues")
    out.issues, out.kept = listing.rows, listing.kept
    out.milestones = fetch_list(
        client,
        f"/repos/{plan.repo}/milestones",
        {"state": "all", "per_page": PER_PAGE},
        scope=scope,
        what="milestones",
    ).rows
    out.events = fetch_events(client, plan.repo, plan.events_floor, scope=scope)
    return out


def fetch_events(client: GitHubClient, repo: str, floor: datetime, *, scope: str) -> list[Raw]:
    """The repository's issue events, newest first, read until a page reaches back past `floor`
    (the cursor minus the lookback): one request when nothing older is needed."""

    def reached_floor(rows: list[Raw]) -> bool:
        times = [t for t in (_created(r) for r in rows) if t is not None]
        return not times or min(times) < floor

    listing = fetch_list(
        client,
        f"/repos/{repo}/issues/events",
        {"per_page": PER_PAGE},
        scope=scope,
        what="issue events",
        stop_after=reached_floor,
    )
    return [r for r in listing.rows if (_created(r) or floor) >= floor]


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
