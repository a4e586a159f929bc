"""The value of a key result from its items or its metric, per DESIGN.md's Measures.

Cancelled items are neither done nor scope: every measure leaves them out. Unestimated items
count as 0 points (the risks module flags them).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from mappings.plan import PlannedKR
from mappings.timing import ItemTimes, done_in_window, durations_days, window_bounds
from sync.base.records import Metric, WorkItem

TIME_MEASURES = frozenset({"throughput", "cycle_time", "lead_time"})


@dataclass(frozen=True, slots=True)
class Clock:
    """What the time-based measures need: now, the zone days are counted in, and when each
    item started and finished (from its events)."""

    now: datetime
    tz: tzinfo
    times: ItemTimes
    window_weeks: int  # status.forecast.window_weeks, unless a key result sets its own

    def weeks(self, kr: PlannedKR) -> int:
        return kr.window_weeks or self.window_weeks


@dataclass(frozen=True, slots=True)
class Measured:
    value: float | None
    done: int | None = None  # Done / Total, always in items, for item measures
    total: int | None = None
    note: str = ""
    updated: datetime | None = None  # when the newest input of this value was recorded


def measure_items(kr: PlannedKR, items: Sequence[WorkItem], clock: Clock | None = None) -> Measured:
    """Value of an item measure over the key result's selected items. The time measures
    (throughput, cycle_time, lead_time) need a `clock`."""
    scope = [i for i in items if i.state != "cancelled"]
    done = [i for i in scope if i.state == "done"]
    newest = max((i.updated for i in scope if i.updated is not None), default=None)

    def measured(value: float | None, note: str = "") -> Measured:
        return Measured(_round(value), len(done), len(scope), note, newest)

    if not scope:
        # The caller names the clauses that match nothing; all cancelled is another story.
        why = f"every selected item ({len(items)}) is cancelled" if items else "no items match"
        return Measured(None, 0, 0, f"no data: {why}", newest)
    if kr.measure in TIME_MEASURES:
        if clock is None:
            raise ValueError(f"measure {kr.measure} needs a clock")
        return _measure_time(kr, scope, clock, measured)
    if kr.measure == "milestone" or (kr.measure == "percent_done" and kr.by == "count"):
        return measured(100.0 * len(done) / len(scope))
    if kr.measure == "percent_done":  # by points
        total_points = sum(_points(i) for i in scope)
        if total_points == 0:
            return measured(None, "no data: no selected item has points")
        return measured(100.0 * sum(_points(i) for i in done) / total_points)
    if kr.measure == "count":
        chosen = [i for i in scope if i.state in kr.states] if kr.states else done
        return measured(_size(chosen, kr.by))
    if kr.measure == "open_count":
        return measured(_size([i for i in scope if i.is_open], kr.by))
    if kr.measure == "sum":
        chosen = [i for i in scope if i.state in kr.states] if kr.states else done
        values = [field_value(i, kr.field or "") for i in chosen]
        present = [v for v in values if v is not None]
        missing = len(values) - len(present)
        note = f"{missing} item(s) without {kr.field}" if missing else ""
        return measured(sum(present), note)
    raise ValueError(f"measure {kr.measure} is not an item measure that is built")


def _measure_time(
    kr: PlannedKR,
    scope: Sequence[WorkItem],
    clock: Clock,
    measured: Callable[[float | None, str], Measured],
) -> Measured:
    weeks = clock.weeks(kr)
    _, start, end = window_bounds(clock.now, weeks, clock.tz)
    finished = done_in_window(scope, clock.times, start, end)
    if kr.measure == "throughput":
        size = sum((_points(i) if kr.by == "points" else 1.0) for i, _ in finished)
        return measured(size / weeks, f"done per week over the last {weeks} weeks")
    spans = durations_days(finished, kr.measure)
    if not spans:
        return measured(None, f"no data: nothing finished in the last {weeks} weeks")
    value = sum(spans) / len(spans) if kr.stat == "mean" else quantile(spans, _STATS[kr.stat])
    what = "cycle time" if kr.measure == "cycle_time" else "lead time"
    return measured(value, f"{kr.stat} {what} in days of {len(spans)} items done in {weeks} weeks")


_STATS = {"p50": 0.5, "p85": 0.85}


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's and Excel's PERCENTILE.INC)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class MetricSeries:
    """Metric values by name, sorted by time, for "latest value at or before now"."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        grouped: dict[str, list[Metric]] = {}
        for m in metrics:
            grouped.setdefault(m.name.casefold(), []).append(m)
        self._series: Mapping[str, list[Metric]] = {
            name: sorted(ms, key=lambda m: m.at) for name, ms in grouped.items()
        }
        self._times = {name: [m.at for m in ms] for name, ms in self._series.items()}

    def latest(self, name: str, now: datetime) -> Metric | None:
        key = name.casefold()
        at = bisect.bisect_right(self._times.get(key, []), now)
        return self._series[key][at - 1] if at else None

    def sources(self, name: str) -> set[str]:
        return {m.source for m in self._series.get(name.casefold(), [])}


def measure_metric(kr: PlannedKR, series: MetricSeries, now: datetime) -> Measured:
    latest = series.latest(kr.metric or "", now)
    if latest is None:
        return Measured(None, note=f"no data: no value of metric {kr.metric!r} yet")
    return Measured(_round(latest.value), updated=latest.at)


def field_value(item: WorkItem, name: str) -> float | None:
    """A numeric field of an item: `points`, or a key of its extra fields."""
    raw = item.points if name == "points" else item.fields.get(name)
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(str(raw))
    except ValueError:
        return None


def _points(item: WorkItem) -> float:
    return item.points or 0.0


def _size(items: Sequence[WorkItem], by: str) -> float:
    return float(len(items)) if by == "count" else sum(_points(i) for i in items)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
