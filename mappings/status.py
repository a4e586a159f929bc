"""Progress and expected progress: DESIGN.md's formulas, nothing else (rule.py turns them into
the status word).

Dates are whole days in the config's timezone: a start is 00:00 of its day, a due is 24:00 of its
day. Arithmetic happens in UTC, so a day that has 23 or 25 hours (daylight saving) is measured as
long as it really is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal


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


def _clip(value: float) -> float:
    return max(0.0, min(100.0, value))
