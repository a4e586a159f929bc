"""The forecast cache: a result found under a key is exactly what computing it gives, and any
changed input is another key (a miss, computed afresh)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mappings.forecast
import mappings.keyresult
from mappings.forecast import Forecast, ForecastCache, forecast_dates, forecast_key
from mappings.keyresult import ForecastJob, run_forecasts
from mappings.model import ForecastRules, StatusRules
from mappings.rows import EvalContext

from .conftest import BERLIN

TODAY = date(2026, 11, 16)


def context(today: date, trials: int) -> EvalContext:
    """The little of an EvalContext that run_forecasts reads."""
    now = datetime.combine(today, datetime.min.time(), tzinfo=BERLIN).astimezone(UTC)
    rules = StatusRules(forecast=ForecastRules(trials=trials))
    return cast(EvalContext, SimpleNamespace(now=now + timedelta(hours=10), tz=BERLIN, rules=rules))


@dataclass
class Counted:
    calls: int = 0


def count_forecasts(monkeypatch: pytest.MonkeyPatch) -> Counted:
    counted = Counted()
    real = forecast_dates

    def counting(*args: Any, **kwargs: Any) -> Forecast | None:
        counted.calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(mappings.keyresult, "forecast_dates", counting)
    return counted


dailies = st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=42).map(
    lambda xs: [float(x) for x in xs]
)
jobs = st.lists(
    st.builds(
        ForecastJob,
        daily=dailies,
        remaining=st.floats(min_value=0.5, max_value=150, allow_nan=False),
        seed=st.integers(min_value=0, max_value=2**32 - 1),
    )
    | st.none(),
    min_size=1,
    max_size=6,
)


@settings(deadline=None, max_examples=30)
@given(
    jobs=jobs,
    today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    trials=st.integers(min_value=100, max_value=1500),
)
def test_a_cached_forecast_is_what_computing_it_gives(
    jobs: list[ForecastJob | None], today: date, trials: int
) -> None:
    ctx = context(today, trials)
    first = ForecastCache(salt="numpy x")
    computed = run_forecasts(jobs, ctx, first)
    fresh = [
        None
        if j is None
        else forecast_dates(j.daily, j.remaining, today, trials=trials, seed=j.seed)
        for j in jobs
    ]
    assert computed == fresh == run_forecasts(jobs, ctx)  # with a cache or without: the same

    # What the next run reads back (through the text kept in the state) answers every job.
    again = ForecastCache.loads(first.dumps(), salt="numpy x")
    assert again.known == first.used
    with pytest.MonkeyPatch.context() as monkeypatch:
        counted = count_forecasts(monkeypatch)
        assert run_forecasts(jobs, ctx, again) == fresh
    assert counted.calls == 0
    assert again.used == first.used  # and it keeps exactly what it used


def _changed(base: dict[str, Any], field: str, draw: Callable[..., Any]) -> dict[str, Any]:
    out = dict(base)
    if field == "daily":
        daily = list(base["daily"])
        at = draw(st.integers(min_value=0, max_value=len(daily)))
        if at == len(daily) or draw(st.booleans()):
            daily.insert(at, draw(st.floats(min_value=0, max_value=10)))  # one day more
        else:
            daily[at] = draw(st.floats(min_value=0, max_value=10).filter(lambda v: v != daily[at]))
        out["daily"] = daily
    elif field == "today":
        out["today"] = base["today"] + timedelta(days=draw(st.sampled_from([-1, 1, 365])))
    elif field == "remaining":
        out["remaining"] = draw(st.floats(min_value=0.5, max_value=150).filter(
            lambda v: v != base["remaining"]
        ))  # fmt: skip
    elif field == "salt":
        out["salt"] = base["salt"] + draw(st.text(min_size=1, max_size=3))
    else:  # trials, seed
        out[field] = base[field] + draw(st.integers(min_value=1, max_value=1000))
    return out


@settings(max_examples=200)
@given(
    daily=dailies,
    remaining=st.floats(min_value=0.5, max_value=150),
    seed=st.integers(min_value=0, max_value=2**31),
    trials=st.integers(min_value=100, max_value=100_000),
    field=st.sampled_from(["daily", "today", "remaining", "salt", "trials", "seed"]),
    data=st.data(),
)
def test_any_changed_input_is_another_key(
    daily: list[float], remaining: float, seed: int, trials: int, field: str, data: st.DataObject
) -> None:
    base: dict[str, Any] = {
        "daily": daily,
        "remaining": remaining,
        "today": TODAY,
        "trials": trials,
        "seed": seed,
        "salt": "numpy 2.4.6",
    }
    changed = _changed(base, field, data.draw)
    assert forecast_key(**changed) != forecast_key(**base)
    assert forecast_key(**{**base, "daily": list(daily)}) == forecast_key(**base)


def test_a_new_version_of_the_algorithm_or_its_percentiles_is_a_miss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = forecast_key([1.0, 2.0], 10, TODAY, trials=1000, seed=1)
    monkeypatch.setattr(mappings.forecast, "ALGORITHM", mappings.forecast.ALGORITHM + 1)
    assert forecast_key([1.0, 2.0], 10, TODAY, trials=1000, seed=1) != key
    monkeypatch.undo()
    monkeypatch.setattr(mappings.forecast, "QUANTILES", (0.5, 0.9))
    assert forecast_key([1.0, 2.0], 10, TODAY, trials=1000, seed=1) != key


def test_a_cache_of_another_salt_is_all_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(TODAY, 500)
    job = ForecastJob([1.0, 2.0, 0.0, 3.0], 20, seed=3)
    old = ForecastCache(salt="numpy 1")
    run_forecasts([job], ctx, old)
    counted = count_forecasts(monkeypatch)
    new = ForecastCache.loads(old.dumps(), salt="numpy 2")
    assert run_forecasts([job], ctx, new) == run_forecasts([job], ctx)
    assert counted.calls == 2
    assert new.used.keys().isdisjoint(old.used)


def test_no_forecast_is_cached_too() -> None:
    # All zeros: nothing finished, no forecast; the next run need not find that out again.
    ctx = context(TODAY, 500)
    cache = ForecastCache()
    assert run_forecasts([ForecastJob([0.0] * 7, 5, seed=1)], ctx, cache) == [None]
    assert list(ForecastCache.loads(cache.dumps(), salt="").known.values()) == [None]


@pytest.mark.parametrize(
    "text", [None, "", "not json", "[1, 2]", '{"k": 3}', '{"k": ["2026-13-01", "x"]}', '{"k": [1]}']
)
def test_an_unreadable_cache_is_empty(text: str | None) -> None:
    assert ForecastCache.loads(text, salt="").known == {}


def test_numpy_is_imported_only_to_compute_a_forecast() -> None:
    code = textwrap.dedent(
        """\
        import sys
        from datetime import UTC, datetime
        from types import SimpleNamespace
        from zoneinfo import ZoneInfo

        import mappings.evaluate
        from mappings.forecast import ForecastCache
        from mappings.keyresult import ForecastJob, run_forecasts
        from mappings.model import ForecastRules, StatusRules

        assert "numpy" not in sys.modules, "imported by the evaluation's modules"
        rules = StatusRules(forecast=ForecastRules(trials=500))
        now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
        ctx = SimpleNamespace(now=now, tz=ZoneInfo("Europe/Berlin"), rules=rules)
        jobs = [ForecastJob([1.0, 0.0, 2.0], 30, seed=s) for s in range(5)]
        known = ForecastCache.loads(sys.argv[1], salt="")
        found = run_forecasts(jobs, ctx, known)
        assert "numpy" not in sys.modules, "imported though every forecast was cached"
        run_forecasts([ForecastJob([1.0, 0.0, 2.0], 31, seed=0)], ctx, known)
        assert "numpy" in sys.modules
        print(found)
        """
    )
    cache = ForecastCache()
    ctx = context(TODAY, 500)
    expected = run_forecasts(
        [ForecastJob([1.0, 0.0, 2.0], 30, seed=s) for s in range(5)], ctx, cache
    )
    done = subprocess.run(
        [sys.executable, "-c", code, cache.dumps()],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(expected)
