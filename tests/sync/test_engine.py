"""sync.engine.run end to end on real file sources and real csv / xlsx sinks: exit codes, stale
sources, failed publishes that leave the state dir alone, idempotent reruns, dry runs, the lock
and --as-of."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest

import connectors.files.xlsx
from connectors.files.xlsx import XlsxSink
from sync.base.errors import EXIT_OK, EXIT_PUBLISH, EXIT_STALE, ConfigError
from sync.base.report import TAB_NAMES
from sync.config import LoadedConfig, load_config
from sync.engine import RunOptions, RunOutcome, run
from sync.lock import run_lock
from sync.store import DB_NAME, Store

from .samples import METRICS, sample_config, write_inputs

CONFIG = sample_config()
ITEMS_HEADER = (
    "key,title,state,status,assignee,labels,parent,milestone,points,created,updated,done_at,"
    "due,url\n"
)
ITEMS = ITEMS_HEADER + (
    "T-1,Invoices,done,Done,ann,billing,,,3,2026-10-02,2026-10-10,2026-10-10,,\n"
    "T-2,Refunds,in_progress,Doing,bob,billing,,,5,2026-10-03,2026-10-12,,,\n"
    "T-3,Other,todo,Todo,,misc,,,1,2026-10-03,2026-10-12,,,\n"
)

DAY1 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
DAY3 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
DAY4 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def write_setup(
    tmp_path: Path, config: str = CONFIG, items: str = ITEMS, metrics: str = METRICS
) -> LoadedConfig:
    return load_config(write_inputs(tmp_path, config, items, metrics))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def go(config: LoadedConfig, tmp_path: Path, moment: datetime, **options: Any) -> RunOutcome:
    return run(config, Store(tmp_path / "state"), RunOptions(**options), clock=at(moment))


def read_tab(tmp_path: Path, tab: str) -> list[dict[str, str]]:
    with (tmp_path / "out" / "csv" / f"{tab}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def status_rows(tmp_path: Path) -> dict[str, dict[str, str]]:
    return {row["ID"]: row for row in read_tab(tmp_path, "Status")}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or "journal" in p.name]


def xlsx_values(path: Path, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {
        ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)]
        for ws in wb.worksheets
        if ws.title not in skip
    }


def test_a_healthy_run_exits_0_and_writes_every_sink_and_the_state(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    outcome = go(config, tmp_path, DAY1)

    assert outcome.exit_code == EXIT_OK
    assert not outcome.skipped and outcome.error == ""
    csv_written, xlsx_written = outcome.written  # one description per sink, in config order
    assert str(tmp_path / "out" / "csv") in csv_written
    assert str(tmp_path / "out" / "status.xlsx") in xlsx_written
    assert sorted(p.name for p in (tmp_path / "out" / "csv").iterdir()) == sorted(
        [".goalsync-sink", *(f"{name}.csv" for name in TAB_NAMES)]
    )
    assert xlsx_values(tmp_path / "out" / "status.xlsx").keys() == set(TAB_NAMES)
    assert (tmp_path / "state" / DB_NAME).is_file()
    assert temp_files(tmp_path) == []

    rows = status_rows(tmp_path)
    assert list(rows) == ["G1", "G1.1", "G1.2"]
    assert rows["G1.1"]["Value"] == "50"
    assert rows["G1.1"]["Done / Total"] == "1 / 2"
    assert rows["G1.2"]["Value"] == "2.5"
    assert rows["G1.1"]["Note"] == "" and rows["G1.2"]["Note"] == ""
    assert rows["G1.1"]["Updated"] == "2026-11-16 10:00"  # the pull, in Europe/Berlin

    store = Store(tmp_path / "state")
    assert {h.id for h in store.history()} == {"G1", "G1.1", "G1.2"}
    states = store.source_states()
    assert states["tasks"].last_success == DAY1 and states["tasks"].stale_since is None
    assert [r["exit_code"] for r in store.last_runs()] == [0]


def test_a_malformed_source_goes_stale_keeps_its_values_and_the_others_refresh(
    tmp_path: Path,
) -> None:
    config = write_setup(tmp_path)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK

    # tasks loses its key column (the whole file is unreadable); kpi gets a new value.
    (tmp_path / "items.csv").write_text("nokey,title\nx,y\n", encoding="utf-8")
    (tmp_path / "metrics.csv").write_text(METRICS + "conversion,2026-11-10,2.8\n")
    outcome = go(config, tmp_path, DAY2)

    assert outcome.exit_code == EXIT_STALE
    assert outcome.written  # stale is still published
    rows = status_rows(tmp_path)
    # The stale source's key result keeps the last good values, marked in the Note.
    assert rows["G1.1"]["Value"] == "50"
    assert rows["G1.1"]["Done / Total"] == "1 / 2"
    assert "stale since 2026-11-17 10:00" in rows["G1.1"]["Note"]
    assert "tasks" in rows["G1.1"]["Note"]
    assert rows["G1.1"]["Updated"] == "2026-11-16 10:00"  # its last success
    assert "stale since 2026-11-17 10:00" in rows["G1"]["Note"]  # the goal rolls it up
    # The healthy source refreshed.
    assert rows["G1.2"]["Value"] == "2.8"
    assert "stale" not in rows["G1.2"]["Note"]
    assert rows["G1.2"]["Updated"] == "2026-11-17 10:00"
    # Items still shows the cached items.
    assert {r["Key"] for r in read_tab(tmp_path, "Items")} == {"T-1", "T-2"}
    run_tab = {r["Key"]: r for r in read_tab(tmp_path, "Run")}
    assert run_tab["Source tasks (file)"]["Value"] == "stale since 2026-11-17 10:00 CET"
    assert "no column key" in run_tab["Source tasks (file)"]["Detail"]
    assert run_tab["Source kpi (file)"]["Value"] == "ok"

    # Still broken a day later: stale since the first failure, not the latest.
    outcome = go(config, tmp_path, DAY3)
    assert outcome.exit_code == EXIT_STALE
    assert "stale since 2026-11-17 10:00" in status_rows(tmp_path)["G1.1"]["Note"]

    # Fixed: fresh values, no stale note, exit 0.
    (tmp_path / "items.csv").write_text(
        ITEMS.replace("T-2,Refunds,in_progress,Doing", "T-2,Refunds,done,Done"), encoding="utf-8"
    )
    outcome = go(config, tmp_path, DAY4)
    assert outcome.exit_code == EXIT_OK
    rows = status_rows(tmp_path)
    assert rows["G1.1"]["Value"] == "100"
    assert "stale" not in rows["G1.1"]["Note"]
    assert Store(tmp_path / "state").source_states()["tasks"].stale_since is None


def test_a_failing_sink_exits_4_and_leaves_state_and_outputs_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_setup(tmp_path)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK
    db = tmp_path / "state" / DB_NAME
    db_before = db.read_bytes()
    outputs_before = snapshot(tmp_path / "out")

    # New data, and the xlsx sink breaks halfway through rendering its temp file.
    (tmp_path / "items.csv").write_text(
        ITEMS.replace("T-2,Refunds,in_progress,Doing", "T-2,Refunds,done,Done"), encoding="utf-8"
    )

    def half_written(tables: Any, fh: IO[bytes]) -> None:
        fh.write(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(connectors.files.xlsx, "write_workbook", half_written)
    outcome = go(config, tmp_path, DAY2)

    assert outcome.exit_code == EXIT_PUBLISH
    assert "No space left on device" in outcome.error
    assert outcome.written == []
    assert db.read_bytes() == db_before
    assert snapshot(tmp_path / "out") == outputs_before  # the csv sink's renders were dropped
    assert temp_files(tmp_path) == []
    assert [r["exit_code"] for r in Store(tmp_path / "state").last_runs()] == [0]

    # The next healthy run publishes what the failed one could not.
    monkeypatch.undo()
    outcome = go(config, tmp_path, DAY3)
    assert outcome.exit_code == EXIT_OK
    assert status_rows(tmp_path)["G1.1"]["Value"] == "100"
    assert db.read_bytes() != db_before
    assert len(Store(tmp_path / "state").last_runs()) == 2


def test_a_sink_that_raises_in_prepare_exits_4_without_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_setup(tmp_path)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK
    db_before = (tmp_path / "state" / DB_NAME).read_bytes()
    outputs_before = snapshot(tmp_path / "out")

    def broken(self: XlsxSink, tables: Any, ctx: Any) -> Any:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(XlsxSink, "prepare", broken)
    (tmp_path / "metrics.csv").write_text(METRICS + "conversion,2026-11-10,2.8\n")
    outcome = go(config, tmp_path, DAY2)
    assert outcome.exit_code == EXIT_PUBLISH
    assert "RuntimeError: renderer bug" in outcome.error
    assert (tmp_path / "state" / DB_NAME).read_bytes() == db_before
    assert snapshot(tmp_path / "out") == outputs_before
    assert temp_files(tmp_path) == []


def test_a_csv_sink_under_a_regular_file_fails_the_publish(tmp_path: Path) -> None:
    healthy = write_setup(tmp_path)
    assert go(healthy, tmp_path, DAY1).exit_code == EXIT_OK
    db_before = (tmp_path / "state" / DB_NAME).read_bytes()
    outputs_before = snapshot(tmp_path / "out")

    (tmp_path / "blocker").write_text("a file, not a folder\n")
    broken_path = tmp_path / "broken.yaml"
    broken_path.write_text(CONFIG.replace("path: out/csv", "path: blocker/csv"))
    broken = load_config(broken_path)
    (tmp_path / "metrics.csv").write_text(METRICS + "conversion,2026-11-10,2.8\n")

    outcome = go(broken, tmp_path, DAY2)
    assert outcome.exit_code == EXIT_PUBLISH
    assert "blocker" in outcome.error
    assert (tmp_path / "state" / DB_NAME).read_bytes() == db_before
    assert snapshot(tmp_path / "out") == outputs_before  # the xlsx was not replaced
    assert temp_files(tmp_path) == []
    assert (tmp_path / "blocker").read_text() == "a file, not a folder\n"

    outcome = go(healthy, tmp_path, DAY3)
    assert outcome.exit_code == EXIT_OK
    assert status_rows(tmp_path)["G1.2"]["Value"] == "2.8"


def test_a_failed_first_publish_leaves_no_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_setup(tmp_path)

    def broken(self: XlsxSink, tables: Any, ctx: Any) -> Any:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(XlsxSink, "prepare", broken)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_PUBLISH
    assert not (tmp_path / "state" / DB_NAME).exists()
    assert not (tmp_path / "out" / "csv").exists() or snapshot(tmp_path / "out") == {}
    assert temp_files(tmp_path) == []


def test_two_runs_on_the_same_data_write_the_same_and_never_duplicate_history(
    tmp_path: Path,
) -> None:
    config = write_setup(tmp_path)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK
    first = snapshot(tmp_path / "out" / "csv")
    first_xlsx = xlsx_values(tmp_path / "out" / "status.xlsx", skip=("Run",))

    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK
    second = snapshot(tmp_path / "out" / "csv")
    # Every tab but Run (which names the run) is the same, byte for byte.
    assert first.keys() == second.keys()
    for name in first:
        if name != "Run.csv":
            assert first[name] == second[name], name
    assert xlsx_values(tmp_path / "out" / "status.xlsx", skip=("Run",)) == first_xlsx

    store = Store(tmp_path / "state")
    keys = [(h.date, h.id) for h in store.history()]
    assert sorted(keys) == [(date(2026, 11, 16), i) for i in ("G1", "G1.1", "G1.2")]
    history_tab = [(r["Date"], r["ID"]) for r in read_tab(tmp_path, "History")]
    assert sorted(history_tab) == [("2026-11-16", i) for i in ("G1", "G1.1", "G1.2")]

    # A later run on the same day replaces that day's rows; the next day adds its own.
    (tmp_path / "metrics.csv").write_text(METRICS + "conversion,2026-11-10,2.8\n")
    later_same_day = DAY1.replace(hour=15)
    assert go(config, tmp_path, later_same_day).exit_code == EXIT_OK
    history = {(h.date, h.id): h for h in store.history()}
    assert len(history) == 3 == len(store.history())
    assert history[(date(2026, 11, 16), "G1.2")].value == 2.8

    assert go(config, tmp_path, DAY2).exit_code == EXIT_OK
    keys = [(h.date, h.id) for h in store.history()]
    assert len(keys) == len(set(keys)) == 6
    history_tab = [(r["Date"], r["ID"]) for r in read_tab(tmp_path, "History")]
    assert len(history_tab) == len(set(history_tab)) == 6


def test_a_dry_run_writes_nothing_and_exits_as_a_run_would(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    outcome = go(config, tmp_path, DAY1, dry_run=True)
    assert outcome.exit_code == EXIT_OK
    assert [t.name for t in outcome.tables] == list(TAB_NAMES)
    assert outcome.report is not None and len(outcome.report.rows) == 3
    assert outcome.written == []
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()

    # A source that fails: the dry run says 3, as the run would, and still writes nothing.
    (tmp_path / "items.csv").write_bytes(b"\xff\xfe\x00 not utf-8")
    outcome = go(config, tmp_path, DAY1, dry_run=True)
    assert outcome.exit_code == EXIT_STALE
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()


def test_a_dry_run_after_real_runs_leaves_the_state_byte_for_byte(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    assert go(config, tmp_path, DAY1).exit_code == EXIT_OK
    state_before = snapshot(tmp_path / "state")
    outputs_before = snapshot(tmp_path / "out")
    (tmp_path / "metrics.csv").write_text(METRICS + "conversion,2026-11-10,2.8\n")
    outcome = go(config, tmp_path, DAY2, dry_run=True)
    assert outcome.exit_code == EXIT_OK
    assert snapshot(tmp_path / "state") == state_before
    assert snapshot(tmp_path / "out") == outputs_before


def test_a_held_lock_makes_the_run_skip_with_exit_0(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    with run_lock(tmp_path / "state", DAY1):
        outcome = go(config, tmp_path, DAY1)
    assert outcome.skipped
    assert outcome.exit_code == EXIT_OK
    assert outcome.report is None and outcome.written == []
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state" / DB_NAME).exists()

    outcome = go(config, tmp_path, DAY1)  # released: the next run goes ahead
    assert not outcome.skipped and outcome.exit_code == EXIT_OK


def test_a_source_that_cannot_be_built_is_a_config_error_before_anything_happens(
    tmp_path: Path,
) -> None:
    text = CONFIG.replace(
        "  kpi:\n",
        "  plan:\n    type: file\n    path: goals-missing.csv\n    format: csv_goals\n  kpi:\n",
    )
    config = write_setup(tmp_path, config=text)
    with pytest.raises(ConfigError) as caught:
        go(config, tmp_path, DAY1)
    assert "'plan'" in str(caught.value) and "matches no file" in str(caught.value)
    assert not (tmp_path / "state").exists()  # not even the lock was taken
    assert not (tmp_path / "out").exists()

    # Even while another run holds the lock, the config error is what is reported.
    with run_lock(tmp_path / "state", DAY1), pytest.raises(ConfigError):
        go(config, tmp_path, DAY1)


def test_as_of_dates_history_by_the_as_of_day_in_the_config_timezone(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    # 23:30 UTC on the 16th is 00:30 on the 17th in Berlin; the run itself happens on the 20th.
    as_of = datetime(2026, 11, 16, 23, 30, tzinfo=UTC)
    outcome = go(config, tmp_path, datetime(2026, 11, 20, 12, tzinfo=UTC), as_of=as_of)
    assert outcome.exit_code == EXIT_OK
    assert outcome.report is not None and outcome.report.now == as_of
    assert {h.date for h in outcome.report.history} == {date(2026, 11, 17)}
    assert {h.date for h in Store(tmp_path / "state").history()} == {date(2026, 11, 17)}
    assert {r["Date"] for r in read_tab(tmp_path, "History")} == {"2026-11-17"}
    run_tab = {r["Key"]: r["Value"] for r in read_tab(tmp_path, "Run")}
    assert run_tab["As of"] == "2026-11-17 00:30 CET"
    assert run_tab["Run at"] == "2026-11-20 13:00 CET"


def test_as_of_leaves_out_items_created_later(tmp_path: Path) -> None:
    items = ITEMS + "T-4,Late,todo,Todo,cy,billing,,,2,2026-11-12,2026-11-12,,,\n"
    config = write_setup(tmp_path, items=items)
    as_of = datetime(2026, 11, 5, 12, tzinfo=UTC)
    outcome = go(config, tmp_path, DAY1, as_of=as_of)
    assert outcome.exit_code == EXIT_OK
    rows = status_rows(tmp_path)
    assert rows["G1.1"]["Done / Total"] == "1 / 2"  # T-4 did not exist yet
    assert rows["G1.2"]["Value"] == "2.5"

    outcome = go(config, tmp_path, DAY1)
    assert status_rows(tmp_path)["G1.1"]["Done / Total"] == "1 / 3"


def test_a_sink_that_does_not_exist_is_a_config_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.files.csvdir import CsvSink

    def missing(self: CsvSink, tables: object, ctx: object) -> None:
        raise ConfigError("sink: spreadsheet 1XyZ was not found (404)")

    config = write_setup(tmp_path)
    monkeypatch.setattr(CsvSink, "prepare", missing)
    with pytest.raises(ConfigError, match="was not found"):
        go(config, tmp_path, DAY1)
    assert not (tmp_path / "out" / "status.xlsx").exists()  # the xlsx sink was not renamed in
    assert not list((tmp_path / "out").glob("**/*.tmp"))  # and its temp file is gone
    assert not (tmp_path / "state" / DB_NAME).exists()
