"""One evaluation: plan + records + now -> StatusReport. Pure: no I/O, no clock.

Key results are measured first, then goals bottom-up (a goal rolls up its key results and its child
goals, weighted), then the portfolio views: alignment, unaligned items, workload, history rows and
trend. Overrides from the Overrides tab win over the computed status until their date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from mappings.asof import items_as_of
from mappings.measures import Measured, MetricSeries, measure_items, measure_metric
from mappings.model import StatusRules
from mappings.plan import Plan, PlannedGoal, PlannedKR
from mappings.portfolio import alignment_and_unaligned, workload_rows
from mappings.risks import item_risks, plan_risks
from mappings.select import ItemIndex, JqlMatches
from mappings.status import expected_pct, local_date, progress_pct, status_word, worst
from sync.records import Override, Records, StatusWord, WorkItem
from sync.report import HistoryRow, ItemRow, RiskRow, StatusReport, StatusRow


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source stands after this run's pull: fresh, or stale since its first failure."""

    ok: bool
    last_success: datetime | None
    stale_since: datetime | None = None
    error: str = ""


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
) -> StatusReport:
    """Compute every tab's rows at `now`. With `as_of`, items are rebuilt as they stood at now.
    `people` maps casefolded logins and e-mails to one name per person (see people_index)."""
    items = items_as_of(records.items, records.events, now) if as_of else list(records.items)
    if people:
        items = [_with_person(i, people) for i in items]
    ctx = _Context(
        now=now,
        rules=rules,
        tz=tz,
        items=items,
        index=ItemIndex(items, jql_matches),
        series=MetricSeries([m for m in records.metrics if m.at <= now]),
        overrides=_active_overrides(records.overrides, local_date(now, tz)),
        health=health or {},
        trend_base=_trend_base(history, local_date(now, tz)),
    )
    kr_rows: dict[str, StatusRow] = {}
    kr_risks: dict[str, list[RiskRow]] = {}
    item_rows: list[ItemRow] = []
    selected: dict[str, list[int]] = {}
    for goal in plan.goals:
        for kr in goal.key_results:
            row, found, chosen = _evaluate_kr(goal, kr, ctx)
            kr_rows[kr.id], kr_risks[kr.id], selected[kr.id] = row, found, chosen
            item_rows.extend(_item_row(items[i], goal.id, kr.id) for i in chosen)
    goal_rows = _evaluate_goals(plan, kr_rows, kr_risks, ctx)
    rows: list[StatusRow] = []
    risks: list[RiskRow] = []
    for goal in plan.goals:
        rows.append(goal_rows[goal.id])
        risks.extend(plan_risks(goal, None, None))
        for kr in goal.key_results:
            rows.append(kr_rows[kr.id])
            risks.extend(kr_risks[kr.id])
    alignment, unaligned = alignment_and_unaligned(plan, items, selected, ctx.tz)
    today = local_date(now, tz)
    return StatusReport(
        now=now,
        rows=tuple(rows),
        risks=tuple(risks),
        items=tuple(item_rows),
        unaligned=tuple(unaligned),
        workload=tuple(workload_rows(plan, items, selected, rules.wip_limit)),
        history=tuple(
            HistoryRow(
                date=today,
                id=r.id,
                value=r.value,
                progress=r.progress,
                expected=r.expected,
                status=r.status,
            )
            for r in rows
        ),
        alignment=alignment,
        plan_changes=plan.changes,
        warnings=plan.warnings,
    )


@dataclass(slots=True, kw_only=True)
class _Context:
    now: datetime
    rules: StatusRules
    tz: tzinfo
    items: Sequence[WorkItem]
    index: ItemIndex
    series: MetricSeries
    overrides: Mapping[str, Override]
    health: Mapping[str, SourceHealth]
    trend_base: Mapping[str, HistoryRow] = field(default_factory=dict)
    # Status per id before any override: a goal's `worst` looks at these, since an override on a
    # key result does not change its goal (DESIGN.md).
    computed: dict[str, StatusWord] = field(default_factory=dict)


def _evaluate_kr(
    goal: PlannedGoal, kr: PlannedKR, ctx: _Context
) -> tuple[StatusRow, list[RiskRow], list[int]]:
    chosen: list[int] = []
    if kr.measure == "metric":
        measured = measure_metric(kr, ctx.series, ctx.now)
        sources = ctx.series.sources(kr.metric or "")
    else:
        chosen = ctx.index.select(kr.clauses)
        picked = [ctx.items[i] for i in chosen]
        measured = measure_items(kr, picked)
        sources = {i.source for i in picked} | {s for c in kr.clauses for s in (c.source or ())}
    risks = item_risks(kr, [ctx.items[i] for i in chosen], ctx.now, ctx.rules, ctx.tz)
    risks.extend(plan_risks(goal, kr, measured))
    progress = _round1(progress_pct(measured.value, kr.baseline, kr.target, kr.direction))
    row = _row(
        ident=kr.id,
        level="kr",
        goal=goal,
        title=kr.title,
        owner=kr.owner,
        start=kr.start,
        due=kr.due,
        progress=progress,
        ctx=ctx,
        sources=sources,
        value=measured.value,
        target=kr.target,
        measured=measured,
        risk_count=len(risks),
    )
    return row, risks, chosen


def _evaluate_goals(
    plan: Plan,
    kr_rows: Mapping[str, StatusRow],
    kr_risks: Mapping[str, list[RiskRow]],
    ctx: _Context,
) -> dict[str, StatusRow]:
    """Goals bottom-up: children (listed after their parent) are done before the parent."""
    out: dict[str, StatusRow] = {}
    for goal in reversed(plan.goals):
        parts: list[tuple[float, float | None, StatusWord]] = [
            (kr.weight, kr_rows[kr.id].progress, ctx.computed[kr.id]) for kr in goal.key_results
        ]
        parts += [
            (c.weight, out[c.id].progress, ctx.computed[c.id]) for c in plan.children(goal.id)
        ]
        # A part without data counts as no progress (its own row says "no data"): leaving it
        # out would make the goal look better than anything shows.
        measured = any(p is not None for _, p, _ in parts)
        weighed = [(w, p or 0.0) for w, p, _ in parts] if measured else []
        total_weight = sum(w for w, _ in weighed)
        # fsum and a first rounding keep float noise (99.99999999) from reading as "below 100"
        mean = (
            round(math.fsum(w * p for w, p in weighed) / total_weight, 9) if total_weight else None
        )
        progress = _round1(mean)
        child_rows = [kr_rows[kr.id] for kr in goal.key_results]
        child_rows += [out[c.id] for c in plan.children(goal.id)]
        sources = {s for r in child_rows for s in r.sources}
        risk_count = sum(len(kr_risks[kr.id]) for kr in goal.key_results)
        risk_count += len(plan_risks(goal, None, None))
        worst_word = worst([w for _, _, w in parts]) if ctx.rules.goal_status == "worst" else None
        out[goal.id] = _row(
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
            status_from_children=worst_word,
            note="" if child_rows else "no key results",
        )
    return out


def _row(
    *,
    ident: str,
    level: str,
    goal: PlannedGoal,
    title: str,
    owner: str | None,
    start: date,
    due: date,
    progress: float | None,
    ctx: _Context,
    sources: set[str],
    risk_count: int,
    value: float | None = None,
    target: float | None = None,
    measured: Measured | None = None,
    status_from_children: StatusWord | None = None,
    note: str = "",
) -> StatusRow:
    expected = _round1(expected_pct(start, due, ctx.now, ctx.tz))
    assert expected is not None
    word, reason = status_word(
        now=ctx.now,
        start=start,
        due=due,
        progress=progress,
        expected=expected,
        rules=ctx.rules,
        tz=ctx.tz,
    )
    if status_from_children is not None and word != "Not started":
        word, reason = status_from_children, "worst of its key results"
    notes = [n for n in (note, measured.note if measured else "", reason) if n]
    ctx.computed[ident] = word
    override = ctx.overrides.get(ident)
    if override is not None:
        word = override.status
        until = f" (until {override.until})" if override.until else ""
        notes.insert(0, f"override: {override.reason or 'set by hand'}{until}")
    stale = sorted((name, h) for name, h in ctx.health.items() if name in sources and not h.ok)
    for name, h in stale:
        since = (
            h.stale_since.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if h.stale_since else "?"
        )
        notes.append(f"stale since {since}: source {name} failed")
    pulled = [ctx.health[s].last_success for s in sources if s in ctx.health]
    # As of an earlier instant, the data is as of that instant (and the column stays the same
    # however often the evaluation is repeated); a stale source shows its last success.
    known = [min(p, ctx.now) for p in pulled if p is not None]
    base = ctx.trend_base.get(ident)
    trend = (
        _round1(progress - base.progress)
        if base is not None and base.progress is not None and progress is not None
        else None
    )
    return StatusRow(
        id=ident,
        level="goal" if level == "goal" else "kr",
        title=title,
        owner=owner,
        start=start,
        due=due,
        value=value,
        target=target,
        progress=progress,
        expected=expected,
        status=word,
        trend_7d=trend,
        risks=risk_count,
        done=measured.done if measured else None,
        total=measured.total if measured else None,
        sources=tuple(sorted(sources)),
        updated=min(known) if known else None,
        note="; ".join(notes),
        goal_id=goal.id,
        depth=goal.depth,
    )


def _with_person(item: WorkItem, people: Mapping[str, str]) -> WorkItem:
    """The same person is a display name in Jira and a login on GitHub: one name for both."""
    if item.assignee is None:
        return item
    name = people.get(item.assignee.casefold())
    return item if name is None or name == item.assignee else replace(item, assignee=name)


def _item_row(item: WorkItem, goal_id: str, kr_id: str) -> ItemRow:
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
    )


def _active_overrides(overrides: Sequence[Override], today: date) -> dict[str, Override]:
    """The override in force per id (a later row for the same id wins)."""
    out: dict[str, Override] = {}
    for o in overrides:
        if o.until is None or today <= o.until:
            out[o.id] = o
    return out


def _trend_base(history: Sequence[HistoryRow], today: date) -> dict[str, HistoryRow]:
    """Per id, the newest History row dated 7 or more days before today."""
    cutoff = today - timedelta(days=7)
    out: dict[str, HistoryRow] = {}
    for h in history:
        if h.date <= cutoff and (h.id not in out or h.date > out[h.id].date):
            out[h.id] = h
    return out


def _round1(value: float | None) -> float | None:
    """One decimal, never rounding up to 100: 99.96 % is not done, and must not read "100"."""
    if value is None:
        return None
    rounded = round(value, 1)
    return 99.9 if rounded >= 100.0 > value else rounded
