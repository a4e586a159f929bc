"""`goalsync plan`: the Status table, and what a run would change in each sink against what the
sink holds now (files read back, a sheet read in two calls), writing nothing anywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import structlog

from sync.cli import main
from sync.preview import diff_tab
from tests.fakes.sheets import FakeSheets

HALF_DONE = (
    "key,title,state,status,assignee,labels,points,updated\n"
    "T-1,Invoices,done,Done,ann,billing,3,2026-11-10\n"
    "T-2,Refunds,done,Done,bob,billing,5,2026-11-11\n"
    "T-3,Dunning,todo,Todo,ann,billing,2,2026-11-12\n"
    "T-4,Tax,todo,Todo,bob,billing,1,2026-11-12\n"
)
QUARTER_DONE = HALF_DONE.replace("T-2,Refunds,done,Done", "T-2,Refunds,todo,Todo")
CONFIG = """\
version: 1
timezone: UTC
cycle: {{start: {start}, due: {due}}}   # today is half way: expected about 50 %
status: {{at_risk_gap: 10, off_track_gap: 40}}
sources:
  tasks: {{type: file, path: items.csv, format: csv_items}}
sinks:
{sinks}
goals:
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - id: G1.1
        title: Billing tasks done
        select:
          - {{source: tasks, labels: [billing]}}
"""
FILE_SINKS = "  - {type: csv, path: out/csv}\n  - {type: xlsx, path: out/status.xlsx}\n"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    monkeypatch.chdir(tmp_path)
    yield
    structlog.reset_defaults()


def setup(tmp_path: Path, sinks: str, items: str = HALF_DONE) -> Path:
    (tmp_path / "items.csv").write_text(items, encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    today = date.today()
    start, due = today - timedelta(days=45), today + timedelta(days=45)
    path.write_text(CONFIG.format(sinks=sinks.rstrip("\n"), start=start, due=due), encoding="utf-8")
    return path


def cli(command: str, path: Path, state: str = "state") -> int:
    return main([command, "--config", str(path), "--state-dir", state])


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_plan_before_anything_was_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup(tmp_path, FILE_SINKS)
    assert cli("plan", path) == 0
    out = capsys.readouterr().out
    assert "On track" in out  # 2 of 4 done, half way through
    assert f"csv {tmp_path}/out/csv/" in out and f"xlsx {tmp_path}/out/status.xlsx" in out
    assert out.count("nothing there yet: every tab would be created") == 2
    assert f"the same changes as csv {tmp_path}/out/csv/" in out  # xlsx: not repeated
    assert "nothing was written" in out
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


def test_plan_compares_with_the_files_and_names_status_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup(tmp_path, FILE_SINKS)
    assert cli("run", path) == 0
    published = digest(tmp_path / "out")
    capsys.readouterr()

    assert cli("plan", path) == 0  # nothing changed since
    out = capsys.readouterr().out
    assert "unchanged: Status, Trends, Risks, Items, Unaligned, Workload, History" in out
    assert "->" not in out

    (tmp_path / "items.csv").write_text(QUARTER_DONE, encoding="utf-8")
    assert cli("plan", path) == 0
    out = capsys.readouterr().out
    assert "G1.1 Billing tasks done: On track -> At risk" in out
    assert "G1 Ship billing: On track -> At risk" in out
    status_line = next(line for line in out.splitlines() if line.startswith("    Status "))
    assert status_line.split()[1:4] == ["2", "2", "2"]  # now, after, changed
    assert digest(tmp_path / "out") == published  # plan wrote nothing


def test_plan_reads_a_sheet_in_two_calls_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSheets() as fake:
        book = fake.add_spreadsheet("STATUS", {"Notes": [["keep", "me"]]})
        sink = f"  - {{type: sheets, spreadsheet_id: STATUS, endpoint: '{fake.url}/', " + (
            "credentials: anonymous}\n"
        )
        path = setup(tmp_path, sink)
        assert cli("run", path) == 0
        before = book.snapshot()
        (tmp_path / "items.csv").write_text(QUARTER_DONE, encoding="utf-8")
        capsys.readouterr()
        for state in ("state", "fresh-state"):  # a fresh state dir: History seeded, same calls
            fake.reset_counts()
            assert cli("plan", path, state) == 0
            out = capsys.readouterr().out
            root = "/v4/spreadsheets/STATUS"
            gets = fake.count("GET", root) - fake.count("GET", f"{root}/values")
            assert (gets, fake.count("GET", f"{root}/values:batchGet")) == (1, 1), state
            assert fake.batch_updates("STATUS") == 0
            assert "sheets STATUS  (2 requests to read it)" in out
            assert "G1.1 Billing tasks done: On track -> At risk" in out
            assert "History" in out
        assert book.snapshot() == before


def test_a_sheet_that_cannot_be_read_is_said_and_the_plan_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSheets() as fake:
        sink = f"  - {{type: sheets, spreadsheet_id: GONE, endpoint: '{fake.url}/', " + (
            "credentials: anonymous}\n"
        )
        path = setup(tmp_path, sink + FILE_SINKS)
        assert cli("plan", path) == 0
    out = capsys.readouterr().out
    assert "cannot read it: " in out and "GONE was not found" in out
    assert "Billing tasks done" in out


def test_diff_tab_matches_rows_by_key() -> None:
    header = ["ID", "Title", "Status", "Updated"]
    old = [header, ["G1", "A", "On track", "09:00"], ["G2", "B", "Done", "09:00"]]
    new = [header, ["G1", "A", "At risk", "10:00"], ["G3", "C", "Done", "10:00"]]
    d = diff_tab("Status", old, new)
    assert (d.before, d.after, d.added, d.removed, d.changed) == (2, 2, 1, 1, 1)
    assert [(c.id, c.before, c.after) for c in d.status_changes] == [("G1", "On track", "At risk")]
    same = diff_tab("Status", old, [header, ["G1", "A", "On track", "11:00"], old[2]])
    assert same.unchanged  # Updated moves every run: not a change


def test_diff_tab_new_tab_columns_changed_and_repeated_keys() -> None:
    assert diff_tab("Items", None, [["Key"], ["A"], ["B"]]).added == 2
    rewritten = diff_tab("Risks", [["Item", "Risk"], ["A", "x"]], [["Item", "Reason"], ["A", "y"]])
    assert rewritten.note.startswith("columns differ") and rewritten.removed == 1
    run = diff_tab(
        "Run",
        [["Key", "Value"], ["Warning", "a"], ["Warning", "b"]],
        [["Key", "Value"], ["Warning", "a"], ["Warning", "c"], ["Warning", "d"]],
    )
    assert (run.added, run.changed) == (1, 1) and run.note == "refreshed on every run"


def test_the_readme_picture_is_drawn_from_a_real_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/plan_picture.py records the demo's plan (the PNG step needs Chromium: not here)."""
    import importlib.util

    from sync import console

    spec = importlib.util.spec_from_file_location(
        "plan_picture", Path(__file__).resolve().parents[2] / "examples" / "plan_picture.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(console, "make_console", console.make_console)  # restored afterwards
    monkeypatch.setenv("GOALSYNC_LOG_FORMAT", "json")
    monkeypatch.chdir(tmp_path)
    recorder = module.record_plan(tmp_path)
    text = recorder.export_text()
    assert "G1.3 Invoicing overhaul, story points delivered: At risk -> Off track" in text
    assert "xlsx out/status.xlsx" in text and "nothing was written" in text
    assert "<svg" in recorder.export_svg(title="goalsync plan")
