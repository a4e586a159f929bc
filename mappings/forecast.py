"""When the remaining work will be done: a Monte Carlo forecast over recent daily throughput.

Each trial replays the team's own recent days, drawn at random with replacement, until the
remaining work is done; the P50 and P85 dates are the days by which half and 85 % of 10,000 trials
finished. No estimates, no velocity guess: only what the team actually finished, day by day, in
the window. Seeded per key result, so the same inputs always give the same dates. numpy makes
10,000 trials cost about a millisecond where pure Python took ~0.15 s per key result
(mappings.montecarlo, imported only when a forecast is computed).

The same inputs give the same dates, so a run keeps each result under a digest of every input
(`ForecastCache`): an unchanged run finds all of them and neither computes a forecast nor
imports numpy. Pure like the rest of mappings: the caller reads the known results from its
state and keeps the ones the evaluation used.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

MAX_DAYS = 3650  # beyond ten years a forecast says nothing useful
MIN_DONE_IN_WINDOW = 3  # fewer finished items are not a throughput to replay
QUANTILES = (0.5, 0.85)  # the P50 and P85
# Change it with anything that changes a forecast computed from the same inputs (the draws, how
# they are used, MAX_DAYS's meaning): every cached result is then a miss, never a stale answer.
ALGORITHM = 1


@dataclass(frozen=True, slots=True)
class Forecast:
    p50: date
    p85: date


def forecast_dates(
    daily: Sequence[float],
    remaining: float,
    today: date,
    *,
    trials: int = 10_000,
    seed: int = 0,
) -> Forecast | None:
    """P50 and P85 completion dates of `remaining` work (items or points), replaying `daily`
    (the work finished on each recent day). None when nothing was finished, or when 85 % of the
    trials do not finish within ten years."""
    if remaining <= 0:
        return Forecast(today, today)
    # Here, not at the top: numpy costs ~0.13 s of start-up, which a run whose forecasts all
    # come from the cache does not pay.
    from mappings.montecarlo import finish_days

    days = finish_days(daily, remaining, trials, seed)
    if days is None:
        return None
    p50, p85 = days
    if p85 > MAX_DAYS:
        return None
    return Forecast(today + timedelta(days=p50), today + timedelta(days=p85))


def seed_for(key_result_id: str) -> int:
    """A stable seed per key result (Python's hash() changes between processes)."""
    return zlib.crc32(key_result_id.encode("utf-8"))


def forecast_key(
    daily: Sequence[float],
    remaining: float,
    today: date,
    *,
    trials: int,
    seed: int,
    salt: str = "",
) -> str:
    """A digest of everything `forecast_dates` computes from, with the algorithm's version and
    `salt` (what else decides the draws: numpy's version, whose random streams may change):
    equal keys give equal forecasts. Floats as float.hex(), exact (1 and 1.0 are one value to
    the Monte Carlo, which replays them as float64)."""
    text = "|".join(
        (
            f"forecast/{ALGORITHM}",
            salt,
            ",".join(map(repr, QUANTILES)),
            str(MAX_DAYS),
            str(trials),
            str(seed),
            float(remaining).hex(),
            today.isoformat(),
            ",".join(float(d).hex() for d in daily),
        )
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(slots=True)
class ForecastCache:
    """Forecasts computed before, by `forecast_key`, and (`used`) the ones an evaluation found
    or computed: what the caller keeps for the next run, so the cache holds one run's worth."""

    known: Mapping[str, Forecast | None] = field(default_factory=dict)
    salt: str = ""
    used: dict[str, Forecast | None] = field(default_factory=dict)

    def key(
        self, daily: Sequence[float], remaining: float, today: date, *, trials: int, seed: int
    ) -> str:
        return forecast_key(daily, remaining, today, trials=trials, seed=seed, salt=self.salt)

    def dumps(self) -> str:
        """`used` as JSON: each key's [P50, P85] dates, or null for no forecast."""
        kept = {
            k: None if f is None else [f.p50.isoformat(), f.p85.isoformat()]
            for k, f in sorted(self.used.items())
        }
        return json.dumps(kept, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None, salt: str) -> ForecastCache:
        """What `dumps` wrote, as `known`. Anything unreadable is left out: a miss only costs
        the computation."""
        try:
            raw = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        known: dict[str, Forecast | None] = {}
        for key, value in raw.items() if isinstance(raw, dict) else ():
            if value is None:
                known[key] = None
                continue
            try:
                p50, p85 = (date.fromisoformat(v) for v in value)
            except (TypeError, ValueError):
                continue
            known[key] = Forecast(p50, p85)
        return cls(known=known, salt=salt)
