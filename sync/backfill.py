"""`goalsync backfill --from D --to D`: History for days before goalsync was installed.

Pulls every source (as a run would, without moving any cursor), then evaluates each day at its
last moment in the config's timezone, with every item rebuilt as it stood then from its events
(the state it had at that time), and writes those History rows to the store. The next run
publishes them: a new install shows trends from its first day. Days are evaluated in order, so
each day's Trend 7d sees the days before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog

from mappings.evaluate import evaluate
from sync.base.errors import EXIT_OK, EXIT_STALE, ConfigError
from sync.base.report import HistoryRow
from sync.config import LoadedConfig
from sync.engine import build, plan_with_goal_rows
from sync.heap import paused_gc
from sync.lock import run_lock
from sync.pull import pull_sources
from sync.store import Store

log = structlog.get_logger(__name__)
MAX_DAYS = 366 * 2


@dataclass(frozen=True, slots=True)
class BackfillOutcome:
    exit_code: int
    first: date
    last: date
    rows: int
    stale: tuple[str, ...] = ()


def backfill(
    config: LoadedConfig,
    store: Store,
    first: date,
    last: date,
    *,
    budget_s: float = 300.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackfillOutcome:
    started = clock()
    today = started.astimezone(config.tz).date()
    if first > last:
        raise ConfigError(f"backfill: --from {first} is after --to {last}")
    if last > today:
        raise ConfigError(f"backfill: --to {last} is in the future (today is {today})")
    if (last - first).days >= MAX_DAYS:
        raise ConfigError(f"backfill: at most {MAX_DAYS} days at a time")
    sources, _ = build(config)
    with run_lock(store.state_dir, started):
        pulled = pull_sources(
            config,
            sources,
            store,
            started,
            budget_s=budget_s,
            evaluated_from=datetime.combine(first, time.min, tzinfo=config.tz),
        )
        if pulled.rejected:
            raise ConfigError("; ".join(pulled.rejected))
        plan = plan_with_goal_rows(config, pulled.records)
        history = list(store.history())
        made: list[HistoryRow] = []
        day = first
        while day <= last:
            end_of_day = datetime.combine(day, time.max, tzinfo=config.tz).astimezone(UTC)
            with paused_gc():
                report = evaluate(
                    plan,
                    pulled.records,
                    min(end_of_day, started),
                    rules=config.model.status,
                    tz=config.tz,
                    history=[*history, *made],
                    health=pulled.health,
                    jql_matches=pulled.jql_matches,
                    as_of=True,
                    people=config.people,
                )
            made.extend(report.history)
            day += timedelta(days=1)
        stale = tuple(r.name for r in pulled.runs if not r.ok)
        store.add_history(made, exit_code=EXIT_STALE if stale else EXIT_OK)
    log.info(
        "backfilled",
        first=first.isoformat(),
        last=last.isoformat(),
        rows=len(made),
        stale=list(stale),
    )
    return BackfillOutcome(
        exit_code=EXIT_STALE if stale else EXIT_OK,
        first=first,
        last=last,
        rows=len(made),
        stale=stale,
    )
