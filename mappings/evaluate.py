"""One evaluation: plan + records + now -> StatusReport. Pure: no I/O, no clock.

Key results are measured first, then goals bottom-up (a goal rolls up its key results and its child
goals, weighted), then the portfolio views: alignment, unaligned items, workload, history rows and
trend. Overrides from the Overrides tab win over the computed status until their date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo

from mappings.asof import items_as_of
from mappings.checkins import latest_checkins, with_checkin
from mappings.forecast import ForecastCache
from mappings.keyresult import finish_kr, measure_kr, run_forecasts
from mappings.measures import Clock, MetricSeries
from mappings.model import StatusRules
from mappings.nodata import NoData, unread_sources
from mappings.plan import Plan
from mappings.portfolio import alignment_and_unaligned, workload_rows
from mappings.risks import plan_risks
from mappings.rows import (
    EvalContext,
    SourceHealth,
    active_overrides,
    build_row,
    round1,
    trend_base,
)
from mappings.select import ItemIndex, JqlMatches, Tags, alignment_tags
from mappings.status import local_date
from mappings.suggest import unmatched_clauses
from mappings.timing import ItemTimes
from sync.base.records import Records, WorkItem
from sync.base.report import HistoryRow, ItemRow, RiskRow, RowStatus, StatusReport, StatusRow

__all__ = ["SourceHealth", "evaluate"]


def evaluate(
    plan: Plan,
    records: Records,
    now: datetime,
    *,
    rules: StatusRules,
    tz: tzinfo,
    history: Sequence[HistoryRow] = (),
    health: Mapping[str, SourceHealth] | None = None,
    jql_matches: JqlMatches | None = None,
    as_of: bool = False,
    people: Mapping[str, str] | None = None,
    forecast_cache: ForecastCache | None = None,
) -> StatusReport:
    """Compute every tab's rows at `now`. With `as_of`, items are rebuilt as they stood at now.
    `people` maps casefolded logins and e-mails to one name per person (see people_index).
    `forecast_cache`: forecasts known from an earlier run, taken instead of computed (the same
    inputs give the same dates); the ones this evaluation used are left in its `used`."""
    items = evaluation_items(records, now, as_of=as_of, people=people)
    tags = plan_tags(plan, items)
    today = local_date(now, tz)
    ctx = EvalContext(
        now=now,
        rules=rules,
        tz=tz,
        items=items,
        index=ItemIndex(items, jql_matches),
        series=MetricSeries([m for m in records.metrics if m.at <= now]),
        clock=Clock(now, tz, ItemTimes(records.events, now), rules.forecast.window_weeks),
        overrides=active_overrides(records.overrides, today),
        health=health or {},
        trend_base=trend_base(history, today),
        tagged=tags.by_kr,
    )
    kr_rows: dict[str, StatusRow] = {}
    kr_risks: dict[str, list[RiskRow]] = {}
    item_rows: list[ItemRow] = []
    selected: dict[str, list[int]] = {}
    ids = {g.id for g in plan.goals} | {kr.id for g in plan.goals for kr in g.key_results}
    checkins = latest_checkins(records.checkins, ids, today)
    measured = [measure_kr(goal, kr, ctx) for goal in plan.goals for kr in goal.key_results]
    forecasts = run_forecasts([m.job for m in measured], ctx, forecast_cache)
    for m, forecast in zip(measured, forecasts, strict=True):
        row, found = finish_kr(m, forecast, ctx)
        row, found = with_checkin(
            row, found, m.kr, checkins, ctx.computed[m.kr.id], today, rules.checkin_stale_days
        )
        kr_rows[m.kr.id], kr_risks[m.kr.id], selected[m.kr.id] = row, found, m.chosen
        item_rows.extend(
            _item_row(items[i], m.goal.id, m.kr.id, by_tag=i in m.by_tag) for i in m.chosen
        )
    goal_rows = _evaluate_goals(plan, kr_rows, kr_risks, ctx)
    rows: list[StatusRow] = []
    risks: list[RiskRow] = []
    for goal in plan.goals:
        rows.append(replace(goal_rows[goal.id], checkin=checkins.latest.get(goal.id)))
        risks.extend(plan_risks(goal, None, None))
        for kr in goal.key_results:
            rows.append(kr_rows[kr.id])
            risks.extend(kr_risks[kr.id])
    alignment, unaligned = alignment_and_unaligned(plan, items, selected, ctx.tz)
    return StatusReport(
        now=now,
        rows=tuple(rows),
        risks=tuple(risks),
        items=tuple(item_rows),
        unaligned=tuple(unaligned),
        workload=tuple(workload_rows(plan, items, selected, rules.wip_limit)),
        history=tuple(_history_row(r, today) for r in rows),
        alignment=alignment,
        plan_changes=plan.changes,
        warnings=plan.warnings + checkins.problems,
        unmatched=tuple(
            unmatched_clauses(
                (kr for g in plan.goals for kr in g.key_results), ctx.index, selected, ctx.health
            )
        ),
        unknown_tags=tags.unknown,
    )


def plan_tags(plan: Plan, items: Sequence[WorkItem]) -> Tags:
    """The plan's alignment tags on `items`: which items each key result gains by tag, and the
    tags that align nothing (a goal's id, a metric key result's, an unknown id)."""
    krs = {kr.id: g.id for g in plan.goals for kr in g.key_results}
    goals = {g.id: tuple(kr.id for kr in g.key_results) for g in plan.goals}
    metric = {kr.id for g in plan.goals for kr in g.key_results if kr.measure == "metric"}
    return alignment_tags(items, plan.align_prefix, krs, goals=goals, metric=metric)


def evaluation_items(
    records: Records,
    now: datetime,
    *,
    as_of: bool = False,
    people: Mapping[str, str] | None = None,
) -> list[WorkItem]:
    """The items as an evaluation sees them (as of `now` when asked, one name per person), so
    that `goalsync explain` matches exactly what the evaluation matched."""
    items = items_as_of(records.items, records.events, now) if as_of else list(records.items)
    if people:
        items = [_with_person(i, people) for i in items]
    return items


def _evaluate_goals(
    plan: Plan,
    kr_rows: Mapping[str, StatusRow],
    kr_risks: Mapping[str, list[RiskRow]],
    ctx: EvalContext,
) -> dict[str, StatusRow]:
    """Goals bottom-up: children (listed after their parent) are done before the parent."""
    out: dict[str, StatusRow] = {}
    for goal in reversed(plan.goals):
        children = plan.children(goal.id)
        child_rows = [kr_rows[kr.id] for kr in goal.key_results] + [out[c.id] for c in children]
        weights = [kr.weight for kr in goal.key_results] + [c.weight for c in children]
        words: list[RowStatus] = [ctx.computed[r.id] for r in child_rows]
        sources = {s for r in child_rows for s in r.sources}
        risk_count = sum(len(kr_risks[kr.id]) for kr in goal.key_results)
        risk_count += len(plan_risks(goal, None, None))
        forecasts = [r.forecast_p85 for r in child_rows if r.forecast_p85 is not None]
        progress = _rollup(weights, [r.progress for r in child_rows])
        no_data = None
        if progress is None:
            why = "no key result has data" if child_rows else "no key results"
            no_data = NoData(why, unread=unread_sources(ctx.health, sources))
        out[goal.id] = build_row(
            ident=goal.id,
            level="goal",
            goal=goal,
            title=goal.title,
            owner=goal.owner,
            start=goal.start,
            due=goal.due,
            progress=progress,
            ctx=ctx,
            sources=sources,
            risk_count=risk_count,
            forecast_p85=max(forecasts) if forecasts else None,  # the latest of its parts
            children=words,
            no_data=no_data,
        )
    return out


def _rollup(weights: Sequence[float], progress: Sequence[float | None]) -> float | None:
    """The weighted mean of the progress of the parts that have data (DESIGN.md): a part with
    No data says nothing of progress, so counting it as 0 would paint the goal red for a source
    that could not be read. None when no part has data."""
    parts = [(w, p) for w, p in zip(weights, progress, strict=True) if p is not None]
    if not parts:
        return None
    total = math.fsum(w for w, _ in parts)
    # fsum and a first rounding keep float noise (99.99999999) from reading as "below 100"
    mean = math.fsum(w * p for w, p in parts) / total
    return round1(round(mean, 9))


def _history_row(row: StatusRow, today: date) -> HistoryRow:
    return HistoryRow(
        date=today,
        id=row.id,
        value=row.value,
        progress=row.progress,
        expected=row.expected,
        status=row.status,
    )


def _with_person(item: WorkItem, people: Mapping[str, str]) -> WorkItem:
    """The same person is a display name in Jira and a login on GitHub: one name for both."""
    if item.assignee is None:
        return item
    name = people.get(item.assignee.casefold())
    return item if name is None or name == item.assignee else replace(item, assignee=name)


def _item_row(item: WorkItem, goal_id: str, kr_id: str, *, by_tag: bool = False) -> ItemRow:
    return ItemRow(
        key=item.key,
        source=item.source,
        title=item.title,
        state=item.state,
        status=item.status,
        assignee=item.assignee,
        points=item.points,
        goal=goal_id,
        key_result=kr_id,
        updated=item.updated,
        url=item.url,
        by_tag=by_tag,
    )
