"""The forecast cache through sync.engine.run: kept in the state with the run (or not at all), an
unchanged run computes no forecast and publishes the same tables, and a dry run, an --as-of run
and a run without the cache all give the same report."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import connectors.files.csvdir
import mappings.keyresult
from mappings.forecast import Forecast, ForecastCache, forecast_dates
from sync.base.errors import EXIT_OK, EXIT_PUBLISH
from sync.base.report import Table
from sync.cli import main
from sync.config import LoadedConfig, load_config
from sync.engine import FORECASTS_MARK, RunOptions, RunOutcome, run
from sync.store import Store
from tests.interpreter import fresh_python

from .samples import sample_config, write_inputs

# csv only: openpyxl (the xlsx sink) imports numpy itself
CONFIG = sample_config().replace("  - type: xlsx\n    path: out/status.xlsx\n", "")
HEADER = (
    "key,title,state,status,assignee,labels,parent,milestone,points,created,updated,done_at,"
    "due,url\n"
)
DONE = [f"2026-10-{d:02d}" for d in (6, 9, 14, 20, 23, 28)] + ["2026-11-03", "2026-11-12"]
ITEMS = HEADER + "".join(
    f"T-{n},Done {n},done,Done,ann,billing,,,3,2026-10-01,{d},{d},,\n" for n, d in enumerate(DONE)
)
ITEMS += "".join(f"U-{n},Open {n},in_progress,Doing,bob,billing,,,5,2026-10-02,2026-10-12,,,\n"
                 for n in range(6))  # fmt: skip
DAY1 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


def setup(tmp_path: Path, items: str = ITEMS) -> LoadedConfig:
    return load_config(write_inputs(tmp_path, CONFIG, items))


def go(config: LoadedConfig, state: Path, moment: datetime, **options: Any) -> RunOutcome:
    return run(config, Store(state), RunOptions(**options), clock=lambda: moment)


def tabs(outcome: RunOutcome) -> dict[str, Table]:
    """Every table but Run (which names the run)."""
    return {t.name: t for t in outcome.tables if t.name != "Run"}


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many forecasts the evaluations computed (the cache's hits are not computed)."""
    calls = [0]
    real: Callable[..., Forecast | None] = forecast_dates

    def counting(*args: Any, **kwargs: Any) -> Forecast | None:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(mappings.keyresult, "forecast_dates", counting)
    return calls


def test_an_unchanged_run_computes_no_forecast_and_publishes_the_same(
    tmp_path: Path, computed: list[int]
) -> None:
    config = setup(tmp_path)
    state = tmp_path / "state"
    first = go(config, state, DAY1)
    assert first.exit_code == EXIT_OK
    assert first.report is not None
    assert [r.forecast_p85 is not None for r in first.report.rows if r.id == "G1.1"] == [True]
    assert computed[0] == 1
    kept = Store(state).mark(FORECASTS_MARK)
    assert kept is not None and len(ForecastCache.loads(kept, salt="").known) == 1

    second = go(config, state, DAY1)
    assert second.exit_code == EXIT_OK
    assert computed[0] == 1  # found, not computed
    assert tabs(second) == tabs(first)
    assert Store(state).mark(FORECASTS_MARK) == kept

    # The same run without the cache (a fresh state) computes the same tables.
    cold = tmp_path / "cold"
    assert tabs(go(config, cold, DAY1)) == tabs(first)
    assert computed[0] == 2


def test_the_cache_keeps_only_what_the_last_run_used(tmp_path: Path, computed: list[int]) -> None:
    config = setup(tmp_path)
    state = tmp_path / "state"
    go(config, state, DAY1)
    day1 = ForecastCache.loads(Store(state).mark(FORECASTS_MARK), salt="").known
    go(config, state, DAY2)  # another day: other inputs, another key
    day2 = ForecastCache.loads(Store(state).mark(FORECASTS_MARK), salt="").known
    assert computed[0] == 2
    assert len(day2) == 1 and day2.keys().isdisjoint(day1)


def test_a_failed_publish_keeps_no_forecast(
    tmp_path: Path, computed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup(tmp_path)
    state = tmp_path / "state"
    assert go(config, state, DAY1).exit_code == EXIT_OK
    before = Store(state).mark(FORECASTS_MARK)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(connectors.files.csvdir, "write_csv", broken)
        assert go(config, state, DAY2).exit_code == EXIT_PUBLISH
    assert computed[0] == 2
    assert Store(state).mark(FORECASTS_MARK) == before  # DAY2's forecast was not kept
    assert go(config, state, DAY2).exit_code == EXIT_OK
    assert computed[0] == 3  # so the next run computes it again
    assert Store(state).mark(FORECASTS_MARK) != before


def test_a_dry_run_and_an_as_of_run_give_the_report_of_a_run_without_the_cache(
    tmp_path: Path, computed: list[int]
) -> None:
    config = setup(tmp_path)
    state = tmp_path / "state"
    go(config, state, DAY1)
    kept = Store(state).mark(FORECASTS_MARK)
    cold = tmp_path / "cold"

    dry = go(config, state, DAY1, dry_run=True)
    assert computed[0] == 1  # found in the cache
    assert tabs(dry) == tabs(go(config, cold, DAY1, dry_run=True))

    as_of = DAY1.replace(day=10)
    shutil.copytree(state, cold)
    warm_as_of = go(config, state, DAY2, as_of=as_of)
    assert warm_as_of.report == go(config, cold, DAY2, as_of=as_of).report
    # An --as-of run keeps the regular runs' forecasts, not its own.
    assert Store(state).mark(FORECASTS_MARK) == kept


def test_an_unchanged_run_does_not_import_numpy(tmp_path: Path) -> None:
    config = setup(tmp_path)
    state = tmp_path / "state"
    assert go(config, state, DAY1).exit_code == EXIT_OK
    code = textwrap.dedent(
        """\
        import sys
        from datetime import datetime
        from pathlib import Path

        from sync.config import load_config
        from sync.engine import RunOptions, run
        from sync.store import Store

        moment = datetime.fromisoformat(sys.argv[3])
        config = load_config(Path(sys.argv[1]))
        outcome = run(config, Store(Path(sys.argv[2])), RunOptions(), clock=lambda: moment)
        assert outcome.exit_code == 0, outcome.error
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "mappings")))
        """
    )
    args = [str(config.path), str(state), DAY1.replace(hour=10).isoformat()]
    loaded = fresh_python(code, *args).strip()
    assert "mappings.forecast" in loaded  # the evaluation ran
    assert "numpy" not in loaded and "mappings.montecarlo" not in loaded


def test_the_digest_takes_the_last_runs_forecasts(
    tmp_path: Path, computed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    """`goalsync digest --print` evaluates at the last run's instant with its records: the
    forecasts that run kept are the ones it needs, so it computes none (nor loads numpy)."""
    config = setup(tmp_path)
    state = tmp_path / "state"
    assert go(config, state, DAY1).exit_code == EXIT_OK
    kept = Store(state).mark(FORECASTS_MARK)
    assert computed[0] == 1
    assert main(["digest", "--print", "--config", str(config.path), "--state-dir", str(state)]) == 0
    assert computed[0] == 1
    assert "G1" in capsys.readouterr().out
    assert Store(state).mark(FORECASTS_MARK) == kept  # read, never written
