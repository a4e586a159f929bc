"""When work started and finished, from Events: the input of the time measures, throughput and
the forecast.

Started is an item's first move to in progress, done its last move to done (work reopened and
finished again counts from the last finish), both at or before now. Where a source has no events
for an item, its own `started` / `done_at` stand in. Days are days in the config's timezone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from mappings.model import Goal
from mappings.select import compile_clause
from mappings.status import day_start, local_date
from sync.base.records import Event, WorkItem


@dataclass(frozen=True, slots=True)
class Times:
    started: datetime | None
    done: datetime | None


class ItemTimes:
    """Started and done per item, from its status events."""

    def __init__(self, events: Iterable[Event], now: datetime) -> None:
        started: dict[tuple[str, str], datetime] = {}
        done: dict[tuple[str, str], datetime] = {}
        for e in events:
            if e.at > now or e.to_state is None:
                continue
            key = (e.source, e.item_key)
            if e.to_state == "in_progress" and (key not in started or e.at < started[key]):
                started[key] = e.at
            elif e.to_state == "done" and (key not in done or e.at > done[key]):
                done[key] = e.at
        self._started = started
        self._done = done

    def of(self, item: WorkItem) -> Times:
        key = (item.source, item.key)
        started = self._started.get(key, item.started)
        done = self._done.get(key, item.done_at) if item.state == "done" else None
        if started is not None and done is not None and started > done:
            started = None  # moved straight to done after an earlier run: no cycle to measure
        return Times(started, done)


def done_in_window(
    items: Iterable[WorkItem], times: ItemTimes, start: datetime, end: datetime
) -> list[tuple[WorkItem, Times]]:
    """Done items whose finish falls in [start, end)."""
    out = []
    of = times.of
    for item in items:
        if item.state == "done":
            t = of(item)
            if t.done is not None and start <= t.done < end:
                out.append((item, t))
    return out


def daily_throughput(
    finished: Sequence[tuple[WorkItem, Times]],
    first_day: date,
    days: int,
    tz: tzinfo,
    by_points: bool,
) -> list[float]:
    """Work finished on each of `days` local days from `first_day` (a zero for a quiet day)."""
    out = [0.0] * days
    for item, t in finished:
        assert t.done is not None
        n = (local_date(t.done, tz) - first_day).days
        if 0 <= n < days:
            out[n] += (item.points or 0.0) if by_points else 1.0
    return out


def durations_days(finished: Sequence[tuple[WorkItem, Times]], kind: str) -> list[float]:
    """Cycle time (started -> done) or lead time (created -> done) of finished items, in days."""
    out = []
    for item, t in finished:
        begin = t.started if kind == "cycle_time" else item.created
        if begin is None or t.done is None:
            continue
        out.append((t.done - begin) / timedelta(days=1))
    return out


def window_bounds(now: datetime, weeks: int, tz: tzinfo) -> tuple[date, datetime, datetime]:
    """The last `weeks` full local days before today: (first day, its start, today's start)."""
    today = local_date(now, tz)
    first = today - timedelta(days=7 * weeks)
    return first, day_start(first, tz), day_start(today, tz)


def start_needed(
    goals: Iterable[Goal], source: str, now: datetime, tz: tzinfo, window_weeks: int
) -> Callable[[WorkItem], bool] | None:
    """Whether an item of `source` is one whose start a key result measures: done since the
    window of a cycle_time key result that selects it began (`window_weeks` is
    status.forecast.window_weeks, for key results without their own). None when no key result
    measures a cycle time. A source whose history is cut short reads such items' own history:
    throughput and lead time need only when an item was created and done, which it says itself."""
    wanted = []
    for goal in goals:
        for kr in goal.key_results:
            if kr.measure != "cycle_time":
                continue
            _, start, _ = window_bounds(now, kr.window_weeks or window_weeks, tz)
            wanted += [(start, compile_clause(c)) for c in kr.select]
    if not wanted:
        return None

    def needed(item: WorkItem) -> bool:
        if item.source != source or item.state != "done" or item.done_at is None:
            return False
        done_at = item.done_at
        return any(done_at >= start and selects(item) for start, selects in wanted)

    return needed


def history_start(
    goals: Iterable[Goal], cycle_start: date, now: datetime, tz: tzinfo, window_weeks: int
) -> datetime:
    """The earliest instant this run's measures look back to: the cycle's start, a goal's or
    key result's own start, and the windows of throughput, forecasts and time measures
    (`window_weeks` is status.forecast.window_weeks, for key results without their own), less
    a day. What happened before it changes no number of this run: a source whose history costs
    a request per page (GitHub's events stream) reads no further back on its first pull."""
    days = [cycle_start]
    weeks = window_weeks
    for goal in goals:
        days += [goal.start] if goal.start is not None else []
        for kr in goal.key_results:
            days += [kr.start] if kr.start is not None else []
            weeks = max(weeks, kr.window_weeks or window_weeks)
    first, _, _ = window_bounds(now, weeks, tz)
    return day_start(min(*days, first) - timedelta(days=1), tz)
