"""Backfill: History for past days, rebuilt from the items' status events."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from sync.backfill import backfill
from sync.base.errors import ConfigError
from sync.config import load_config
from sync.engine import RunOptions, run
from sync.store import Store

CONFIG = """\
version: 1
timezone: UTC
cycle: {start: 2026-11-01, due: 2026-11-30}
sources:
  jira: {type: file, path: jira.json, format: jira_search}
sinks:
  - {type: csv, path: out/csv}
goals:
  - id: G1
    title: Ship it
    owner: Dana
    key_results:
      - {id: G1.1, title: Epic done, select: [{source: jira, parent: E-1}]}
"""
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def issue(key: str, created: str, moves: list[tuple[str, str, str]], status: str) -> dict[str, Any]:
    categories = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
    return {
        "key": key,
        "self": f"https://x.atlassian.net/rest/api/3/issue/{key}",
        "fields": {
            "summary": key,
            "status": {"name": status, "statusCategory": {"key": categories[status]}},
            "parent": {"key": "E-1"},
            "created": created,
            "updated": moves[-1][0] if moves else created,
            "labels": [],
        },
        "changelog": {
            "histories": [
                {"created": at, "items": [{"field": "status", "fromString": a, "toString": b}]}
                for at, a, b in moves
            ]
        },
    }


def setup(tmp_path: Path) -> Path:
    issues = [
        # done on 11-03 and stays done
        issue(
            "A-1",
            "2026-11-01T08:00:00.000+0000",
            [
                ("2026-11-02T08:00:00.000+0000", "To Do", "In Progress"),
                ("2026-11-03T08:00:00.000+0000", "In Progress", "Done"),
            ],
            "Done",
        ),
        # done on 11-05
        issue(
            "A-2",
            "2026-11-01T08:00:00.000+0000",
            [("2026-11-05T08:00:00.000+0000", "To Do", "Done")],
            "Done",
        ),
        # created on 11-04, never done
        issue("A-3", "2026-11-04T08:00:00.000+0000", [], "To Do"),
        # the epic itself: not selected (it is the parent), kept in To Do
        {
            **issue("E-1", "2026-10-20T08:00:00.000+0000", [], "To Do"),
            "fields": {
                "summary": "Epic",
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "created": "2026-10-20T08:00:00.000+0000",
                "issuetype": {"name": "Epic"},
            },
        },
    ]
    (tmp_path / "jira.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_backfill_rebuilds_each_day_from_events(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    store = Store(tmp_path / "state")
    outcome = backfill(config, store, date(2026, 11, 2), date(2026, 11, 6), clock=lambda: NOW)
    assert (outcome.exit_code, outcome.rows) == (0, 10)  # 5 days x (G1, G1.1)
    by_day = {h.date: h for h in store.history() if h.id == "G1.1"}
    # 11-02: A-1 in progress, A-2 todo, A-3 not created yet -> 0 of 2
    # 11-03: A-1 done -> 1 of 2; 11-04: A-3 exists -> 1 of 3; 11-05 and 11-06: 2 of 3
    assert [by_day[date(2026, 11, d)].value for d in range(2, 7)] == [
        0.0,
        50.0,
        33.33,
        66.67,
        66.67,
    ]
    # expected at 24:00 of 11-02 in a 30-day cycle: 2 / 30 = 6.7 %
    assert by_day[date(2026, 11, 2)].expected == 6.7


def test_the_next_run_publishes_backfilled_history_and_its_trend(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    store = Store(tmp_path / "state")
    backfill(config, store, date(2026, 11, 2), date(2026, 11, 4), clock=lambda: NOW)
    outcome = run(config, store, RunOptions(), clock=lambda: NOW)
    assert outcome.exit_code == 0
    history = (tmp_path / "out" / "csv" / "History.csv").read_text(encoding="utf-8").splitlines()
    assert len(history) == 1 + 3 * 2 + 2  # header, 3 backfilled days, today
    # today 66.7 %; the newest row 7 or more days back is 11-04's 33.3 %
    assert outcome.report is not None
    assert [r.trend_7d for r in outcome.report.rows if r.id == "G1.1"] == [33.4]


def test_dates_are_checked_before_anything_is_read(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    store = Store(tmp_path / "state")
    with pytest.raises(ConfigError, match="is in the future"):
        backfill(config, store, date(2026, 11, 2), date(2026, 11, 21), clock=lambda: NOW)
    with pytest.raises(ConfigError, match="is after --to"):
        backfill(config, store, date(2026, 11, 5), date(2026, 11, 2), clock=lambda: NOW)
    assert not store.exists


def test_the_cli_backfills_and_says_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.cli import main

    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "warning")
    path = setup(tmp_path)
    code = main(
        [
            "backfill",
            "--config",
            str(path),
            "--state-dir",
            str(tmp_path / "state"),
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-04",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "History filled for 2026-11-02..2026-11-04: 6 rows over 3 days" in out
    with pytest.raises(SystemExit) as usage:  # argparse's usage error: exit 2, as documented
        main(["backfill", "--config", str(path), "--from", "2026-11-02", "--to", "soon"])
    assert usage.value.code == 2
    assert "'soon' is not a date (YYYY-MM-DD)" in capsys.readouterr().err
