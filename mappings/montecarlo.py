"""The Monte Carlo itself, with numpy: mappings.forecast imports this module only when a
forecast is actually computed, so a run whose forecasts all come from the cache never pays
numpy's start-up (about 0.13 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mappings.forecast import MAX_DAYS, QUANTILES


def finish_days(
    daily: Sequence[float], remaining: float, trials: int, seed: int
) -> tuple[int, ...] | None:
    """The days (from today) by which each of QUANTILES of the trials finished `remaining`
    work, replaying `daily`; None when nothing was finished in `daily`."""
    days = _days_to_finish(np.asarray(daily, dtype=np.float64), remaining, trials, seed)
    if days is None:
        return None
    return tuple(int(np.quantile(days, q, method="inverted_cdf")) for q in QUANTILES)


def _days_to_finish(
    values: np.ndarray, remaining: float, trials: int, seed: int
) -> np.ndarray | None:
    """For each trial, the day on which the replayed days first add up to `remaining`
    (a huge number for a trial still running when 85 % of them have finished).

    Exact Monte Carlo, made cheap four ways:
    - days are drawn a span of k days at a time: one draw from the n^k equally likely k-day
      sequences is k independent draws of a day, at a k-th of the cost; the span in which a
      trial finishes is then resolved day by day from its first days' sums;
    - spans are drawn in blocks sized to where trials will finish, later blocks only for the
      trials still running, stopping once 85 % have finished (the P50 and P85 need no more);
    - trials go in chunks that fit the CPU cache;
    - for long forecasts, the first days, in which no trial can plausibly finish, are drawn
      as one sum per trial (a multinomial count of each distinct daily value: the same
      distribution as that many single draws)."""
    mean = float(values.mean()) if values.size else 0.0
    if mean <= 0:
        return None
    rng = np.random.default_rng(seed)
    spread = float(values.std())
    days_at_mean = remaining / mean
    # ~1.3 standard deviations of the finishing day past the mean path: about 90 % of trials
    # finish in the first block, which is all the P85 needs.
    block = math.ceil(1.3 * spread * math.sqrt(max(days_at_mean, 1.0)) / mean) + 4
    m0 = _skippable_days(remaining, mean, spread, float(values.max()))
    if m0 < _SKIP_WORTH_IT:
        m0 = 0
    distinct, counts = np.unique(values, return_counts=True)
    spans = _Spans(values.astype(np.float32))
    finish = np.empty(trials, dtype=np.int64)
    for lo in range(0, trials, _CHUNK):
        n = min(_CHUNK, trials - lo)
        totals = np.zeros(n)
        if m0:
            totals = rng.multinomial(m0, counts / counts.sum(), size=n) @ distinct
            if (totals >= remaining - 1e-9).any():  # astronomically rare: do not skip
                totals = np.zeros(n)
        start_day = m0 if totals.any() else 0
        first = max(1, math.ceil(days_at_mean) - start_day + block)
        finish[lo : lo + n] = _run_blocks(rng, spans, totals, remaining, start_day, first, block)
    return finish


class _Spans:
    """Every sequence of k days (k = 3, 2 or 1, as many as keep the table in cache), indexed
    0 .. n^k - 1 with the earliest day most significant: `sums[j][i // n**(k - j)]` is the
    work of the first j days of sequence i."""

    def __init__(self, days: np.ndarray) -> None:
        n = days.size
        self.n = n
        self.k = next(k for k in (3, 2, 1) if n**k <= _SPAN_TABLE_MAX)
        self.sums: dict[int, np.ndarray] = {1: days}
        for j in range(2, self.k + 1):
            self.sums[j] = np.add.outer(self.sums[j - 1], days).ravel()
        self.count = n**self.k
        self.total = self.sums[self.k]


def _run_blocks(
    rng: np.random.Generator,
    spans: _Spans,
    totals: np.ndarray,
    remaining: float,
    day: int,
    width_days: int,
    block_days: int,
) -> np.ndarray:
    trials = totals.size
    finish = np.full(trials, np.iinfo(np.int64).max, dtype=np.int64)
    running = np.arange(trials)
    sums = totals.astype(np.float32)
    target = np.float32(remaining - 1e-6)
    k = spans.k
    while running.size and day < MAX_DAYS and trials - running.size < 0.85 * trials:
        width = max(1, math.ceil(min(width_days, MAX_DAYS - day) / k))  # in spans
        drawn = rng.integers(0, spans.count, size=(running.size, width), dtype=np.int32)
        path = np.cumsum(spans.total[drawn], axis=1, dtype=np.float32)
        path += sums[running, None]
        # Work only adds up, so a path rises: the spans below the target come first, and their
        # count says in which span the trial finished (no search, no copy of finished rows).
        below = np.count_nonzero(path < target, axis=1)
        rows = np.nonzero(below < width)[0]
        if rows.size:
            b = below[rows]
            before = np.where(b > 0, path[rows, b - 1], sums[running[rows]])
            crossing = drawn[rows, b]
            within = np.ones(rows.size, dtype=np.int64)  # the span's last day at the latest
            for j in range(1, k):
                first_days = spans.sums[j][crossing // spans.n ** (k - j)]
                within += before + first_days < target
            finish[running[rows]] = day + b * k + within
        sums[running] = path[:, -1]
        running = running[below == width]
        day += width * k
        width_days = block_days
        block_days *= 2  # a long tail: fewer, larger blocks
    return finish


_CHUNK = 2500  # trials per draw: (2500 x spans) float32 stays in cache
_SKIP_WORTH_IT = 100  # below this many skippable days, single draws cost less than a multinomial
_SPAN_TABLE_MAX = 2**17  # entries of the k-day table: 512 KB of float32, in L2


def _skippable_days(remaining: float, mean: float, spread: float, largest: float) -> int:
    """Days no trial will finish within: the mean path plus seven standard deviations stays
    below the remaining work (and never fewer than the days even the largest day cannot)."""
    certain = max(0, math.ceil((remaining - 1e-9) / largest) - 1)
    # m * mean + 7 * spread * sqrt(m) < remaining, solved for sqrt(m)
    root = (-7 * spread + math.sqrt(49 * spread**2 + 4 * mean * remaining)) / (2 * mean)
    likely = max(0, math.floor(root**2) - 1)
    return min(max(certain, likely), MAX_DAYS)
