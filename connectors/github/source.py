"""GitHub source (`type: github`): issues and pull requests of repositories, their milestones
and issue events, pulled incrementally and within GitHub's rate limits.

This module holds the config model, the builder (the token is read here, nowhere else) and the
source: what to pull (repos or an org's), full reconcile or incremental, the cursor and the kept
ETags, and repositories pulled concurrently (bounded). The network reads are in
`github_fetch.py`, the client in `github_client.py`, the payload parsing in `github_parse.py`.

Cursor: `{"v": 1, "repos": {"acme/web": "2026-11-16T08:59:00Z"}}`, per repository the newest
`updated_at` read (capped at the run's start), so it moves only when something changed. State
(`PullResult.state`, handed back as `ctx.state`): per repository the URL and ETag of its last
issues list when that list was one page (`page:acme/web`), the same for its milestones list
(`milestones:acme/web`, asked again every run), the items read within the lookback of
the cursor with their `updated_at` (`seen:acme/web`: see `fetch_repo`), how far back its events
are known and the issues whose own events were read (`history:acme/web`: GitHub pages the events
stream only so deep; see `github_fetch`), and an org's repository list (`org_repos`, refreshed on
full reconciles).
"""

from __future__ import annotations

import contextvars
import functools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, tzinfo

import structlog
from pydantic import SecretStr

from connectors.github.client import (
    DEFAULT_TIMEOUT_S,
    ClientSettings,
    GitHubClient,
    RepoUnavailable,
    Tally,
)
from connectors.github.config import (
    GitHubSourceConfig as GitHubSourceConfig,
)  # re-exported: where callers import it
from connectors.github.fetch import (
    RepoPlan,
    RepoPull,
    RowParsers,
    fetch_org_repos,
    fetch_repo,
)
from connectors.github.parse import (
    IssueRules,
    checked_event,
    checked_issue,
    checked_own_event,
    parse_milestones,
    parse_org_repos,
    to_item_with_milestone,
)
from connectors.github.state import (
    HISTORY_STATE_PREFIX,
    MILESTONES_STATE_PREFIX,
    PAGE_STATE_PREFIX,
    SEEN_STATE_PREFIX,
    dump_history,
    iso,
    kept_history,
    kept_page,
    kept_seen,
    load_json,
    parse_cursor,
    recent,
    to_watermark,
)
from sync.base.contracts import (
    CheckContext,
    CheckTarget,
    ProgressCallback,
    PullContext,
    PullResult,
    no_progress,
)
from sync.base.errors import AuthError, ConfigError, GoalsyncError
from sync.base.paging import dedupe_by_key
from sync.base.records import Event, WorkItem
from sync.base.retry import Budget
from sync.base.shapes import Skipped
from sync.base.window import choose

log = structlog.get_logger(__name__)

# Repositories pulled at once, each over its own connection. An unchanged run asks each one or
# two conditional requests; with the 5 repositories of a typical config all in flight, the pull
# takes two round trips instead of four. GitHub counts concurrent requests toward its secondary
# rate limit (they answer 403/429 with retry-after, which the retry layer honours), so bounded.
MAX_PARALLEL_REPOS = 8
ORG_STATE_KEY = "org_repos"


class GitHubSource:
    type = "github"

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.github.check import check_github

        check_github(self, target, ctx)

    def __init__(
        self,
        name: str,
        config: GitHubSourceConfig,
        token: SecretStr | None,
        *,
        timeout_s: int = DEFAULT_TIMEOUT_S,
        max_parallel: int = MAX_PARALLEL_REPOS,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = config
        self.settings = ClientSettings(
            source=name,
            base_url=config.base_url,
            token=token,
            token_env=config.token_env,
            timeout_s=timeout_s,
        )
        self.max_parallel = max(1, max_parallel)
        self._sleep = sleep
        self._wall_clock = wall_clock

    def fetch(self, ctx: PullContext) -> PullResult:
        budget = Budget(ctx.budget_s, sleep=self._sleep)
        tally = Tally()
        result = PullResult(has_history=True)
        if self.settings.token is None:
            result.warnings.append(
                f"no token in {self.config.token_env}: anonymous requests (60 an hour)"
            )
        cursor = parse_cursor(ctx.cursor)
        window = choose(
            asked_full=ctx.full,
            cursor=ctx.cursor,
            readable=cursor is not None,
            last_full=ctx.last_full,
            run_started=ctx.run_started,
            reconcile_hours=self.config.reconcile_hours,
            lookback=timedelta(minutes=self.config.lookback_minutes),
        )
        full = window.full  # the lookback counts back from each repository's own cursor
        repos = self._scope(ctx, full, budget, tally, result)
        left = sorted(set(cursor or {}) - set(repos))
        if left and not full:
            log.info("github_reconcile", reason="repositories left the scope", repos=left)
            full = True
        rules = IssueRules(
            in_progress_labels=self.config.in_progress_labels,
            assigned_means_started=self.config.assigned_means_started,
            items=ctx.rules,
        )
        plans = [
            RepoPlan(
                repo=repo,
                full=full,
                watermark=(cursor or {}).get(repo),
                kept=kept_page(ctx.state, repo),
                milestones_kept=kept_page(ctx.state, repo, MILESTONES_STATE_PREFIX),
                lookback=timedelta(minutes=self.config.lookback_minutes),
                run_started=ctx.run_started,
                seen=kept_seen(ctx.state, repo),
                history=kept_history(ctx.state, repo),
                needs_start=ctx.needs_start,
                history_from=ctx.history_from,
            )
            for repo in repos
        ]
        # Entries of the wrong shape are left out as their pages are parsed, and named.
        skipped = Skipped(self.name)
        parsers = RowParsers(
            issue=functools.partial(checked_issue, source=self.name, rules=rules, skipped=skipped),
            event=functools.partial(checked_event, source=self.name, rules=rules, skipped=skipped),
            own_event=functools.partial(
                checked_own_event, source=self.name, rules=rules, skipped=skipped
            ),
        )
        pulls = self._pull_all(plans, budget, tally, result.warnings, parsers, ctx.progress)
        self._collect(plans, pulls, ctx.run_started, result)
        result.warnings[:0] = _reach_notes(plans, pulls, ctx.tz)
        skipped.report(result.warnings)
        result.requests = tally.count
        result.complete = full
        log.info("github_pulled", repos=len(plans), full=full, requests=result.requests)
        return result

    def _collect(
        self,
        plans: Sequence[RepoPlan],
        pulls: Mapping[str, RepoPull],
        run_started: datetime,
        result: PullResult,
    ) -> None:
        """Parse every repository's payloads into the result, with the new cursor and state."""
        watermarks: dict[str, datetime | None] = {}
        items: list[WorkItem] = []
        events: dict[str, Event] = {}
        for plan in plans:
            pull = pulls.get(plan.repo)
            if pull is None:  # left out with a warning (an org's repository gone)
                continue
            repo_items, repo_events = self._parse(pull)
            items += repo_items
            events.update((e.identity, e) for e in repo_events)
            watermark = to_watermark(plan.watermark, repo_items, run_started)
            watermarks[plan.repo] = watermark
            if pull.kept is not None:
                result.state[PAGE_STATE_PREFIX + plan.repo] = json.dumps(
                    {"url": pull.kept.url, "etag": pull.kept.etag}
                )
            if pull.milestones_kept is not None:
                result.state[MILESTONES_STATE_PREFIX + plan.repo] = json.dumps(
                    {"url": pull.milestones_kept.url, "etag": pull.milestones_kept.etag}
                )
            seen = plan.seen if pull.unchanged else recent(repo_items, watermark, plan.lookback)
            if seen:
                result.state[SEEN_STATE_PREFIX + plan.repo] = json.dumps(
                    {str(n): at for n, at in sorted(seen.items())}
                )
            history = dump_history(pull.history)
            if history is not None:
                result.state[HISTORY_STATE_PREFIX + plan.repo] = history
            log.info(
                "github_repo_pulled",
                repo=plan.repo,
                full=plan.full,
                unchanged=pull.unchanged,
                items=len(repo_items),
                events=len(repo_events),
            )
        result.items = dedupe_by_key(items, key=lambda item: item.key)  # the later is newer
        result.events = list(events.values())
        result.cursor = json.dumps({"v": 1, "repos": watermarks}, default=iso, sort_keys=True)

    # --- what to pull ---------------------------------------------------------------------

    def _scope(
        self, ctx: PullContext, full: bool, budget: Budget, tally: Tally, result: PullResult
    ) -> list[str]:
        """The repositories to pull: the configured ones, or the org's that match. An org is
        listed on a full reconcile (or when no list is kept); incremental runs reuse the kept
        list, so that an unchanged run costs one request per repository and nothing more."""
        if not self.config.org:
            return list(dict.fromkeys(self.config.repos))
        signature = json.dumps(
            [self.config.org, sorted(self.config.topics), self.config.name_pattern]
        )
        kept = load_json(ctx.state.get(ORG_STATE_KEY))
        if not full and isinstance(kept, dict) and kept.get("scope") == signature:
            repos = [str(r) for r in kept.get("repos") or ()]
        else:
            client = GitHubClient(self.settings, budget=budget, tally=tally)
            try:
                listed = fetch_org_repos(client, self.config.org)
            finally:
                client.close()
            repos, skipped = parse_org_repos(
                listed, topics=self.config.topics, name_pattern=self.config.name_pattern
            )
            result.warnings.extend(skipped)
            if not repos:
                result.warnings.append(
                    f"org {self.config.org}: no repository matches topics "
                    f"{list(self.config.topics)} / name_pattern {self.config.name_pattern!r}"
                )
        result.state[ORG_STATE_KEY] = json.dumps({"scope": signature, "repos": repos})
        return repos

    # --- pulling ---------------------------------------------------------------------------

    def _pull_all(
        self,
        plans: Sequence[RepoPlan],
        budget: Budget,
        tally: Tally,
        warnings: list[str],
        parsers: RowParsers,
        progress: ProgressCallback = no_progress,
    ) -> dict[str, RepoPull]:
        """Every repository, at most `max_parallel` at a time, each with its own client. The
        first failure cancels what has not started; a scope the server rejects (a missing
        repository) wins over other failures, so the run says exit 2 rather than stale."""
        if not plans:
            return {}
        out: dict[str, RepoPull] = {}

        def pull(plan: RepoPlan) -> RepoPull | str:
            client = GitHubClient(
                self.settings, budget=budget, tally=tally, wall_clock=self._wall_clock
            )
            try:
                return fetch_repo(client, plan, progress, parsers=parsers)
            except RepoUnavailable as exc:
                if not self.config.org:
                    raise
                # Listed with the org, gone since (deleted, transferred, issues turned off): a
                # warning, not a failure; the next reconcile lists the org again.
                return str(exc)
            finally:
                client.close()

        workers = min(self.max_parallel, len(plans))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="github") as pool:
            futures: dict[Future[RepoPull | str], RepoPlan] = {
                # copy_context: the worker logs with the engine's bound source and run id
                pool.submit(contextvars.copy_context().run, pull, plan): plan
                for plan in plans
            }
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            done |= {f for f in wait(pending).done if not f.cancelled()}
        errors: list[BaseException] = []
        for future in done:
            error = future.exception()
            if error is not None:
                errors.append(error)
                continue
            pulled = future.result()
            if isinstance(pulled, str):
                warnings.append(pulled)
            else:
                out[futures[future].repo] = pulled
        if errors:
            raise max(errors, key=_severity)
        return out

    def _parse(self, pull: RepoPull) -> tuple[list[WorkItem], list[Event]]:
        """The pull's items (parsed as their pages came) with their milestones' details."""
        milestones = parse_milestones(pull.milestones, repo=pull.repo)
        return [to_item_with_milestone(i, milestones) for i in pull.issues], pull.events


def _reach_notes(plans: Sequence[RepoPlan], pulls: Mapping[str, RepoPull], tz: tzinfo) -> list[str]:
    """A Run tab line per repository whose history GitHub's paging limit cuts short, on every
    run (the tab is written anew each time): how far back its events reach, and what that
    costs. Never a failure: the issues carry their state and times themselves."""
    notes = []
    for plan in plans:
        pull = pulls.get(plan.repo)
        history = pull.history if pull is not None else plan.history
        if not history.limited or history.reach is None:
            continue
        day = history.reach.astimezone(tz).date().isoformat()
        notes.append(
            f"History of {plan.repo} reaches back to {day} (GitHub's paging limit): states and "
            "close times come from the issues themselves, and the start of each earlier issue "
            f"that a cycle time measures from its own events ({len(history.starts)} issues)"
        )
        log.info("github_history_reach", repo=plan.repo, reach=history.reach.isoformat())
    return notes


def _severity(error: BaseException) -> int:
    if isinstance(error, ConfigError):
        return 3
    if isinstance(error, AuthError):
        return 2
    return 1 if isinstance(error, GoalsyncError) else 0
