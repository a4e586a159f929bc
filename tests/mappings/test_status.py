"""mappings/status.py: the progress and expected-progress formulas of DESIGN.md, and the status
rule's first step (mappings/rule.py; tests/mappings/test_rule.py has its table)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.model import StatusRules
from mappings.rule import Facts, status_rule
from mappings.status import day_end, day_start, expected_pct, local_date, progress_pct
from tests.mappings.conftest import BERLIN, NOW, RULES, ts

START = date(2026, 10, 1)
DUE = date(2026, 12, 31)


# --- days in the config's timezone -------------------------------------------------------------


def test_day_start_and_end_are_local_midnights_in_utc() -> None:
    # 2026-10-01 is summer time in Berlin (UTC+2); 2027-01-01 is winter time (UTC+1).
    assert day_start(START, BERLIN) == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert day_end(DUE, BERLIN) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert day_start(START, UTC) == datetime(2026, 10, 1, tzinfo=UTC)
    assert day_end(START, UTC) == datetime(2026, 10, 2, tzinfo=UTC)


def test_daylight_saving_days_are_as_long_as_they_really_are() -> None:
    autumn = date(2026, 10, 25)  # clocks go back: 25 hours
    spring = date(2027, 3, 28)  # clocks go forward: 23 hours
    assert day_end(autumn, BERLIN) - day_start(autumn, BERLIN) == timedelta(hours=25)
    assert day_end(spring, BERLIN) - day_start(spring, BERLIN) == timedelta(hours=23)


def test_local_date_uses_the_config_timezone() -> None:
    late_evening_utc = ts("2026-11-15T23:30Z")  # 00:30 on the 16th in Berlin
    assert local_date(late_evening_utc, BERLIN) == date(2026, 11, 16)
    assert local_date(late_evening_utc, UTC) == date(2026, 11, 15)


# --- expected % -----------------------------------------------------------------------------------


def test_expected_pct_across_the_autumn_clock_change() -> None:
    # start 2026-10-01 00:00 CEST = 09-30 22:00Z; end of 2026-12-31 = 2027-01-01 00:00 CET
    # = 12-31 23:00Z. Span: 92 local days, one of them (10-25) 25 h long: 92 * 24 + 1 = 2209 h.
    # now 11-16 09:00Z: from 09-30 22:00Z to 11-16 22:00Z is 47 days = 1128 h, minus 13 h = 1115 h.
    # 1115 / 2209 * 100 = 50.4753...
    pct = expected_pct(START, DUE, NOW, BERLIN)
    assert pct == pytest.approx(50.4753, abs=1e-4)
    assert pct == pytest.approx(100 * 1115 / 2209)


def test_expected_pct_in_utc_whole_days() -> None:
    # 10 days = 240 h; 2.5 days (60 h) in.
    pct = expected_pct(date(2026, 10, 1), date(2026, 10, 10), ts("2026-10-03T12:00Z"), UTC)
    assert pct == pytest.approx(25.0)


def test_expected_pct_of_a_single_25_hour_day() -> None:
    # 2026-10-25 in Berlin runs from 10-24 22:00Z to 10-25 23:00Z (25 h); 10:00Z is 12 h in.
    day = date(2026, 10, 25)
    assert expected_pct(day, day, ts("2026-10-25T10:00Z"), BERLIN) == pytest.approx(48.0)


def test_expected_pct_of_a_single_23_hour_day() -> None:
    # 2027-03-28 in Berlin runs from 03-27 23:00Z to 03-28 22:00Z (23 h); 10:30Z is 11.5 h in.
    day = date(2027, 3, 28)
    assert expected_pct(day, day, ts("2027-03-28T10:30Z"), BERLIN) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-09-01T00:00Z", 0.0),  # long before start
        ("2026-09-30T22:00Z", 0.0),  # exactly the start (00:00 Berlin)
        ("2026-12-31T23:00Z", 100.0),  # exactly the end of the due day
        ("2027-02-01T00:00Z", 100.0),  # long after
    ],
)
def test_expected_pct_is_clipped(now: str, expected: float) -> None:
    assert expected_pct(START, DUE, ts(now), BERLIN) == expected


# --- progress % -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "baseline", "target", "expected"),
    [
        (5.0, 0.0, 10.0, 50.0),
        (2.55, 2.1, 3.0, 50.0),  # (2.55 - 2.1) / (3.0 - 2.1)
        (12.0, 0.0, 10.0, 100.0),  # beyond the target: clipped
        (-3.0, 0.0, 10.0, 0.0),  # below the baseline: clipped
    ],
)
def test_progress_pct_up(value: float, baseline: float, target: float, expected: float) -> None:
    assert progress_pct(value, baseline, target, "up") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35.0, 25.0),  # (35 - 40) / (20 - 40)
        (20.0, 100.0),
        (10.0, 100.0),  # better than the target: clipped
        (45.0, 0.0),  # worse than the baseline: clipped
    ],
)
def test_progress_pct_target_below_baseline_goes_down(value: float, expected: float) -> None:
    assert progress_pct(value, 40.0, 20.0, "down") == pytest.approx(expected)


def test_progress_pct_without_a_value_is_none() -> None:
    assert progress_pct(None, 0.0, 100.0, "up") is None


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (3.0, "up", 100.0),
        (3.5, "up", 100.0),
        (2.9, "up", 0.0),
        (3.0, "down", 100.0),
        (2.0, "down", 100.0),
        (3.1, "down", 0.0),
    ],
)
def test_progress_pct_when_target_equals_baseline(
    value: float, direction: Literal["up", "down"], expected: float
) -> None:
    assert progress_pct(value, 3.0, 3.0, direction) == expected


# --- the status word ------------------------------------------------------------------------------


def _status(
    progress: float | None,
    expected: float,
    *,
    now: datetime = NOW,
    start: date = START,
    due: date = DUE,
    rules: StatusRules = RULES,
) -> tuple[str, str]:
    facts = Facts(
        now=now, start=start, due=due, progress=progress, expected=expected, rules=rules, tz=BERLIN
    )
    verdict = status_rule(facts)
    return verdict.status, verdict.reason


@pytest.mark.parametrize(
    ("progress", "expected", "word", "reason"),
    [
        (60.0, 50.0, "On track", ""),  # ahead
        (40.0, 50.0, "On track", ""),  # gap exactly at_risk_gap (10)
        (39.5, 50.0, "At risk", "10.5 points behind expected"),
        (25.0, 50.0, "At risk", "25.0 points behind expected"),  # gap exactly off_track_gap
        (24.9, 50.0, "Off track", "25.1 points behind expected"),
        (100.0, 50.0, "Done", ""),
        (None, 5.0, "On track", ""),  # no value counts as 0 progress
        (None, 30.0, "Off track", "30.0 points behind expected"),
    ],
)
def test_status_from_the_gap(
    progress: float | None, expected: float, word: str, reason: str
) -> None:
    assert _status(progress, expected) == (word, reason)


def test_status_uses_the_configured_gaps() -> None:
    rules = StatusRules(at_risk_gap=5, off_track_gap=8)
    assert _status(44.0, 50.0, rules=rules) == ("At risk", "6.0 points behind expected")
    assert _status(41.0, 50.0, rules=rules) == ("Off track", "9.0 points behind expected")
    assert _status(45.0, 50.0, rules=rules) == ("On track", "")


def test_not_started_before_00_00_of_the_start_day() -> None:
    start = date(2026, 11, 17)  # 00:00 Berlin = 2026-11-16T23:00Z
    before = ts("2026-11-16T22:59Z")
    assert _status(100.0, 0.0, now=before, start=start) == ("Not started", "")
    assert _status(0.0, 0.0, now=ts("2026-11-16T23:00Z"), start=start) == ("On track", "")


def test_past_due_after_24_00_of_the_due_day_is_off_track() -> None:
    due = date(2026, 11, 15)  # 24:00 Berlin = 2026-11-15T23:00Z
    still_due = ts("2026-11-15T22:59Z")
    assert _status(95.0, 99.0, now=still_due, due=due) == ("On track", "")
    past = ts("2026-11-15T23:00Z")
    assert _status(95.0, 100.0, now=past, due=due) == ("Off track", "past due")
    assert _status(100.0, 100.0, now=past, due=due) == ("Done", "")


# --- properties -----------------------------------------------------------------------------------

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(deadline=None)
@given(
    value=finite,
    baseline=finite,
    target=finite,
    direction=st.sampled_from(["up", "down"]),
)
def test_progress_stays_within_0_and_100(
    value: float, baseline: float, target: float, direction: Literal["up", "down"]
) -> None:
    result = progress_pct(value, baseline, target, direction)
    assert result is not None
    assert 0.0 <= result <= 100.0


ZONES = [UTC, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]


@settings(deadline=None)
@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    length=st.integers(min_value=0, max_value=400),
    first=st.integers(min_value=-30 * 86400, max_value=450 * 86400),
    step=st.integers(min_value=0, max_value=60 * 86400),
    zone=st.sampled_from(ZONES),
)
def test_expected_pct_is_monotonic_in_now(
    start: date, length: int, first: int, step: int, zone: ZoneInfo
) -> None:
    due = start + timedelta(days=length)
    earlier = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(seconds=first)
    later = earlier + timedelta(seconds=step)
    a = expected_pct(start, due, earlier, zone)
    b = expected_pct(start, due, later, zone)
    assert 0.0 <= a <= b <= 100.0
