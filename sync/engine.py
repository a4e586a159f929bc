"""One run, as DESIGN.md's flow: build (no I/O beyond local checks), lock, pull every source
concurrently, evaluate, publish to every sink, and only then commit the state.

Exit codes: 0 ok; 2 config error or a scope a source rejects (nothing published); 3 published but
some source stale; 4 publishing failed (the state dir is as it was before the run).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from mappings.evaluate import SourceHealth, evaluate
from sync import __version__
from sync.config import LoadedConfig
from sync.contracts import PreparedWrite, PublishContext, PullContext, PullResult, Sink, Source
from sync.errors import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_PUBLISH,
    EXIT_STALE,
    ConfigError,
    GoalsyncError,
    PublishError,
)
from sync.lock import LockHeld, run_lock
from sync.records import Event, Records
from sync.report import (
    HistoryRow,
    RunInfo,
    SourceRun,
    StatusReport,
    Table,
    status_counts,
    to_tables,
)
from sync.staging import merge, staged_records
from sync.store import SourceCommit, SourceState, Store

log = structlog.get_logger(__name__)
MAX_PARALLEL_SOURCES = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    full: bool = False
    dry_run: bool = False
    as_of: datetime | None = None
    retry_budget_s: float = 300.0


@dataclass(slots=True, kw_only=True)
class RunOutcome:
    exit_code: int
    run_id: str
    report: StatusReport | None = None
    run: RunInfo | None = None
    tables: list[Table] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    skipped: bool = False
    error: str = ""
    seconds: float = 0.0


@dataclass(slots=True)
class _Pulled:
    name: str
    type: str
    result: PullResult | None = None
    error: Exception | None = None
    seconds: float = 0.0


def build(config: LoadedConfig) -> tuple[dict[str, Source], list[Sink]]:
    """Every source and sink of the config, or one ConfigError listing every one that cannot
    be built (a file that does not exist, a connector not available yet)."""
    sources: dict[str, Source] = {}
    sinks: list[Sink] = []
    errors: list[str] = []
    for name, source_cfg in config.model.sources.items():
        try:
            sources[name] = source_cfg.build(name, config.base_dir)
        except ConfigError as exc:
            errors.append(str(exc))
    for sink_cfg in config.model.sinks:
        try:
            sinks.append(sink_cfg.build(config.base_dir))
        except ConfigError as exc:
            errors.append(str(exc))
    if errors:
        raise ConfigError(
            f"{config.path}: {len(errors)} source(s) or sink(s) cannot be used\n  "
            + "\n  ".join(errors)
        )
    return sources, sinks


def run(
    config: LoadedConfig,
    store: Store,
    options: RunOptions,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunOutcome:
    started = clock()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    structlog.contextvars.bind_contextvars(run_id=run_id)
    try:
        sources, sinks = build(config)  # raises ConfigError: exit 2 before any request
        if options.dry_run:
            return _run_locked(config, store, options, sources, sinks, started, run_id, clock)
        try:
            with run_lock(store.state_dir, started):
                return _run_locked(config, store, options, sources, sinks, started, run_id, clock)
        except LockHeld as held:
            log.info("run_skipped", reason="another run holds the lock", holder=held.holder)
            return RunOutcome(exit_code=EXIT_OK, run_id=run_id, skipped=True)
    finally:
        structlog.contextvars.unbind_contextvars("run_id")


def _run_locked(
    config: LoadedConfig,
    store: Store,
    options: RunOptions,
    sources: Mapping[str, Source],
    sinks: Sequence[Sink],
    started: datetime,
    run_id: str,
    clock: Callable[[], datetime],
) -> RunOutcome:
    t0 = time.monotonic()
    now = options.as_of or started
    states = store.source_states()
    committed = store.load_records(sources)
    log.info(
        "run_started",
        sources=len(sources),
        sinks=len(sinks),
        full=options.full,
        as_of=now.isoformat(),
        dry_run=options.dry_run,
    )
    pulls = _pull_all(config, sources, states, started, options)
    rejected = [p for p in pulls if isinstance(p.error, ConfigError)]
    if rejected:
        message = "; ".join(str(p.error) for p in rejected)
        log.error("scope_rejected", error=message)
        return RunOutcome(exit_code=EXIT_CONFIG, run_id=run_id, error=message)

    staged: dict[str, Records] = {}
    commits: dict[str, SourceCommit] = {}
    health: dict[str, SourceHealth] = {}
    runs: list[SourceRun] = []
    for p in pulls:
        state = states.get(p.name, SourceState())
        if p.result is not None:
            records, recorded = staged_records(
                committed[p.name], p.result, started, state.last_success
            )
            staged[p.name] = records
            commits[p.name] = _commit_for(p, records, recorded, options.full)
            health[p.name] = SourceHealth(ok=True, last_success=started)
            runs.append(
                SourceRun(
                    name=p.name,
                    type=p.type,
                    ok=True,
                    last_success=started,
                    items=len(records.items),
                    metrics=len(records.metrics),
                    requests=p.result.requests,
                    warnings=tuple(p.result.warnings),
                )
            )
        else:
            error = _describe(p.error)
            staged[p.name] = committed[p.name]  # last good values, marked stale
            commits[p.name] = SourceCommit(type=p.type, ok=False, error=error)
            since = state.stale_since or started
            health[p.name] = SourceHealth(
                ok=False, last_success=state.last_success, stale_since=since, error=error
            )
            runs.append(
                SourceRun(
                    name=p.name,
                    type=p.type,
                    ok=False,
                    last_success=state.last_success,
                    stale_since=since,
                    items=len(committed[p.name].items),
                    metrics=len(committed[p.name].metrics),
                    error=error,
                )
            )
    records = merge(staged[name] for name in sources)
    history = store.history()
    report = evaluate(
        config.plan,
        records,
        now,
        rules=config.model.status,
        tz=config.tz,
        history=history,
        health=health,
        as_of=options.as_of is not None,
        people=config.people,
    )
    info = RunInfo(
        run_id=run_id,
        started=started,
        as_of=now,
        version=__version__,
        sources=tuple(runs),
        full=options.full,
    )
    full_history = _upsert_history(history, report.history)
    tables = to_tables(report, info, config.tz, full_history)
    any_stale = any(not r.ok for r in runs)
    exit_code = EXIT_STALE if any_stale else EXIT_OK
    outcome = RunOutcome(exit_code=exit_code, run_id=run_id, report=report, run=info, tables=tables)
    log.info("evaluated", goals=len(config.plan.goals), **status_counts(report))
    if options.dry_run:
        outcome.seconds = time.monotonic() - t0
        log.info("dry_run_finished", exit_code=exit_code, seconds=round(outcome.seconds, 3))
        return outcome

    ctx = PublishContext(run_id=run_id, now=now, tz=config.tz, history=full_history)
    try:
        outcome.written = _publish(sinks, tables, ctx)
    except PublishError as exc:
        outcome.exit_code, outcome.error = EXIT_PUBLISH, str(exc)
        outcome.seconds = time.monotonic() - t0
        log.error("publish_failed", error=str(exc), state="unchanged")
        return outcome
    store.commit_run(
        run_id=run_id,
        started=started,
        finished=clock(),
        as_of=now,
        exit_code=exit_code,
        summary={"status": status_counts(report), "sources": {r.name: r.ok for r in runs}},
        sources=commits,
        history=report.history,
    )
    outcome.seconds = time.monotonic() - t0
    log.info(
        "run_finished",
        exit_code=exit_code,
        seconds=round(outcome.seconds, 3),
        stale=[r.name for r in runs if not r.ok],
    )
    return outcome


def _pull_all(
    config: LoadedConfig,
    sources: Mapping[str, Source],
    states: Mapping[str, SourceState],
    started: datetime,
    options: RunOptions,
) -> list[_Pulled]:
    def pull(name: str, source: Source) -> _Pulled:
        state = states.get(name, SourceState())
        ctx = PullContext(
            source=name,
            run_started=started,
            tz=config.tz,
            rules=config.item_rules,
            cursor=state.cursor,
            full=options.full,
            state=state.values,
            jql_clauses=config.jql_clauses(name),
            budget_s=options.retry_budget_s,
        )
        t0 = time.monotonic()
        structlog.contextvars.bind_contextvars(source=name)
        try:
            result = source.fetch(ctx)
        except GoalsyncError as exc:
            log.warning("source_failed", error=str(exc), kind=type(exc).__name__)
            return _Pulled(name, source.type, error=exc, seconds=time.monotonic() - t0)
        except Exception as exc:  # a bug in a connector must not take the other sources down
            log.error("source_crashed", error=f"{type(exc).__name__}: {exc}")
            return _Pulled(name, source.type, error=exc, seconds=time.monotonic() - t0)
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
        return _Pulled(name, source.type, result=result, seconds=seconds)

    if len(sources) == 1:
        return [pull(*next(iter(sources.items())))]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SOURCES, len(sources))) as pool:
        futures = [pool.submit(pull, name, src) for name, src in sources.items()]
        return [f.result() for f in futures]


def _commit_for(p: _Pulled, staged: Records, recorded: Sequence[Event], full: bool) -> SourceCommit:
    result = p.result
    assert result is not None
    if result.complete:
        records = staged
    else:  # only what changed is written; the rest is already committed
        records = Records(
            items=tuple(result.items),
            events=(*result.events, *recorded),
            metrics=tuple(result.metrics),
            goal_defs=tuple(result.goal_defs),
            overrides=tuple(result.overrides),
        )
    return SourceCommit(
        type=p.type,
        ok=True,
        records=records,
        complete=result.complete,
        cursor=result.cursor,
        values=result.state,
        full=full,
    )


def _publish(sinks: Sequence[Sink], tables: Sequence[Table], ctx: PublishContext) -> list[str]:
    """Prepare every sink (file sinks render temp files), send the remote writes, then rename
    the files into place. On any failure, nothing prepared is left behind."""
    prepared: list[PreparedWrite] = []
    applied: list[PreparedWrite] = []
    try:
        for sink in sinks:
            prepared.append(sink.prepare(tables, ctx))
        for write in sorted(prepared, key=lambda w: not w.remote):  # remote writes first
            write.apply()
            applied.append(write)
            log.info("sink_written", sink=write.description)
    except Exception as exc:
        for write in prepared:
            write.discard()
        detail = str(exc) if isinstance(exc, GoalsyncError) else f"{type(exc).__name__}: {exc}"
        remote = [w.description for w in applied if w.remote]
        if remote:
            detail += f" (already written: {', '.join(remote)})"
        raise PublishError(detail) from None
    return [w.description for w in applied]


def _upsert_history(history: Sequence[HistoryRow], today: Sequence[HistoryRow]) -> list[HistoryRow]:
    """The store's History with today's rows replacing any of the same (date, ID)."""
    keys = {(h.date, h.id) for h in today}
    return [*(h for h in history if (h.date, h.id) not in keys), *today]


def _describe(error: Exception | None) -> str:
    if isinstance(error, GoalsyncError):
        return str(error)
    return f"{type(error).__name__}: {error}"
