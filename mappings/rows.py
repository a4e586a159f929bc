"""A Status row from a measured progress: expected progress, the status word and why, the
forecast's say, an override's, a stale or never read source's note, and the 7-day trend. Shared
by key results and goals, so that both follow exactly the same rules. A row without data is No
data, whatever the dates say: never Off track for want of a number."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from mappings.measures import Clock, Measured, MetricSeries
from mappings.model import StatusRules
from mappings.nodata import NoData, SourceHealth, unread_note
from mappings.plan import PlannedGoal
from mappings.rule import Facts, status_rule
from mappings.select import ItemIndex
from mappings.status import expected_pct
from sync.base.records import Override, WorkItem
from sync.base.report import HistoryRow, RowStatus, StatusRow

__all__ = ["EvalContext", "SourceHealth", "build_row"]


@dataclass(slots=True, kw_only=True)
class EvalContext:
    """Everything one evaluation shares between its key results and goals."""

    now: datetime
    rules: StatusRules
    tz: tzinfo
    items: Sequence[WorkItem]
    index: ItemIndex
    series: MetricSeries
    clock: Clock
    overrides: Mapping[str, Override]
    health: Mapping[str, SourceHealth]
    trend_base: Mapping[str, HistoryRow] = field(default_factory=dict)
    # Status per id before any override: a goal's `worst` looks at these, since an override on a
    # key result does not change its goal (DESIGN.md).
    computed: dict[str, RowStatus] = field(default_factory=dict)
    # What the "did you mean" of No data Notes counted per (clause key, scope): many clauses
    # share a scope, and counting 200,000 items once per clause is what would cost.
    suggest_memo: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    # Per key result, the items its alignment tags name (select.alignment_tags).
    tagged: Mapping[str, Sequence[int]] = field(default_factory=dict)


def build_row(
    *,
    ident: str,
    level: str,
    goal: PlannedGoal,
    title: str,
    owner: str | None,
    start: date,
    due: date,
    progress: float | None,
    ctx: EvalContext,
    sources: set[str],
    risk_count: int,
    value: float | None = None,
    target: float | None = None,
    measured: Measured | None = None,
    forecast_p85: date | None = None,
    children: Sequence[RowStatus] | None = None,
    note: str = "",
    no_data: NoData | None = None,
    unread: Sequence[tuple[str, str]] = (),
) -> StatusRow:
    """`no_data`: why the row has no value (its Status is then No data, its Note says why).
    `unread`: sources the row could draw from that were never read, beyond `sources`.
    `children`: a goal's parts' computed words (the status rule's step 2)."""
    expected = round1(expected_pct(start, due, ctx.now, ctx.tz))
    assert expected is not None
    verdict = status_rule(
        Facts(
            now=ctx.now,
            tz=ctx.tz,
            start=start,
            due=due,
            progress=progress,
            expected=expected,
            rules=ctx.rules,
            has_data=no_data is None,
            children=children,
            forecast_p85=forecast_p85,
            override=ctx.overrides.get(ident),
        )
    )
    ctx.computed[ident] = verdict.computed
    if no_data is not None:
        notes = verdict.notes(note, no_data.note())
    else:
        notes = verdict.notes(note, measured.note if measured else "")
    notes.extend(_source_notes(ctx, sources, unread, no_data))
    pulled = [ctx.health[s].last_success for s in sources if s in ctx.health]
    # As of an earlier instant, the data is as of that instant (and the column stays the same
    # however often the evaluation is repeated); a stale source shows its last success.
    known = [min(p, ctx.now) for p in pulled if p is not None]
    base = ctx.trend_base.get(ident)
    trend = (
        round1(progress - base.progress)
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
        status=verdict.status,
        trend_7d=trend,
        forecast_p85=forecast_p85,
        risks=risk_count,
        done=measured.done if measured else None,
        total=measured.total if measured else None,
        sources=tuple(sorted(sources)),
        updated=min(known) if known else None,
        note="; ".join(notes),
        goal_id=goal.id,
        depth=goal.depth,
    )


def _source_notes(
    ctx: EvalContext,
    sources: set[str],
    unread: Sequence[tuple[str, str]],
    no_data: NoData | None,
) -> list[str]:
    """A note per failing source: stale (read before: its last good values are shown) or never
    read (nothing of it is shown), unless the No data note named it already."""
    named = {name for name, _ in no_data.unread} if no_data else set()
    out: list[str] = []
    for name in sorted(sources | {name for name, _ in unread}):
        h = ctx.health.get(name)
        if h is None or h.ok or name in named:
            continue
        if h.never_read:
            out.append(unread_note(name, h.error))
            continue
        since = (
            h.stale_since.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if h.stale_since else "?"
        )
        out.append(f"stale since {since}: source {name} failed")
    return out


def active_overrides(overrides: Sequence[Override], today: date) -> dict[str, Override]:
    """The override in force per id (a later row for the same id wins)."""
    out: dict[str, Override] = {}
    for o in overrides:
        if o.until is None or today <= o.until:
            out[o.id] = o
    return out


def trend_base(history: Sequence[HistoryRow], today: date) -> dict[str, HistoryRow]:
    """Per id, the newest History row dated 7 or more days before today."""
    cutoff = today - timedelta(days=7)
    out: dict[str, HistoryRow] = {}
    for h in history:
        if h.date <= cutoff and (h.id not in out or h.date > out[h.id].date):
            out[h.id] = h
    return out


def round1(value: float | None) -> float | None:
    """One decimal, never rounding up to 100: 99.96 % is not done, and must not read "100"."""
    if value is None:
        return None
    rounded = round(value, 1)
    return 99.9 if rounded >= 100.0 > value else rounded
