"""`run --metrics-file`: Prometheus text format (checked line by line against the exposition
grammar), written atomically, with the last success time carried across failed runs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from sync import metrics
from sync.base.report import HistoryRow, SourceRun, StatusReport, StatusRow
from sync.cli import main

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(
    rf'^({NAME})(\{{({NAME}="(\\.|[^"\\])*")(,{NAME}="(\\.|[^"\\])*")*\}})? '
    r"(-?[0-9.e+]+|NaN|[+-]Inf)$"
)
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


def parse(text: str) -> dict[str, float]:
    """Every sample as 'name{labels}' -> value; fails on anything that is not the format."""
    assert text.endswith("\n")
    samples: dict[str, float] = {}
    typed: set[str] = set()
    helped: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in helped, f"HELP twice for {name}"
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind == "gauge" and name not in typed
            typed.add(name)
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            assert m.group(1) in typed, f"{m.group(1)} has no TYPE before it"
            key = line.rsplit(" ", 1)[0]
            assert key not in samples, f"{key} twice"
            samples[key] = float(line.rsplit(" ", 1)[1])
    assert typed == helped
    return samples


def test_render_is_the_exposition_format() -> None:
    row = StatusRow(id="G1.1", level="kr", title="t", owner=None, start=date(2026, 10, 1),
                    due=date(2026, 12, 31), value=1, target=2, progress=50, expected=40,
                    status="On track")  # fmt: skip
    report = StatusReport(now=NOW, rows=(row,), history=(
        HistoryRow(date=NOW.date(), id="G1.1", value=1, progress=50, expected=40,
                   status="On track"),))  # fmt: skip
    text = metrics.render(
        metrics.RunMetrics(
            finished=NOW,
            exit_code=3,
            duration_s=1.25,
            sources=(
                SourceRun(
                    name="jira", type="jira", ok=True, last_success=NOW, items=121, requests=4
                ),
                SourceRun(name='we"ird\\', type="file", ok=False, last_success=None, items=3),
            ),
            report=report,
            last_success=NOW - timedelta(hours=2),
            last_publish=NOW,
        )
    )
    samples = parse(text)
    assert samples["goalsync_last_run_exit_code"] == 3
    assert samples["goalsync_last_run_duration_seconds"] == 1.25
    assert (
        samples["goalsync_last_success_timestamp_seconds"] == (NOW - timedelta(hours=2)).timestamp()
    )
    assert samples["goalsync_last_publish_timestamp_seconds"] == NOW.timestamp()
    assert samples['goalsync_source_up{source="jira",type="jira"}'] == 1
    assert samples['goalsync_source_up{source="we\\"ird\\\\",type="file"}'] == 0
    assert samples['goalsync_source_requests{source="jira",type="jira"}'] == 4
    assert samples['goalsync_key_results{status="on_track"}'] == 1
    assert samples['goalsync_key_results{status="off_track"}'] == 0
    assert samples['goalsync_info{version="0.1.0"}'] == 1


def test_write_replaces_the_file_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "textfile" / "goalsync.prom"
    assert metrics.write(target, "a 1\n")
    assert target.read_text() == "a 1\n" and oct(target.stat().st_mode & 0o777) == "0o644"

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    assert not metrics.write(target, "b 2\n")
    assert target.read_text() == "a 1\n"
    assert [p.name for p in target.parent.iterdir()] == ["goalsync.prom"]  # no temp left


def test_last_runs_from_the_store() -> None:
    runs = [
        {"finished": "2026-11-16T09:00:05+00:00", "exit_code": 3},
        {"finished": "2026-11-16T08:00:05+00:00", "exit_code": 0},
        {"finished": "not a time", "exit_code": 0},
    ]
    success, publish = metrics.last_runs(runs)
    assert success == datetime(2026, 11, 16, 8, 0, 5, tzinfo=UTC)
    assert publish == datetime(2026, 11, 16, 9, 0, 5, tzinfo=UTC)
    assert metrics.last_runs([]) == (None, None)


# --- from the CLI -----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    (tmp_path / "items.csv").write_text("key,state\nT-1,done\nT-2,todo\n", encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    path.write_text(
        "version: 1\ncycle: {start: 2026-10-01, due: 2026-12-31}\n"
        "sources:\n  tasks: {type: file, path: items.csv, format: csv_items}\n"
        "sinks:\n  - {type: csv, path: out/csv}\n"
        "goals:\n  - id: G1\n    title: T\n    key_results:\n"
        "      - {id: G1.1, title: T, select: [{source: tasks}]}\n",
        encoding="utf-8",
    )
    yield path
    structlog.reset_defaults()


def run(path: Path, *args: str) -> int:
    state = str(path.parent / "state")
    prom = str(path.parent / "metrics" / "goalsync.prom")
    return main(["run", "--config", str(path), "--state-dir", state, "--metrics-file", prom, *args])


def read(path: Path) -> dict[str, float]:
    return parse((path.parent / "metrics" / "goalsync.prom").read_text(encoding="utf-8"))


def test_a_run_writes_its_metrics(project: Path) -> None:
    assert run(project, "--as-of", "2026-11-16") == 0
    m = read(project)
    assert m["goalsync_last_run_exit_code"] == 0
    assert m['goalsync_source_up{source="tasks",type="file"}'] == 1
    assert m['goalsync_source_items{source="tasks",type="file"}'] == 2
    assert sum(v for k, v in m.items() if k.startswith("goalsync_key_results{")) == 1
    assert (
        m["goalsync_last_success_timestamp_seconds"] == m["goalsync_last_publish_timestamp_seconds"]
    )
    assert abs(m["goalsync_last_run_timestamp_seconds"] - datetime.now(UTC).timestamp()) < 60


def test_a_failed_run_keeps_the_last_success_time(project: Path) -> None:
    assert run(project) == 0
    first = read(project)["goalsync_last_success_timestamp_seconds"]
    # The csv folder under a file: the publish fails (a file at out/csv itself is not goalsync's
    # to replace: refused with exit 2 before the run)
    (project.parent / "blocker").write_text("in the way", encoding="utf-8")
    config = project.read_text(encoding="utf-8")
    project.write_text(config.replace("path: out/csv", "path: blocker/csv"), encoding="utf-8")
    assert run(project) == 4
    m = read(project)
    assert m["goalsync_last_run_exit_code"] == 4
    assert m["goalsync_last_success_timestamp_seconds"] == first
    project.write_text(config, encoding="utf-8")
    (project.parent / "items.csv").write_text("title\nno key\n", encoding="utf-8")
    assert run(project) == 3  # published, a source stale: a publish, not a success
    m = read(project)
    assert m["goalsync_last_success_timestamp_seconds"] == first
    assert m["goalsync_last_publish_timestamp_seconds"] > first
    assert m['goalsync_source_up{source="tasks",type="file"}'] == 0


def test_a_config_error_is_a_metric_too(project: Path) -> None:
    project.write_text("version: 1\n", encoding="utf-8")
    assert run(project) == 2
    m = read(project)
    assert m["goalsync_last_run_exit_code"] == 2
    assert "goalsync_last_success_timestamp_seconds" not in m


def test_a_dry_run_leaves_the_file_alone(project: Path) -> None:
    assert run(project, "--dry-run") == 0
    assert not (project.parent / "metrics").exists()


def test_no_data_rows_have_their_own_status_label() -> None:
    rows = tuple(
        StatusRow(id=ident, level="kr", title="t", owner=None, start=date(2026, 10, 1),
                  due=date(2026, 12, 31), value=None, target=2, progress=None, expected=40,
                  status="No data")
        for ident in ("G1.1", "G1.2")
    )  # fmt: skip
    text = metrics.render(
        metrics.RunMetrics(
            finished=NOW, exit_code=3, duration_s=1.0, report=StatusReport(now=NOW, rows=rows)
        )
    )
    samples = parse(text)
    assert samples['goalsync_key_results{status="no_data"}'] == 2
    assert samples['goalsync_key_results{status="off_track"}'] == 0  # not counted as red
