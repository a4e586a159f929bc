from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.forecast import MAX_DAYS, forecast_dates, seed_for

TODAY = date(2026, 11, 16)


def test_one_item_a_day_and_ten_left_is_done_in_ten_days() -> None:
    # The known answer: every replayed day finishes exactly one item, so every trial needs 10.
    f = forecast_dates([1.0] * 42, 10, TODAY)
    assert f is not None
    assert (f.p50, f.p85) == (date(2026, 11, 26), date(2026, 11, 26))


def test_two_a_day_halves_the_time_and_a_remainder_needs_one_more_day() -> None:
    f = forecast_dates([2.0] * 42, 9, TODAY)  # 2, 4, 6, 8, 10: day 5
    assert f is not None and f.p85 == TODAY + timedelta(days=5)


def test_nothing_left_is_today_and_nothing_finished_is_no_forecast() -> None:
    assert forecast_dates([1.0] * 42, 0, TODAY) == forecast_dates([0.0], -3, TODAY)
    f = forecast_dates([1.0] * 42, 0, TODAY)
    assert f is not None and f.p85 == TODAY
    assert forecast_dates([0.0] * 42, 5, TODAY) is None
    assert forecast_dates([], 5, TODAY) is None


def test_a_forecast_beyond_ten_years_is_none() -> None:
    # One item every 42 days on average: 1000 items take ~115 years.
    assert forecast_dates([1.0] + [0.0] * 41, 1000, TODAY) is None


def brute_force_p85(daily: list[float], remaining: float, trials: int, seed: int) -> int:
    """The plain Monte Carlo the optimised one must agree with: draw every day of every trial."""
    rng = np.random.default_rng(seed)
    values = np.asarray(daily)
    horizon = math.ceil(remaining / values.mean() * 3) + 30
    paths = np.cumsum(values[rng.integers(0, len(values), size=(trials, horizon))], axis=1)
    days = (paths < remaining - 1e-9).sum(axis=1) + 1
    return int(np.quantile(days, 0.85, method="inverted_cdf"))


@pytest.mark.parametrize(
    ("daily", "remaining"),
    [
        ([0, 1, 2, 0, 3, 1, 0, 5, 2, 1] * 4, 60),
        ([0, 1, 2, 0, 3, 1, 0, 5, 2, 1] * 4, 600),  # long enough to draw the first days at once
        ([0.0, 0.0, 0.0, 8.0, 0.0, 3.0, 0.5], 45),  # points: lumpy, fractional
    ],
)
def test_agrees_with_a_brute_force_monte_carlo(daily: list[float], remaining: float) -> None:
    f = forecast_dates([float(d) for d in daily], remaining, TODAY, trials=20_000, seed=7)
    assert f is not None
    expected = brute_force_p85([float(d) for d in daily], remaining, trials=40_000, seed=11)
    # two independent samples of the same distribution: the 85th percentiles are within a day
    # or two (1.5 % of the days for the long one)
    assert abs((f.p85 - TODAY).days - expected) <= max(2, expected * 0.015)


@settings(deadline=None, max_examples=40)
@given(
    daily=st.lists(st.integers(min_value=0, max_value=6), min_size=7, max_size=42).filter(
        lambda xs: sum(xs) > 0
    ),
    remaining=st.integers(min_value=1, max_value=200),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_deterministic_and_p50_before_p85(daily: list[int], remaining: int, seed: int) -> None:
    floats = [float(d) for d in daily]
    first = forecast_dates(floats, remaining, TODAY, trials=2000, seed=seed)
    again = forecast_dates(floats, remaining, TODAY, trials=2000, seed=seed)
    assert first == again
    if first is not None:
        assert TODAY < first.p50 <= first.p85 <= TODAY + timedelta(days=MAX_DAYS)
        # never sooner than finishing at the best day's pace every day
        assert (first.p50 - TODAY).days >= math.ceil(remaining / max(daily))


def test_the_seed_is_stable_across_processes() -> None:
    assert seed_for("G1.1") == 1492597033  # zlib.crc32(b"G1.1"): hash() changes every run


@pytest.mark.parametrize("remaining", range(1, 14))
@pytest.mark.parametrize("window", [7, 42, 60, 400])  # spans of 3, 3, 2 and 1 days
def test_a_steady_pace_finishes_on_the_exact_day_whatever_the_span(
    remaining: int, window: int
) -> None:
    # 2 items a day: R items take ceil(R / 2) days, whichever day of a drawn span that falls on
    f = forecast_dates([2.0] * window, remaining, TODAY, trials=500)
    assert f is not None
    assert f.p50 == f.p85 == TODAY + timedelta(days=math.ceil(remaining / 2))
