"""Jira Cloud and Data Center source (`type: jira`), built on the `jira` library.

One pull:
1. decide: a complete pull (first pull, `--full`, the periodic reconcile every `reconcile_hours`,
   or a changed `jql` / `points_field`) re-reads the whole scope and drops what vanished; any
   other pull is incremental: `(<jql>) AND updated >= "-<minutes>m"`, the minutes reaching back
   to the cursor minus the lookback, the cursor being the last run's start (search results lag
   behind edits: the lookback reads a little twice, and duplicates are dropped by key). The
   bound is relative because Jira reads absolute JQL dates in the searching user's time zone,
   which a scoped or anonymous token cannot tell;
2. know the site (jira_site): serverInfo (Cloud or Server / Data Center) and `/field` (the
   story points, Flagged and Epic Link fields), asked on complete pulls only and kept in the
   source's state between runs, so an unchanged incremental run costs one search per scope;
3. search (jira_search: token paging on Cloud, a large complete pull in `created` slices read
   concurrently; search_dc: startAt in `updated` windows on Data Center),
   asking only for the fields goalsync reads, with the changelog; complete cut-short changelogs;
4. parse (jira_parse: state from statusCategory, blocked from status / label / Flagged, status
   changes as Events), and run each `jql:` select clause as an extra keys-only search.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from connectors.jira import search as jira_search
from connectors.jira import search_dc
from connectors.jira.client import (
    DEFAULT_TIMEOUT,
    JiraAuth,
    JiraHttp,
    NotFound,
    WrongFlavour,
    open_client,
)
from connectors.jira.config import NATIVE_CLAUSE
from connectors.jira.config import (
    JiraSourceConfig as JiraSourceConfig,  # re-exported: where callers import it
)
from connectors.jira.parse import (
    BASE_FIELDS,
    FieldIds,
    changelog_statuses,
    check_issue,
    checked_issue,
    issue_name,
    status_categories,
)
from connectors.jira.search import Query
from connectors.jira.site import (
    Site,
    fetch_site,
    fetch_status_categories,
    pull_window,
    scope_fingerprint,
)
from sync.base.contracts import (
    CheckContext,
    CheckTarget,
    ProgressCallback,
    PullContext,
    PullResult,
    no_progress,
)
from sync.base.errors import FatalError
from sync.base.paging import dedupe_by_key
from sync.base.records import Event, State, WorkItem
from sync.base.retry import Budget
from sync.base.shapes import Skipped

log = structlog.get_logger(__name__)

PAGE_SIZE = 100  # issues with fields and changelog; Jira may answer fewer, paging copes
KEY_PAGE_SIZE = 1000  # keys-only searches (jql clauses) fit many more a page
# Jira's clock against this machine's (seconds): past this, a warning (log and Run tab) ...
CLOCK_SKEW_WARN_S = 60.0
# ... and an offset grown by more than this since the cursor was taken widens the window (the
# Date header gives whole seconds: a second or two of difference is noise).
CLOCK_MOVED_S = 5.0
OFFSET_STATE_KEY = "clock_offset_s"


class JiraSource:
    type = "jira"

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.jira.check import check_jira  # imports this module

        check_jira(self, target, ctx)

    def __init__(
        self,
        name: str,
        config: JiraSourceConfig,
        auth: JiraAuth,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        page_size: int = PAGE_SIZE,
        key_page_size: int = KEY_PAGE_SIZE,
        window_limit: int = search_dc.DC_WINDOW_LIMIT,
        slice_min_pages: int = jira_search.SLICE_MIN_PAGES,
        slice_concurrency: int = jira_search.SLICE_CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.sleep = sleep
        self.clock = clock  # "now" for the relative incremental bound
        self.config = config
        self.auth = auth
        self.timeout = timeout
        self.page_size = page_size
        self.key_page_size = key_page_size
        self.window_limit = window_limit
        self.slice_min_pages = slice_min_pages
        self.slice_concurrency = slice_concurrency

    def fetch(self, ctx: PullContext) -> PullResult:
        client = open_client(self.config.url, self.auth, self.timeout)
        http = JiraHttp(
            client,
            source=self.name,
            url=self.config.url,
            auth=self.auth,
            budget=Budget(ctx.budget_s, sleep=self.sleep),
            clock=self.clock,
        )
        try:
            return self._pull(http, ctx)
        finally:
            client.close()  # type: ignore[no-untyped-call]  # unannotated in the library

    # --- one pull --------------------------------------------------------------------------

    def _pull(self, http: JiraHttp, ctx: PullContext) -> PullResult:
        scope = self._scope()
        kept = Site.from_state(ctx.state)
        lookback = timedelta(minutes=self.config.lookback_minutes)
        window = pull_window(ctx, kept, scope, self.config.reconcile_hours, lookback)
        reason, since = window.reason, window.since
        site = kept if kept is not None and reason is None else self._site(http, kept)
        log.info(
            "jira_pull",
            source=self.name,
            kind="complete" if reason else "incremental",
            reason=reason,
            deployment=site.deployment,
            since=since.isoformat() if since else None,
        )
        warnings: list[str] = []
        rediscovered = site is not kept

        def search(since: datetime | None) -> tuple[list[Any], _PageParser, Skipped]:
            nonlocal site, rediscovered
            while True:
                http.use_deployment(site.deployment)
                skipped = Skipped(self.name)  # issues of the wrong shape, named in the Run tab
                pages = _PageParser(self, site.field_ids, ctx, skipped)
                try:
                    found = self._search_scope(
                        http, site, since, ctx.run_started, ctx.progress, keep=pages
                    )
                    return found, pages, skipped
                except WrongFlavour:
                    if rediscovered:
                        raise
                    log.warning("jira_deployment_changed", source=self.name, kept=site.deployment)
                    site, rediscovered = self._site(http, kept), True

        entries, pages, skipped = search(since)
        grown = _offset_growth(ctx.state, http.clock_offset_s)
        if since is not None and grown > CLOCK_MOVED_S:
            # Jira counted "-Nm" back from a clock further ahead of ours than when the cursor
            # was taken: the window began `grown` seconds late on Jira's clock. Search again
            # from as much earlier (rare: the clock was stepped, or the state moved machines).
            log.warning(
                "jira_clock_moved",
                source=self.name,
                grown_s=round(grown),
                effect="the incremental window is widened by as much and searched again",
            )
            since -= timedelta(seconds=grown)
            entries, pages, skipped = search(since)
        state = self._clock_state(http.clock_offset_s, warnings)
        if not site.field_ids.points:
            warnings.append(
                f"source {self.name!r}: no story points field found (none named Story Points or "
                "Story point estimate); points are unknown: set points_field"
            )
        entries = dedupe_by_key([e for e in entries if e is not _MALFORMED], key=entry_key)
        raw = [e for e in entries if not isinstance(e, _Parsed)]  # what pages could not parse
        raw = self._complete_changelogs(http, raw, warnings)
        categories = {**site.categories, **pages.learnt}
        if changelog_statuses(raw) - set(categories):
            # A changelog names a status no issue sits in now (an "In Review" everyone has
            # passed): its category is unknown, and without it cycle times lose their start.
            # One GET /status names every status's category, and is kept for later pulls.
            categories |= fetch_status_categories(http)
        late = iter(self._parse(raw, site.field_ids, categories, ctx, skipped))
        items: list[WorkItem] = []
        events: list[Event] = []
        for entry in entries:  # in the order the search gave, as before
            parsed = entry if isinstance(entry, _Parsed) else next(late)
            if parsed is None:  # malformed, named in `skipped`
                continue
            items.append(parsed.item)
            events.extend(parsed.events)
        skipped.report(warnings)
        matches = {
            clause: self._clause_keys(http, site, clause, ctx.run_started)
            for clause in ctx.native_clauses.get(NATIVE_CLAUSE, ())
        }
        kept_site = Site(site.deployment, site.zone, site.field_ids, scope, categories)
        for warning in warnings:
            log.warning("jira_warning", source=self.name, problem=warning)
        return PullResult(
            items=items,
            events=events,
            complete=reason is not None,
            has_history=True,
            cursor=ctx.run_started.isoformat(),
            state=kept_site.to_state() | state,
            native_matches={NATIVE_CLAUSE: matches} if matches else {},
            requests=http.requests,
            warnings=warnings,
        )

    def _clock_state(self, offset: float | None, warnings: list[str]) -> dict[str, str]:
        """The offset measured this pull, kept with the cursor (this run's start, on our
        clock), and a warning when it is large."""
        if offset is None:
            return {}
        if abs(offset) > CLOCK_SKEW_WARN_S:
            log.warning(
                "jira_clock_skew",
                source=self.name,
                offset_s=round(offset, 1),
                effect="incremental searches are widened by any change of it; nothing is missed",
                fix="synchronise this machine's clock (NTP)",
            )
            warnings.append(
                f"source {self.name!r}: this machine's clock is {describe_offset(offset)} "
                "(from its Date header); searches allow for it, but synchronise the clock (NTP)"
            )
        return {OFFSET_STATE_KEY: f"{offset:.1f}"}

    def _scope(self) -> str:
        return scope_fingerprint(self.config.url, self.config.jql, self.config.points_field)

    def _site(self, http: JiraHttp, kept: Site | None) -> Site:
        return fetch_site(
            http, points_field=self.config.points_field, scope=self._scope(), kept=kept
        )

    def _fields(self, site: Site) -> list[str]:
        return list(dict.fromkeys([*BASE_FIELDS, *site.field_ids.extra]))

    def _search_scope(
        self,
        http: JiraHttp,
        site: Site,
        since: datetime | None,
        until: datetime,
        progress: ProgressCallback = no_progress,
        keep: jira_search.Keep | None = None,
    ) -> list[Any]:
        zone = jira_search.site_zone(site.zone)
        # The bound is relative ("-125m"): right whatever zone Jira reads absolute dates in.
        literal = jira_search.relative_since(since, self.clock()) if since is not None else None
        fields = self._fields(site)
        if http.cloud and since is None:
            # A complete pull reads the whole scope: large ones in concurrent `created` slices.
            return jira_search.fetch_cloud_sliced(
                http,
                Query(self.config.jql, jira_search.KEY_ORDER),
                fields=fields,
                expand="changelog",
                page_size=self.page_size,
                zone=zone,
                until=until,
                progress=progress,
                keep=keep,
                min_pages=self.slice_min_pages,
                concurrency=self.slice_concurrency,
            )
        if http.cloud:
            query = Query(self.config.jql, jira_search.KEY_ORDER, since=literal)
            return jira_search.fetch_cloud_search(
                http,
                query.render(),
                fields=fields,
                expand="changelog",
                page_size=self.page_size,
                progress=progress,
                keep=keep,
            )
        query = Query(self.config.jql, jira_search.KEY_ORDER, since=literal)
        return search_dc.fetch_dc_search(
            http,
            query,
            fields=fields,
            expand="changelog",
            page_size=self.page_size,
            zone=zone,
            until=until,
            window_limit=self.window_limit,
            progress=progress,
            keep=keep,
            # a complete pull's pages at once; an incremental one is a page or two
            concurrency=self.slice_concurrency if since is None else 1,
        )

    def _clause_keys(
        self, http: JiraHttp, site: Site, clause: str, until: datetime
    ) -> frozenset[str]:
        query = Query(self.config.jql, jira_search.KEY_ORDER, clause=clause)
        return search_dc.fetch_keys(
            http,
            query,
            page_size=self.key_page_size,
            zone=jira_search.site_zone(site.zone),
            until=until,
            window_limit=self.window_limit,
        )

    def _complete_changelogs(
        self, http: JiraHttp, issues: list[Mapping[str, Any]], warnings: list[str]
    ) -> list[Mapping[str, Any]]:
        short = [i for i in issues if jira_search.is_cut_short(i)]
        if not short:
            return issues
        full: dict[str, list[Mapping[str, Any]]] = {}
        if http.cloud:
            ids = {str(i["id"]): str(i["key"]) for i in short if i.get("id") is not None}
            by_id = jira_search.fetch_bulk_changelogs(http, list(ids))
            full = {key: by_id[iid] for iid, key in ids.items() if iid in by_id}
        else:
            for issue in short:
                key = str(issue["key"])
                try:
                    full[key] = jira_search.fetch_issue_changelog(http, key)
                except NotFound:  # deleted since the search listed it: keep what came
                    continue
        missing = sorted(str(i["key"]) for i in short if str(i["key"]) not in full)
        if missing:
            warnings.append(
                f"source {self.name!r}: no full changelog came back for {', '.join(missing[:10])}; "
                "their older status changes are missing"
            )
        return [
            with_histories(i, full[str(i["key"])]) if str(i["key"]) in full else i for i in issues
        ]

    def _parse(
        self,
        issues: Sequence[Mapping[str, Any]],
        field_ids: FieldIds,
        categories: Mapping[str, State],
        ctx: PullContext,
        skipped: Skipped,
        *,
        checked: bool = False,
    ) -> list[_Parsed | None]:
        """One entry per issue, None where it was malformed (then named in `skipped`). The
        issues completed with another call's changelog are checked again (`checked` False)."""
        out: list[_Parsed | None] = []
        for raw in issues:
            parsed = checked_issue(
                raw,
                source=self.name,
                fields_ids=field_ids,
                rules=ctx.rules,
                categories=categories,
                skipped=skipped,
                checked=checked,
            )
            out.append(None if parsed is None else _Parsed(*parsed))
        return out


def describe_offset(offset: float) -> str:
    """`5 minutes behind Jira's` for Jira's clock minus ours (seconds)."""
    size = abs(offset)
    amount = f"{round(size / 60)} minutes" if size >= 120 else f"{round(size)} seconds"
    return f"{amount} {'behind' if offset > 0 else 'ahead of'} Jira's"


def _offset_growth(state: Mapping[str, str], offset: float | None) -> float:
    """How much further ahead of ours Jira's clock is now than when the cursor was taken
    (seconds; 0 when unknown). A state from before offsets were kept reads as 0 then: a machine
    that has always been behind has its window widened once."""
    if offset is None:
        return 0.0
    try:
        kept = float(state.get(OFFSET_STATE_KEY) or 0.0)
    except ValueError:
        kept = 0.0
    return offset - kept if math.isfinite(kept) else offset


@dataclass(frozen=True, slots=True)
class _Parsed:
    item: WorkItem
    events: list[Event]


class _PageParser:
    """Parses each search page as it comes (jira_search's `keep`), so that a pull never holds
    every raw issue (several KB each) beside its records. An issue is parsed at once when every
    status its changelog names is one this pull's issues sit in (learnt page by page; those win
    over the kept ones at the end too, so the result is the same); one whose changelog was cut
    short, or names a status not learnt yet, stays raw and is parsed after the search."""

    def __init__(
        self, source: JiraSource, field_ids: FieldIds, ctx: PullContext, skipped: Skipped
    ) -> None:
        self.source = source
        self.field_ids = field_ids
        self.ctx = ctx
        self.skipped = skipped
        self.learnt: dict[str, State] = {}

    def __call__(self, batch: list[Mapping[str, Any]]) -> list[Any]:
        # Shapes first: a status is learnt only from an issue of the right shape, and a
        # malformed one stays in the page as a mark (offsets count entries), named in `skipped`.
        problems = [check_issue(raw, self.field_ids) for raw in batch]
        for raw, problem in zip(batch, problems, strict=True):
            if problem is not None:
                self.skipped.add(issue_name(raw), problem)
        self.learnt.update(
            status_categories(r for r, p in zip(batch, problems, strict=True) if p is None)
        )
        out: list[Any] = []
        for raw, problem in zip(batch, problems, strict=True):
            if problem is not None:
                out.append(_MALFORMED)
            elif jira_search.is_cut_short(raw) or changelog_statuses([raw]) - set(self.learnt):
                out.append(raw)
            else:
                (parsed,) = self.source._parse(
                    [raw], self.field_ids, self.learnt, self.ctx, self.skipped, checked=True
                )
                out.append(_MALFORMED if parsed is None else parsed)
        return out


# What a page keeps in place of an issue of the wrong shape (already named in `Skipped`).
_MALFORMED: Any = object()


def entry_key(entry: Any) -> str:
    """A search entry's issue key (parsed, or raw); an issue without one fails the source."""
    name = entry.item.key if isinstance(entry, _Parsed) else entry.get("key")
    if not isinstance(name, str):
        raise FatalError(f"Jira answered an issue without a key: {str(entry)[:120]}")
    return name


def with_histories(
    issue: Mapping[str, Any], histories: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any]:
    n = len(histories)
    changelog = {"startAt": 0, "maxResults": n, "total": n, "histories": list(histories)}
    return {**issue, "changelog": changelog}
