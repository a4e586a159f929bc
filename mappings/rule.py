"""The status rule of DESIGN.md ("Measures and status") as one pure function, `status_rule`, for
key results and goals alike. Its steps, in DESIGN's order:

1. base: Not started before 00:00 of the start day; Done at 100 %; past due (after 24:00 of the
   due day) and below 100 % is Off track; else the gap (expected - progress) against
   `at_risk_gap` (On track) and `off_track_gap` (At risk), and beyond it Off track.
2. children: a goal's rollup is its progress, which step 1 already used; under
   `goal_status: worst` a started goal takes its worst part's word instead.
3. forecast: a P85 date after due lowers On track to At risk.
4. override: the Overrides tab's word wins while it is in force, and the Note says so.
5. no data: a row without data is No data, never Off track for want of a number; it replaces
   steps 1-3 (there is no progress to judge), and an override still wins over it, as over any
   computed word.

The caller measures (progress, expected, the forecast, whether there is data) and picks the
override in force (rows.active_overrides); this module only decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from mappings.model import StatusRules
from mappings.status import day_end, day_start
from sync.base.records import Override, StatusWord
from sync.base.report import NO_DATA, RowStatus

# Worst first: `goal_status: worst` takes the first of these that a part has.
SEVERITY: tuple[StatusWord, ...] = ("Off track", "At risk", "On track", "Not started", "Done")


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the rule decides on, for one key result or goal."""

    now: datetime
    tz: tzinfo
    start: date
    due: date
    progress: float | None  # None without a value: counts as 0 in step 1
    expected: float
    rules: StatusRules
    has_data: bool = True
    children: Sequence[RowStatus] | None = None  # a goal's parts, as computed (no override)
    forecast_p85: date | None = None
    override: Override | None = None  # the override in force for this row


@dataclass(frozen=True, slots=True)
class Verdict:
    status: RowStatus  # what the Status column shows
    computed: RowStatus  # before any override: a `worst` goal looks at this
    reason: str = ""  # why, when it is not plain arithmetic on the gap
    override_note: str = ""

    def notes(self, *between: str) -> list[str]:
        """The Note's parts: the override first (it matters most), the caller's notes, then
        the reason; empty parts left out."""
        return [n for n in (self.override_note, *between, self.reason) if n]


def status_rule(facts: Facts) -> Verdict:
    if facts.has_data:
        word, reason = _base(facts)  # 1
        word, reason = _children(word, reason, facts)  # 2
        word, reason = _forecast(word, reason, facts)  # 3
    else:
        word, reason = NO_DATA, ""  # 5, in place of 1-3
    return _override(word, reason, facts.override)  # 4


def _base(f: Facts) -> tuple[RowStatus, str]:
    if f.now < day_start(f.start, f.tz):
        return "Not started", ""
    measured = f.progress if f.progress is not None else 0.0
    if measured >= 100.0:
        return "Done", ""
    if f.now >= day_end(f.due, f.tz):
        return "Off track", "past due"
    gap = f.expected - measured
    if gap <= f.rules.at_risk_gap:
        return "On track", ""
    if gap <= f.rules.off_track_gap:
        return "At risk", f"{gap:.1f} points behind expected"
    return "Off track", f"{gap:.1f} points behind expected"


def _children(word: RowStatus, reason: str, f: Facts) -> tuple[RowStatus, str]:
    if f.children is None or f.rules.goal_status != "worst" or word == "Not started":
        return word, reason
    # No data is no word: it says nothing of progress. With no part that has one, step 1 stands.
    worst = next((w for w in SEVERITY if w in f.children), None)
    return (worst, "worst of its key results") if worst is not None else (word, reason)


def _forecast(word: RowStatus, reason: str, f: Facts) -> tuple[RowStatus, str]:
    if word == "On track" and f.forecast_p85 is not None and f.forecast_p85 > f.due:
        return "At risk", f"forecast after due (P85 {f.forecast_p85})"
    return word, reason


def _override(word: RowStatus, reason: str, override: Override | None) -> Verdict:
    if override is None:
        return Verdict(word, word, reason)
    until = f" (until {override.until})" if override.until else ""
    note = f"override: {override.reason or 'set by hand'}{until}"
    return Verdict(override.status, word, reason, note)
