"""Progress, expected progress and the status word: DESIGN.md's formulas, nothing else.

Dates are whole days in the config's timezone: a start is 00:00 of its day, a due is 24:00 of its
day. Arithmetic happens in UTC, so a day that has 23 or 25 hours (daylight saving) is measured as
long as it really is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from mappings.model import StatusRules
from sync.base.records import StatusWord
from sync.base.report import RowStatus

# Worst first: `goal_status: worst` takes the first of these that a key result has.
SEVERITY: tuple[StatusWord, ...] = ("Off track", "At risk", "On track", "Not started", "Done")


def day_start(day: date, tz: tzinfo) -> datetime:
    """00:00 of `day` in `tz`, as UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_end(day: date, tz: tzinfo) -> datetime:
    """24:00 of `day` in `tz` (00:00 of the next day), as UTC."""
    return day_start(day + timedelta(days=1), tz)


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def expected_pct(start: date, due: date, now: datetime, tz: tzinfo) -> float:
    """(now - start) / (end of due - start) * 100, clipped to 0..100."""
    begin = day_start(start, tz)
    end = day_end(due, tz)
    span = (end - begin).total_seconds()
    if span <= 0:
        return 100.0 if now >= end else 0.0
    return _clip(100.0 * (now - begin).total_seconds() / span)


def progress_pct(
    value: float | None, baseline: float, target: float, direction: Literal["up", "down"]
) -> float | None:
    """(value - baseline) / (target - baseline) * 100, clipped to 0..100; None without a value.

    The formula holds for both directions (the denominator is negative when lower is better);
    `direction` decides only the degenerate case target == baseline."""
    if value is None:
        return None
    if target == baseline:
        reached = value >= target if direction == "up" else value <= target
        return 100.0 if reached else 0.0
    return _clip(100.0 * (value - baseline) / (target - baseline))


def status_word(
    *,
    now: datetime,
    start: date,
    due: date,
    progress: float | None,
    expected: float,
    rules: StatusRules,
    tz: tzinfo,
) -> tuple[StatusWord, str]:
    """The status and, when it is not plain arithmetic on the gap, the reason why."""
    if now < day_start(start, tz):
        return "Not started", ""
    measured = progress if progress is not None else 0.0
    if measured >= 100.0:
        return "Done", ""
    if now >= day_end(due, tz):
        return "Off track", "past due"
    gap = expected - measured
    if gap <= rules.at_risk_gap:
        return "On track", ""
    if gap <= rules.off_track_gap:
        return "At risk", f"{gap:.1f} points behind expected"
    return "Off track", f"{gap:.1f} points behind expected"


def worst(words: Sequence[RowStatus]) -> StatusWord | None:
    """The worst status word among `words`; No data is no word (it says nothing of progress)."""
    for word in SEVERITY:
        if word in words:
            return word
    return None


def _clip(value: float) -> float:
    return max(0.0, min(100.0, value))
