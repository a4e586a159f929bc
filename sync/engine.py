"""One run, as DESIGN.md's flow: build (no I/O beyond local checks), lock, pull every source
concurrently, evaluate, publish to every sink, and only then commit the state.

Exit codes: 0 ok; 2 config error or a scope a source rejects (nothing published); 3 published but
some source stale; 4 publishing failed (the state dir is as it was before the run).
"""

from __future__ import annotations

import importlib.metadata
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from mappings.evaluate import evaluate
from mappings.forecast import ForecastCache
from mappings.plan import Plan, resolve_plan
from sync import __version__
from sync.base import secrets
from sync.base.contracts import (
    HistoryKeeper,
    Opener,
    PreparedWrite,
    PublishContext,
    Sink,
    Source,
)
from sync.base.errors import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_PUBLISH,
    EXIT_STALE,
    ConfigError,
    GoalsyncError,
    PublishError,
)
from sync.base.records import Records
from sync.base.report import HistoryRow, RunInfo, StatusReport, Table, status_counts
from sync.config import LoadedConfig
from sync.heap import keep_long_lived, paused_gc
from sync.lock import LockHeld, run_lock
from sync.pull import Pulled, PullWatcher, pull_sources
from sync.store import RunRow, Store
from sync.tables import to_tables

log = structlog.get_logger(__name__)
FORECASTS_MARK = "forecasts"  # the forecast cache, kept with the run (Store.mark)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    full: bool = False
    dry_run: bool = False
    as_of: datetime | None = None
    retry_budget_s: float = 300.0
    watcher: PullWatcher | None = None  # progress of the pull (the CLI's bars in a terminal)
    # Values committed with the run's records, or not at all (the week whose digest it sends).
    kept: Mapping[str, str] = field(default_factory=dict)


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
    *,
    built: tuple[dict[str, Source], list[Sink]] | None = None,
) -> RunOutcome:
    """One run. `built`: the config's sources and sinks, built already (by `plan`, which reads
    the sinks before the dry run); by default they are built here."""
    started = clock()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    structlog.contextvars.bind_contextvars(run_id=run_id)
    try:
        # build raises ConfigError: exit 2 before any request
        sources, sinks = built if built is not None else build(config)
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


def plan_with_goal_rows(config: LoadedConfig, records: Records) -> Plan:
    """The YAML's plan with the Goals tab (or csv_goals) applied; every change is listed."""
    if not records.goal_defs:
        return config.plan
    plan = resolve_plan(
        config.model.goals,
        config.model.cycle,
        records.goal_defs,
        align_prefix=config.model.align_label_prefix,
    )
    for change in plan.changes:
        log.info("plan_changed_by_goal_row", change=change)
    for warning in plan.warnings:
        log.warning("goal_row_ignored", problem=warning)
    return plan


def _run_locked(
    config: LoadedConfig,
    store: Store,
    options: RunOptions,
    sources: dict[str, Source],
    sinks: Sequence[Sink],
    started: datetime,
    run_id: str,
    clock: Callable[[], datetime],
) -> RunOutcome:
    t0 = time.monotonic()
    now = options.as_of or started
    log.info(
        "run_started",
        sources=len(sources),
        sinks=len(sinks),
        full=options.full,
        as_of=now.isoformat(),
        dry_run=options.dry_run,
    )
    keep_long_lived()  # the connectors' modules, imported as they were built
    if not options.dry_run:  # a dry run touches no sink
        _open_sinks(sinks, options.retry_budget_s)
    pulled = pull_sources(
        config,
        sources,
        store,
        started,
        full=options.full,
        budget_s=options.retry_budget_s,
        watcher=options.watcher,
        evaluated_from=options.as_of,
    )
    keep_long_lived()  # the loaded and pulled records: they live to the end of the run
    if pulled.rejected:
        message = "; ".join(pulled.rejected)
        log.error("scope_rejected", error=message)
        return RunOutcome(exit_code=EXIT_CONFIG, run_id=run_id, error=message)
    stored = store.history()
    history = stored or _seed_history(sinks, options.retry_budget_s)
    forecasts = load_forecast_cache(store)
    as_of = options.as_of is not None
    report = _evaluate(config, pulled, now, history, as_of=as_of, forecasts=forecasts)
    info = RunInfo(
        run_id=run_id,
        started=started,
        as_of=now,
        version=__version__,
        sources=tuple(pulled.runs),
        full=options.full,
    )
    full_history = upsert_history(history, report.history)
    tables = to_tables(report, info, config.tz, full_history)
    exit_code = EXIT_STALE if pulled.any_stale else EXIT_OK
    outcome = RunOutcome(exit_code=exit_code, run_id=run_id, report=report, run=info, tables=tables)
    log.info("evaluated", goals=len(config.plan.goals), **status_counts(report))
    for where, why in report.unmatched:  # a typo in a clause: shown even in a quiet terminal
        log.warning("clause_matches_nothing", where=where, problem=why)
    if options.dry_run:
        outcome.seconds = time.monotonic() - t0
        log.info("dry_run_finished", exit_code=exit_code, seconds=round(outcome.seconds, 3))
        return outcome

    ctx = PublishContext(
        run_id=run_id, now=now, tz=config.tz, history=full_history, budget_s=options.retry_budget_s
    )
    summary = {"status": status_counts(report), "sources": {r.name: r.ok for r in pulled.runs}}
    # The state's rows are written (not committed) while the remote sinks publish: they mostly
    # wait for the Sheets server, the rows are mostly JSON encoding. COMMIT once every sink
    # published; a failed publish or a SIGTERM before it rolls back (Store.open_run).
    with store.open_run(
        started=started,
        sources=pulled.commits,
        history=report.history if stored else full_history,
        kept={**options.kept, **kept_forecasts(forecasts, as_of=as_of)},
    ) as state:
        try:
            outcome.written = publish(sinks, tables, ctx, remote_started=state.start)
        except PublishError as exc:
            outcome.exit_code, outcome.error = EXIT_PUBLISH, str(exc)
            outcome.seconds = time.monotonic() - t0
            log.error("publish_failed", error=str(exc), state="unchanged")
            return outcome
        state.commit(
            RunRow(
                run_id=run_id,
                started=started,
                finished=clock(),
                as_of=now,
                exit_code=exit_code,
                summary=summary,
            )
        )
    outcome.seconds = time.monotonic() - t0
    log.info(
        "run_finished",
        exit_code=exit_code,
        seconds=round(outcome.seconds, 3),
        stale=[r.name for r in pulled.runs if not r.ok],
    )
    return outcome


def _evaluate(
    config: LoadedConfig,
    pulled: Pulled,
    now: datetime,
    history: Sequence[HistoryRow],
    *,
    as_of: bool,
    forecasts: ForecastCache,
) -> StatusReport:
    with paused_gc():
        return _evaluate_now(config, pulled, now, history, as_of=as_of, forecasts=forecasts)


def _evaluate_now(
    config: LoadedConfig,
    pulled: Pulled,
    now: datetime,
    history: Sequence[HistoryRow],
    *,
    as_of: bool,
    forecasts: ForecastCache,
) -> StatusReport:
    return evaluate(
        plan_with_goal_rows(config, pulled.records),
        pulled.records,
        now,
        rules=config.model.status,
        tz=config.tz,
        history=history,
        health=pulled.health,
        jql_matches=pulled.jql_matches,
        as_of=as_of,
        people=config.people,
        forecast_cache=forecasts,
    )


def _open_sinks(sinks: Sequence[Sink], budget_s: float) -> None:
    """Open every sink that can be checked before the pull (Opener): one that does not exist
    raises ConfigError here, before any source request (exit 2, nothing pulled or published).
    One that cannot be read now is left to the publish, which tries again."""
    for sink in sinks:
        if not isinstance(sink, Opener):
            continue
        try:
            sink.open(budget_s)
        except ConfigError:
            raise
        except GoalsyncError as exc:
            log.warning("sink_not_opened", sink=sink.type, error=str(exc), effect="publish retries")


def _seed_history(sinks: Sequence[Sink], budget_s: float) -> list[HistoryRow]:
    """An empty state dir: take History back from a sink that keeps it (the Sheets tab)."""
    for sink in sinks:
        if not isinstance(sink, HistoryKeeper):
            continue
        try:
            rows = sink.read_history(budget_s)
        except GoalsyncError as exc:
            log.warning("history_not_seeded", sink=sink.type, error=str(exc))
            continue
        if rows:
            log.info("history_seeded", sink=sink.type, rows=len(rows))
            return rows
    return []


def publish(
    sinks: Sequence[Sink],
    tables: Sequence[Table],
    ctx: PublishContext,
    *,
    remote_started: Callable[[], None],
) -> list[str]:
    """Prepare every sink (file sinks render temp files), send the remote writes, then rename
    the files into place. On any failure, nothing prepared is left behind. `remote_started`:
    called as the first remote write starts (the run's state is written meanwhile)."""
    prepared: list[PreparedWrite] = []
    applied: list[PreparedWrite] = []
    try:
        for sink in sinks:
            prepared.append(sink.prepare(tables, ctx))
        for write in sorted(prepared, key=lambda w: not w.remote):  # remote writes first
            if write.remote and not applied:
                remote_started()
            write.apply()
            applied.append(write)
            log.info("sink_written", sink=write.description)
    except BaseException as exc:
        for write in prepared:
            write.discard()
        if not isinstance(exc, Exception):
            # SIGTERM (sync.signals.Terminated) or Ctrl-C mid-publish: the rendered temp files
            # are gone (above); the run stops here, nothing committed.
            raise
        if isinstance(exc, ConfigError) and not applied:
            raise  # a sink that does not exist (a missing spreadsheet): exit 2, nothing written
        detail = str(exc) if isinstance(exc, GoalsyncError) else f"{type(exc).__name__}: {exc}"
        remote = [w.description for w in applied if w.remote]
        if remote:
            detail += f" (already written: {', '.join(remote)})"
        raise PublishError(secrets.mask(detail)) from None  # a sink's error may quote a token
    return [w.description for w in applied]


def upsert_history(history: Sequence[HistoryRow], today: Sequence[HistoryRow]) -> list[HistoryRow]:
    """History with today's rows replacing any of the same (date, ID)."""
    keys = {(h.date, h.id) for h in today}
    return [*(h for h in history if (h.date, h.id) not in keys), *today]


def load_forecast_cache(store: Store) -> ForecastCache:
    """The forecasts the last committed run used: committed with its run (`kept`), so a failed
    publish or a dry run leaves them as they were. A run keeps only the ones it used, so the
    cache never holds more than one run's worth. Salted with numpy's version (from its
    installed metadata: importing numpy costs ~0.13 s, and an unchanged run computes no
    forecast): another numpy's random streams may differ, and its results would not be this
    one's. None known when that version cannot be told."""
    try:
        salt = "numpy " + importlib.metadata.version("numpy")
    except importlib.metadata.PackageNotFoundError:
        log.info("forecast_cache_off", reason="numpy's version cannot be read")
        return ForecastCache(salt="numpy unknown")
    return ForecastCache.loads(store.mark(FORECASTS_MARK), salt)


def kept_forecasts(cache: ForecastCache, *, as_of: bool) -> dict[str, str]:
    """What to commit with the run. An --as-of run keeps none of its own: they would push out
    the regular runs' forecasts, for dates no regular run asks for."""
    return {} if as_of else {FORECASTS_MARK: cache.dumps()}
