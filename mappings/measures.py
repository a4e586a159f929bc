"""The measures of DESIGN.md in one registry, `MEASURES`: how each computes its value, which way
is better, whether it needs a baseline, what is left for a forecast to finish (if it is
forecast) and which keys it takes. Config validation (checks.py), the plan's defaults (plan.py,
goalrows.py), the forecast and the scope risk (keyresult.py) all read it; none keeps a list of
its own.

Cancelled items are neither done nor scope: every measure leaves them out. Unestimated items
count as 0 points (the risks module flags them).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Literal, TypeAlias

from mappings.model import Measure
from mappings.timing import ItemTimes, Times, done_in_window, durations_days, window_bounds
from sync.base.records import Metric, WorkItem

if TYPE_CHECKING:  # plan.py reads this registry (directions, targets): no import at run time
    from mappings.plan import PlannedKR

Direction: TypeAlias = Literal["up", "down"]
# The keys of a key result that only some measures take.
OptionKey: TypeAlias = Literal["state", "field", "stat", "window_weeks", "metric", "by"]


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


# An item measure's value (and a note) from the key result, its scope (selected items that are
# not cancelled, never empty), the done ones among them, and the clock.
Compute: TypeAlias = Callable[
    ["PlannedKR", Sequence[WorkItem], Sequence[WorkItem], Clock | None],
    tuple[float | None, str],
]

# The work left to close, in the unit a forecast replays (items, or points with `by: points`),
# from the key result, its selected items and its value; None: nothing to replay.
Remaining: TypeAlias = Callable[["PlannedKR", Sequence[WorkItem], float], float | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasureSpec:
    value: str  # what the Value column holds (DESIGN.md)
    compute: Compute | None  # None: a metric, the latest value of its series (measure_metric)
    direction: Direction  # which way is better; `direction:` in the config may turn it
    needs_baseline: bool  # measured from where the team started
    # How much is left for a throughput forecast to finish; None: not forecast (DESIGN.md: the
    # time measures, sum and metric have no remaining items).
    remaining: Remaining | None
    scope_risk: bool  # its value moves when the selection grows: scope growth is a risk
    keys: frozenset[OptionKey] = frozenset()
    default_target: float | None = None  # None: the config must give one

    @property
    def selects_items(self) -> bool:
        return self.compute is not None

    @property
    def forecasts(self) -> bool:
        return self.remaining is not None


def _points(item: WorkItem) -> float:
    return item.points or 0.0


def _size(items: Sequence[WorkItem], by: str) -> float:
    return float(len(items)) if by == "count" else sum(_points(i) for i in items)


def _chosen(kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem]) -> list[WorkItem]:
    """Done items, or those in the `state:` given."""
    return [i for i in scope if i.state in kr.states] if kr.states else list(done)


def _done_share(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    if kr.measure == "percent_done" and kr.by == "points":
        total_points = sum(_points(i) for i in scope)
        if total_points == 0:
            return None, "no data: no selected item has points"
        return 100.0 * sum(_points(i) for i in done) / total_points, ""
    return 100.0 * len(done) / len(scope), ""


def _count(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    return _size(_chosen(kr, scope, done), kr.by), ""


def _open_count(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    return _size([i for i in scope if i.is_open], kr.by), ""


def _sum(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    values = [field_value(i, kr.field or "") for i in _chosen(kr, scope, done)]
    present = [v for v in values if v is not None]
    missing = len(values) - len(present)
    return sum(present), f"{missing} item(s) without {kr.field}" if missing else ""


def _throughput(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    weeks, finished = _done_in_window(kr, scope, clock)
    size = sum((_points(i) if kr.by == "points" else 1.0) for i, _ in finished)
    return size / weeks, f"done per week over the last {weeks} weeks"


def _duration(
    kr: PlannedKR, scope: Sequence[WorkItem], done: Sequence[WorkItem], clock: Clock | None
) -> tuple[float | None, str]:
    """cycle_time or lead_time: a statistic of the days items done in the window took."""
    weeks, finished = _done_in_window(kr, scope, clock)
    spans = durations_days(finished, kr.measure)
    if not spans:
        return None, f"no data: nothing finished in the last {weeks} weeks"
    value = sum(spans) / len(spans) if kr.stat == "mean" else quantile(spans, _STATS[kr.stat])
    what = "cycle time" if kr.measure == "cycle_time" else "lead time"
    return value, f"{kr.stat} {what} in days of {len(spans)} items done in {weeks} weeks"


def _done_in_window(
    kr: PlannedKR, scope: Sequence[WorkItem], clock: Clock | None
) -> tuple[int, list[tuple[WorkItem, Times]]]:
    """The key result's window in weeks and the items done in it (the full days before today)."""
    if clock is None:
        raise ValueError(f"measure {kr.measure} needs a clock")
    weeks = clock.weeks(kr)
    _, start, end = window_bounds(clock.now, weeks, clock.tz)
    return weeks, done_in_window(scope, clock.times, start, end)


def _open_left(kr: PlannedKR, picked: Sequence[WorkItem], value: float) -> float | None:
    """percent_done and milestone: the open items (or their points) still to close."""
    open_items = [i for i in picked if i.is_open]
    by_points = kr.by == "points" and kr.measure == "percent_done"
    return sum(_points(i) for i in open_items) if by_points else float(len(open_items))


def _count_left(kr: PlannedKR, picked: Sequence[WorkItem], value: float) -> float | None:
    return None if kr.states else kr.target - value  # a count of other states: no forecast


def _open_count_left(kr: PlannedKR, picked: Sequence[WorkItem], value: float) -> float | None:
    return value - kr.target  # open items still to close to reach the target


_STATS = {"p50": 0.5, "p85": 0.85}
_WINDOW: frozenset[OptionKey] = frozenset({"window_weeks"})

# In DESIGN.md's order, which is also the order error messages list them in.
MEASURES: Mapping[Measure, MeasureSpec] = {
    "percent_done": MeasureSpec(
        value="done / all selected in percent, by count or by points",
        compute=_done_share,
        direction="up",
        needs_baseline=False,
        remaining=_open_left,
        scope_risk=True,
        keys=frozenset({"by"}),
        default_target=100.0,
    ),
    "count": MeasureSpec(
        value="the number of done items (or of those in `state:`), or their points",
        compute=_count,
        direction="up",
        needs_baseline=False,
        remaining=_count_left,
        scope_risk=True,
        keys=frozenset({"state", "by"}),
    ),
    "sum": MeasureSpec(
        value="the sum of a field over done items (or those in `state:`)",
        compute=_sum,
        direction="up",
        needs_baseline=False,
        remaining=None,
        scope_risk=True,
        keys=frozenset({"state", "field"}),
    ),
    "open_count": MeasureSpec(
        value="the number of open items, or their points",
        compute=_open_count,
        direction="down",
        needs_baseline=True,
        remaining=_open_count_left,
        scope_risk=True,
        keys=frozenset({"by"}),
        default_target=0.0,
    ),
    "throughput": MeasureSpec(
        value="done items (or points) per week over the window",
        compute=_throughput,
        direction="up",
        needs_baseline=False,
        remaining=None,
        scope_risk=False,
        keys=_WINDOW | {"by"},
    ),
    "cycle_time": MeasureSpec(
        value="days from start to done of items done in the window (p50, p85 or mean)",
        compute=_duration,
        direction="down",
        needs_baseline=True,
        remaining=None,
        scope_risk=False,
        keys=_WINDOW | {"stat"},
    ),
    "lead_time": MeasureSpec(
        value="days from creation to done of items done in the window (p50, p85 or mean)",
        compute=_duration,
        direction="down",
        needs_baseline=True,
        remaining=None,
        scope_risk=False,
        keys=_WINDOW | {"stat"},
    ),
    "milestone": MeasureSpec(
        value="the done share of a milestone's items in percent",
        compute=_done_share,
        direction="up",
        needs_baseline=False,
        remaining=_open_left,
        scope_risk=True,
        default_target=100.0,
    ),
    "metric": MeasureSpec(
        value="the latest value at or before now",
        compute=None,
        direction="up",
        needs_baseline=False,
        remaining=None,
        scope_risk=False,
        keys=frozenset({"metric"}),
    ),
}


def direction_of(measure: Measure, given: Direction | None) -> Direction:
    """Which way is better: the config's `direction:`, else the measure's own (DESIGN.md:
    `direction: down` is inferred for lower-is-better measures)."""
    return given or MEASURES[measure].direction


def taking(key: OptionKey) -> list[Measure]:
    """The measures that take `key`, in the registry's order."""
    return [name for name, spec in MEASURES.items() if key in spec.keys]


def measure_items(kr: PlannedKR, items: Sequence[WorkItem], clock: Clock | None = None) -> Measured:
    """Value of an item measure over the key result's selected items. The time measures
    (throughput, cycle_time, lead_time) need a `clock`."""
    scope = [i for i in items if i.state != "cancelled"]
    done = [i for i in scope if i.state == "done"]
    newest = max((i.updated for i in scope if i.updated is not None), default=None)
    if not scope:
        # The caller names the clauses that match nothing; all cancelled is another story.
        why = f"every selected item ({len(items)}) is cancelled" if items else "no items match"
        return Measured(None, 0, 0, f"no data: {why}", newest)
    spec = MEASURES[kr.measure]
    if spec.compute is None:
        raise ValueError(f"measure {kr.measure} is not an item measure")
    value, note = spec.compute(kr, scope, done, clock)
    return Measured(_round(value), len(done), len(scope), note, newest)


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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
