"""Pulling every source concurrently and staging what came back beside the committed records.

A source that fails keeps its committed records (its key results show their last good values,
marked stale since its first failure); a source whose scope the server rejects (a JQL error, a
missing repo or sheet) is a config error for the whole run. Nothing here writes: what to commit
is handed back to the engine, which commits only after publishing succeeded.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog

from mappings.evaluate import SourceHealth
from mappings.timing import history_start, start_needed
from sync.base import secrets
from sync.base.contracts import ProgressCallback, PullContext, PullResult, Source, no_progress
from sync.base.errors import ConfigError, GoalsyncError
from sync.base.records import Event, Records
from sync.base.report import SourceRun
from sync.config import LoadedConfig
from sync.staging import merge, staged_records
from sync.store import SourceCommit, SourceState, Store

log = structlog.get_logger(__name__)
MAX_PARALLEL_SOURCES = 8
# The keys each native clause kind matched, kept by the engine beside the connector's own values
# ("goalsync.jql_matches" for Jira's jql:), so that a stale source's clauses still select.
MATCHES_STATE_PREFIX, MATCHES_STATE_SUFFIX = "goalsync.", "_matches"


def matches_state_key(kind: str) -> str:
    return f"{MATCHES_STATE_PREFIX}{kind}{MATCHES_STATE_SUFFIX}"


def _is_matches_key(key: str) -> bool:
    return key.startswith(MATCHES_STATE_PREFIX) and key.endswith(MATCHES_STATE_SUFFIX)


class PullWatcher(Protocol):
    """Someone watching the pull (the CLI's progress bars): told when each source starts, with
    what it reads as it reads, and when it ends. Called from the sources' threads."""

    def started(self, name: str, type_: str) -> ProgressCallback: ...

    def finished(self, name: str, ok: bool) -> None: ...


@dataclass(slots=True, kw_only=True)
class Pulled:
    """Everything one pull of all sources gives the evaluation and the commit."""

    records: Records
    health: dict[str, SourceHealth] = field(default_factory=dict)
    runs: list[SourceRun] = field(default_factory=list)
    commits: dict[str, SourceCommit] = field(default_factory=dict)
    # (source, native clause text) -> the keys it matched: what mappings' ItemIndex reads
    jql_matches: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)  # scopes a server refused: exit 2

    @property
    def any_stale(self) -> bool:
        return any(not r.ok for r in self.runs)


@dataclass(slots=True)
class _Outcome:
    name: str
    type: str
    result: PullResult | None = None
    error: Exception | None = None
    seconds: float = 0.0


@dataclass(slots=True)
class _Fetched:
    outcomes: list[_Outcome]
    committed: dict[str, Records]


def pull_sources(
    config: LoadedConfig,
    sources: Mapping[str, Source],
    store: Store,
    started: datetime,
    *,
    full: bool = False,
    budget_s: float = 300.0,
    watcher: PullWatcher | None = None,
    evaluated_from: datetime | None = None,
) -> Pulled:
    """`evaluated_from`: the earliest instant the caller evaluates at (an --as-of, backfill's
    first day), when it is before `started`: sources read history back to what it needs."""
    states = store.source_states()
    model = config.model
    history_from = history_start(
        model.goals,
        model.cycle.start,
        min(started, evaluated_from or started),
        config.tz,
        model.status.forecast.window_weeks,
    )
    # The committed records are read while the sources' requests are in flight: reading them
    # is CPU (the GIL is free while a request waits on its socket), the requests are waiting.
    outcomes = _fetch_all(
        config,
        sources,
        states,
        started,
        full,
        budget_s,
        watcher,
        meanwhile=store.load_records,
        history_from=history_from,
    )
    committed = outcomes.committed
    pulled = Pulled(records=Records())
    staged: dict[str, Records] = {}
    for o in outcomes.outcomes:
        state = states.get(o.name, SourceState())
        if isinstance(o.error, ConfigError):
            pulled.rejected.append(secrets.mask(str(o.error)))
        if o.result is not None:
            records, recorded = staged_records(
                committed[o.name], o.result, started, state.last_success
            )
            staged[o.name] = records
            values = dict(o.result.state)
            for kind, found in o.result.native_matches.items():
                if found:
                    values[matches_state_key(kind)] = json.dumps(
                        {text: sorted(keys) for text, keys in found.items()}
                    )
            pulled.commits[o.name] = _commit_for(o.result, o.type, records, recorded, values, full)
            pulled.health[o.name] = SourceHealth(ok=True, last_success=started)
            pulled.runs.append(
                SourceRun(
                    name=o.name,
                    type=o.type,
                    ok=True,
                    last_success=started,
                    items=len(records.items),
                    metrics=len(records.metrics),
                    checkins=len(records.checkins),
                    requests=o.result.requests,
                    warnings=tuple(o.result.warnings),
                )
            )
            matches = {t: k for found in o.result.native_matches.values() for t, k in found.items()}
        else:
            error = _describe(o.error)
            staged[o.name] = committed[o.name]  # the last good values, marked stale
            pulled.commits[o.name] = SourceCommit(type=o.type, ok=False, error=error)
            since = state.stale_since or started
            pulled.health[o.name] = SourceHealth(
                ok=False, last_success=state.last_success, stale_since=since, error=error
            )
            pulled.runs.append(
                SourceRun(
                    name=o.name,
                    type=o.type,
                    ok=False,
                    last_success=state.last_success,
                    stale_since=since,
                    items=len(committed[o.name].items),
                    metrics=len(committed[o.name].metrics),
                    error=error,
                )
            )
            matches = _kept_matches(state)
        pulled.jql_matches.update({(o.name, text): keys for text, keys in matches.items()})
    pulled.records = merge(staged[name] for name in sources)
    return pulled


def _fetch_all(
    config: LoadedConfig,
    sources: Mapping[str, Source],
    states: Mapping[str, SourceState],
    started: datetime,
    full: bool,
    budget_s: float,
    watcher: PullWatcher | None = None,
    *,
    meanwhile: Callable[[Iterable[str]], dict[str, Records]],
    history_from: datetime | None = None,
) -> _Fetched:
    """Every source's outcome, and what `meanwhile(sources)` returned: it runs in this thread
    while the sources are fetched in the pool."""

    def fetch(name: str, source: Source) -> _Outcome:
        if watcher is None:
            return fetch_one(name, source, no_progress)
        outcome = fetch_one(name, source, watcher.started(name, source.type))
        watcher.finished(name, outcome.result is not None)
        return outcome

    def fetch_one(name: str, source: Source, progress: ProgressCallback) -> _Outcome:
        state = states.get(name, SourceState())
        ctx = PullContext(
            source=name,
            run_started=started,
            tz=config.tz,
            rules=config.item_rules,
            cursor=state.cursor,
            full=full,
            last_full=state.last_full,
            state={k: v for k, v in state.values.items() if not _is_matches_key(k)},
            native_clauses=config.native_clauses(name),
            budget_s=budget_s,
            progress=progress,
            needs_start=start_needed(
                config.model.goals,
                name,
                started,
                config.tz,
                config.model.status.forecast.window_weeks,
            ),
            history_from=history_from,
        )
        t0 = time.monotonic()
        structlog.contextvars.bind_contextvars(source=name)
        try:
            result = source.fetch(ctx)
        except GoalsyncError as exc:
            log.warning("source_failed", error=str(exc), kind=type(exc).__name__)
            return _Outcome(name, source.type, error=exc, seconds=time.monotonic() - t0)
        except Exception as exc:  # a bug in a connector must not take the other sources down
            log.error("source_crashed", error=f"{type(exc).__name__}: {exc}")
            return _Outcome(name, source.type, error=exc, seconds=time.monotonic() - t0)
        finally:
            structlog.contextvars.unbind_contextvars("source")
        seconds = time.monotonic() - t0
        log.info(
            "source_pulled",
            source=name,
            items=len(result.items),
            events=len(result.events),
            metrics=len(result.metrics),
            requests=result.requests,
            seconds=round(seconds, 3),
        )
        return _Outcome(name, source.type, result=result, seconds=seconds)

    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_SOURCES, len(sources))))
    try:
        # Worker threads do not inherit contextvars: without a copy, every source's log lines
        # would lose the run_id bound by the engine.
        futures = [
            pool.submit(contextvars.copy_context().run, fetch, name, src)
            for name, src in sources.items()
        ]
        t0 = time.monotonic()
        committed = meanwhile(sources)
        log.info(
            "state_loaded",
            items=sum(len(r.items) for r in committed.values()),
            events=sum(len(r.events) for r in committed.values()),
            seconds=round(time.monotonic() - t0, 3),
        )
        outcomes = [f.result() for f in futures]
    except BaseException:
        # SIGTERM (sync.signals.Terminated) or Ctrl-C: do not wait here for a request that may
        # hang for its whole timeout; the cleanup up the stack (the lock) runs first.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return _Fetched(outcomes=outcomes, committed=committed)


def _commit_for(
    result: PullResult,
    type_: str,
    staged: Records,
    recorded: list[Event],
    values: Mapping[str, str],
    full: bool,
) -> SourceCommit:
    if result.complete:
        records = staged
    else:  # only what changed is written; the rest is committed already
        records = Records(
            items=tuple(result.items),
            events=(*result.events, *recorded),
            metrics=tuple(result.metrics),
            goal_defs=tuple(result.goal_defs),
            overrides=tuple(result.overrides),
            checkins=tuple(result.checkins),
        )
    return SourceCommit(
        type=type_,
        ok=True,
        records=records,
        complete=result.complete,
        cursor=result.cursor,
        values=values,
        full=full,
    )


def _kept_matches(state: SourceState) -> dict[str, frozenset[str]]:
    """The keys a stale source's native clauses matched when it last succeeded."""
    out: dict[str, frozenset[str]] = {}
    for key, raw in state.values.items():
        if _is_matches_key(key) and raw:
            out.update({text: frozenset(keys) for text, keys in json.loads(raw).items()})
    return out


def _describe(error: Exception | None) -> str:
    """The error as the Run tab, the state store and the summary show it, secrets masked."""
    if isinstance(error, GoalsyncError):
        return secrets.mask(str(error))
    return secrets.mask(f"{type(error).__name__}: {error}")
