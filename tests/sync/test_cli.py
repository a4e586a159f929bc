"""sync.cli.main: validate, run and plan as a user sees them (exit codes, stdout, stderr)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sync.cli import main
from sync.store import DB_NAME

from .samples import sample_config, write_inputs

CONFIG = sample_config("{start: 2026-01-01, due: 2030-12-31}")
ITEMS = (
    "key,title,state,status,assignee,labels,points,created,updated,done_at\n"
    "T-1,Invoices,done,Done,ann,billing,3,2026-10-02,2026-10-10,2026-10-10\n"
    "T-2,Refunds,in_progress,Doing,bob,billing,5,2026-10-03,2026-10-12,\n"
)
STATUS_WORDS = ("on track", "at risk", "off track", "done", "not started")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "warning")
    monkeypatch.chdir(tmp_path)
    yield
    structlog.reset_defaults()  # main() pointed structlog at this test's captured stderr


def write_setup(tmp_path: Path, config: str = CONFIG) -> Path:
    return write_inputs(tmp_path, config, ITEMS)


def kr_mix(line: str) -> dict[str, int]:
    """ "goalsync: 1 goals, 2 key results: 1 on track, 1 at risk" -> {"on track": 1, ...}"""
    mix = line.split("key results:", 1)[1]
    found = re.findall(r"(\d+) (on track|at risk|off track|done|not started)", mix)
    return {word: int(n) for n, word in found}


def test_validate_a_good_config_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    assert main(["validate", "--config", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert f"{path}: ok: 1 goals, 2 key results" in out
    assert "tasks (file)" in out and "kpi (file)" in out
    assert "sinks csv, xlsx" in out
    assert not (tmp_path / "out").exists() and not (tmp_path / ".goalsync").exists()


def test_validate_a_broken_config_lists_every_problem_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONFIG.replace("timezone: Europe/Berlin", "timezone: Europe/Berlinn").replace(
        "    owner: Dana\n", "    ownr: Dana\n"
    )
    path = write_setup(tmp_path, text)
    assert main(["validate", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "ok:" not in out
    lines = text.splitlines()
    tz_line = lines.index("timezone: Europe/Berlinn") + 1
    owner_line = lines.index("    ownr: Dana") + 1
    assert f"{path}:{tz_line}: timezone: unknown time zone 'Europe/Berlinn'" in err
    assert f"{path}:{owner_line}: goals[0].ownr: unknown key 'ownr' (did you mean 'owner'?)" in err
    assert "2 problem(s)" in err


def test_validate_reports_a_source_that_cannot_be_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONFIG.replace(
        "  kpi:\n",
        "  plan:\n    type: file\n    path: goals-missing.csv\n    format: csv_goals\n  kpi:\n",
    )
    path = write_setup(tmp_path, text)
    assert main(["validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "source 'plan': path 'goals-missing.csv' matches no file" in err


def test_run_publishes_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    code = main(["run", "--config", str(path), "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = next(line for line in out.splitlines() if line.startswith("goalsync:"))
    assert "1 goals, 2 key results" in summary
    assert sum(kr_mix(summary).values()) == 2
    assert "tasks ok, 2 items" in out
    assert "kpi ok, 2 metric values" in out
    wrote = next(line for line in out.splitlines() if "wrote:" in line)
    assert str(tmp_path / "out" / "csv") in wrote
    assert str(tmp_path / "out" / "status.xlsx") in wrote
    assert "exit 0" in out
    assert (tmp_path / "out" / "status.xlsx").is_file()
    assert (tmp_path / "out" / "csv" / "Status.csv").is_file()
    assert (tmp_path / "state" / DB_NAME).is_file()


def test_run_finds_the_config_through_goalsync_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GOALSYNC_CONFIG", str(path))
    monkeypatch.setenv("GOALSYNC_STATE_DIR", str(tmp_path / "envstate"))
    assert main(["run"]) == 0
    assert (tmp_path / "envstate" / DB_NAME).is_file()
    # Sink paths are relative to the config file, not to the working directory.
    assert (tmp_path / "out" / "status.xlsx").is_file()
    assert not (elsewhere / "out").exists()


def test_run_with_a_stale_source_exits_3_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    state = str(tmp_path / "state")
    assert main(["run", "--config", str(path), "--state-dir", state]) == 0
    (tmp_path / "items.csv").write_text("title\nno key column\n")
    capsys.readouterr()
    assert main(["run", "--config", str(path), "--state-dir", state]) == 3
    out, _ = capsys.readouterr()
    assert "tasks STALE" in out and "no column key" in out
    assert "exit 3" in out


def test_run_whose_publish_fails_exits_4_and_says_state_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file")
    path = write_setup(tmp_path, CONFIG.replace("path: out/csv", "path: blocker/csv"))
    assert main(["run", "--config", str(path), "--state-dir", str(tmp_path / "state")]) == 4
    err = capsys.readouterr().err
    assert "publish FAILED" in err and "state unchanged" in err
    assert not (tmp_path / "state" / DB_NAME).exists()


def test_plan_prints_the_status_table_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    assert main(["plan", "--config", str(path), "--state-dir", str(tmp_path / "state")]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].strip() == "Status"  # the table's title, then its header and a rule
    header = lines[1].split()
    assert header[:3] == ["ID", "Title", "Owner"]
    assert "Progress" in header and "Status" in header
    ids = [line.split()[0] for line in lines[3:6]]
    assert ids == ["G1", "G1.1", "G1.2"]
    assert lines[4].startswith("  G1.1")  # key results are indented under their goal
    assert any(word in lines[4].lower() for word in STATUS_WORDS)
    assert re.search(r"Status 3\s+Trends \d+\s+Risks \d+", out)
    assert "nothing was written" in out
    assert str(tmp_path / "out" / "status.xlsx") in out
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()


def test_run_with_as_of_a_date_dates_history_by_that_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_setup(tmp_path)
    args = ["run", "--config", str(path), "--state-dir", str(tmp_path / "state")]
    assert main([*args, "--as-of", "2026-11-16"]) == 0
    with (tmp_path / "out" / "csv" / "History.csv").open(newline="") as fh:
        assert {row["Date"] for row in csv.DictReader(fh)} == {"2026-11-16"}


@pytest.mark.parametrize("command", ["run", "plan"])
def test_a_bad_as_of_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = write_setup(tmp_path)
    code = main([command, "--config", str(path), "--state-dir", "state", "--as-of", "yesterday"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--as-of 'yesterday'" in err and "ISO" in err
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()


def test_a_missing_config_file_exits_2_and_suggests_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--state-dir", "state"]) == 2  # ./goalsync.yaml does not exist
    err = capsys.readouterr().err
    assert "goalsync.yaml not found" in err
    assert "--config" in err
    assert main(["validate", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "--config" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out.lower()


def test_a_bad_goalsync_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOALSYNC_LOG_FORMAT", "xml")
    assert main(["validate"]) == 2
    assert "GOALSYNC_LOG_FORMAT" in capsys.readouterr().err


def test_a_secret_in_a_config_error_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = "canary-token-0f9e8d7c"
    monkeypatch.setenv("GITHUB_TOKEN", canary)
    path = write_setup(tmp_path, CONFIG.replace("path: items.csv", f"path: {canary}.csv"))
    assert main(["run", "--config", str(path), "--state-dir", "state"]) == 2
    out, err = capsys.readouterr()
    assert canary not in out and canary not in err
    assert "matches no file" in err
