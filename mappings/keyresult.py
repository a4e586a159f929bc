"""One key result: select its items, measure them, forecast the rest, find its risks, and
build its Status row.

In two steps, so that an evaluation can run every key result's forecast at once, on all cores
(numpy releases the GIL, so threads do): `measure_kr` selects and measures, and says what to
forecast; `finish_kr` takes the forecast and makes the row and the risks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

from mappings.forecast import (
    MIN_DONE_IN_WINDOW,
    Forecast,
    ForecastCache,
    forecast_dates,
    seed_for,
)
from mappings.measures import MEASURES, Measured, measure_items, measure_metric
from mappings.nodata import NoData, candidate_sources, clause_text, unread_sources
from mappings.plan import PlannedGoal, PlannedKR
from mappings.risks import forecast_risk, item_risks, plan_risks, scope_risk
from mappings.rows import EvalContext, build_row, round1
from mappings.select import select_kr
from mappings.status import local_date, progress_pct
from mappings.suggest import check_clause
from mappings.timing import daily_throughput, done_in_window, window_bounds
from sync.base.records import WorkItem
from sync.base.report import RiskRow, StatusRow


@dataclass(frozen=True, slots=True)
class ForecastJob:
    daily: list[float]
    remaining: float
    seed: int


@dataclass(slots=True)
class MeasuredKR:
    goal: PlannedGoal
    kr: PlannedKR
    chosen: list[int]
    picked: list[WorkItem]
    measured: Measured
    sources: set[str]
    job: ForecastJob | None
    unread: tuple[tuple[str, str], ...] = ()  # sources it could draw from, never read
    no_data: NoData | None = None
    by_tag: frozenset[int] = frozenset()  # chosen by an alignment tag, not a clause


def measure_kr(goal: PlannedGoal, kr: PlannedKR, ctx: EvalContext) -> MeasuredKR:
    chosen: list[int] = []
    picked: list[WorkItem] = []
    by_tag: frozenset[int] = frozenset()
    if kr.measure == "metric":
        measured = measure_metric(kr, ctx.series, ctx.now)
        sources = ctx.series.sources(kr.metric or "")
    else:
        chosen, by_tag = select_kr(ctx.index, kr.clauses, ctx.tagged.get(kr.id, ()))
        picked = [ctx.items[i] for i in chosen]
        measured = measure_items(kr, picked, ctx.clock)
        sources = {i.source for i in picked} | {s for c in kr.clauses for s in (c.source or ())}
    job = _forecast_job(kr, picked, measured, ctx)
    out = MeasuredKR(goal, kr, chosen, picked, measured, sources, job, by_tag=by_tag)
    if measured.value is not None:
        # A metric's value names its sources; items may come from any source a clause allows.
        if kr.measure != "metric":
            out.unread = unread_sources(ctx.health, candidate_sources(kr.clauses))
        return out
    out.no_data = _no_data(kr, chosen, measured, ctx)
    out.unread = out.no_data.unread
    if not out.no_data.reason:  # nothing read: "0 / 0" would read as a count
        out.measured = replace(measured, done=None, total=None)
    return out


def _no_data(kr: PlannedKR, chosen: Sequence[int], measured: Measured, ctx: EvalContext) -> NoData:
    """Why a key result has no value: the sources it draws from never read successfully, the
    clauses that match no item, or what its measure says (no metric value, nothing finished)."""
    reason = measured.note.removeprefix("no data: ")
    if kr.measure == "metric":
        # Any source may hold a metric: each never read may be the one that would.
        return NoData(reason, unread=unread_sources(ctx.health, None))
    names = candidate_sources(kr.clauses)
    unread = unread_sources(ctx.health, names)
    if chosen:
        return NoData(reason, unread=unread)
    considered = set(ctx.health) if names is None else {n.casefold() for n in names}
    if considered and len(unread) >= len(considered):
        return NoData("", unread=unread)  # nothing was read that could match: blame no clause
    if not kr.clauses:
        return NoData("no select clause", unread=unread)
    matched = " or ".join(clause_text(c) for c in kr.clauses)
    # The Note names what is at fault and the closest existing values (DESIGN: "did you mean"),
    # through the same checks `goalsync explain` and the Run tab use.
    known = tuple(ctx.health)
    hints = [check_clause(c, ctx.index, known, ctx.suggest_memo).hint() for c in kr.clauses]
    said = "; ".join(h for h in hints if h)
    reason = f"no items match {matched}" + (f": {said}" if said else "")
    return NoData(reason, unmatched=kr.clauses, unread=unread)


def run_forecasts(
    jobs: Sequence[ForecastJob | None], ctx: EvalContext, cache: ForecastCache | None = None
) -> list[Forecast | None]:
    """Every key result's forecast, on all cores. Each is seeded by its key result, so the
    result does not depend on the order or the threads. With a `cache`, a forecast whose
    inputs it knows is taken from it, not computed, and every one found or computed goes into
    `cache.used`."""
    today = local_date(ctx.now, ctx.tz)
    trials = ctx.rules.forecast.trials
    if cache is None:
        return _compute(jobs, today, trials)
    keys = [
        None if j is None else cache.key(j.daily, j.remaining, today, trials=trials, seed=j.seed)
        for j in jobs
    ]
    missing = [None if k in cache.known else j for j, k in zip(jobs, keys, strict=True)]
    computed = _compute(missing, today, trials)
    out: list[Forecast | None] = []
    for key, made in zip(keys, computed, strict=True):
        if key is None:
            out.append(None)
            continue
        found = cache.known.get(key, made)
        cache.used[key] = found
        out.append(found)
    return out


def _compute(jobs: Sequence[ForecastJob | None], today: date, trials: int) -> list[Forecast | None]:
    def one(job: ForecastJob | None) -> Forecast | None:
        if job is None:
            return None
        return forecast_dates(job.daily, job.remaining, today, trials=trials, seed=job.seed)

    work = [j for j in jobs if j is not None]
    if len(work) < 4:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, jobs))


def finish_kr(
    m: MeasuredKR, forecast: Forecast | None, ctx: EvalContext
) -> tuple[StatusRow, list[RiskRow]]:
    kr = m.kr
    measured = m.measured
    if m.no_data is not None:  # the risk gives the same reason as the Note
        measured = replace(measured, note=m.no_data.note())
    risks = item_risks(kr, m.picked, ctx.now, ctx.rules, ctx.tz)
    risks.extend(plan_risks(m.goal, kr, measured))
    if MEASURES[kr.measure].scope_risk:
        risks.extend(scope_risk(kr, m.picked, ctx.now, ctx.rules.scope_growth_pct))
    if forecast is not None:
        risks.extend(forecast_risk(kr, forecast.p85))
    progress = round1(progress_pct(m.measured.value, kr.baseline, kr.target, kr.direction))
    row = build_row(
        ident=kr.id,
        level="kr",
        goal=m.goal,
        title=kr.title,
        owner=kr.owner,
        start=kr.start,
        due=kr.due,
        progress=progress,
        ctx=ctx,
        sources=m.sources,
        value=measured.value,
        target=kr.target,
        measured=measured,
        forecast_p85=forecast.p85 if forecast else None,
        risk_count=len(risks),
        no_data=m.no_data,
        unread=m.unread,
    )
    return row, risks


def _forecast_job(
    kr: PlannedKR, picked: Sequence[WorkItem], measured: Measured, ctx: EvalContext
) -> ForecastJob | None:
    """What to replay for an item measure with at least 3 items done in the window."""
    left = MEASURES[kr.measure].remaining
    if left is None or measured.value is None:
        return None
    remaining = left(kr, picked, measured.value)
    if remaining is None or remaining <= 0:
        return None
    weeks = ctx.clock.weeks(kr)
    # The window is the full days before today: today's partial count would read as a slow day.
    first, start, end = window_bounds(ctx.now, weeks, ctx.tz)
    scope = [i for i in picked if i.state != "cancelled"]
    finished = done_in_window(scope, ctx.clock.times, start, end)
    if len(finished) < MIN_DONE_IN_WINDOW:
        return None
    daily = daily_throughput(finished, first, weeks * 7, ctx.tz, by_points=kr.by == "points")
    return ForecastJob(daily, remaining, seed_for(kr.id))
