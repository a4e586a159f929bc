"""`goalsync explain` as a person types it: the state dir's items by default, `--pull` to read
the sources first, the did-you-mean and the people: block on stdout; `plan` warns too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sync.cli import main

CONFIG = """\
version: 1
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  tasks: {type: file, path: items.csv, format: csv_items}
sinks:
  - {type: csv, path: out/csv}
goals:
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Bugs, select: [{source: tasks, labels: [bugg]}]}
      - {id: G1.2, title: Billing, select: [{source: tasks, labels: [billing]}]}
"""
ITEMS = (
    "key,title,state,assignee,labels\n"
    "T-1,Invoices,done,Sam O'Neil,bug\n"
    "T-2,Refunds,todo,sam-oneil,billing\n"
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "goalsync.yaml").write_text(CONFIG, encoding="utf-8")
    yield
    structlog.reset_defaults()


def test_explain_before_any_run_says_how_to_get_items(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--state-dir", "st"]) == 0
    out = capsys.readouterr().out
    assert "0 items in st" in out and "goalsync explain --pull" in out


def test_explain_after_a_run_and_with_pull(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--state-dir", "st"]) == 0
    capsys.readouterr()
    assert main(["explain", "--state-dir", "st"]) == 0
    out = capsys.readouterr().out
    assert "G1.1 Bugs (percent_done): 0 items" in out
    assert 'labels "bugg" is on no item of tasks; did you mean "bug"?' in out
    assert "clause 1 {source: tasks, labels: [billing]}: 1 item" in out
    assert "T-2 Refunds" in out
    assert 'people:\n  "Sam O\'Neil": [sam-oneil]   # new' in out

    assert main(["explain", "--state-dir", "fresh", "--pull", "G1.2"]) == 0
    out = capsys.readouterr().out
    assert "pulled now (nothing committed)" in out and "G1.1" not in out
    assert not Path("fresh/goalsync.sqlite3").exists()


def test_an_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--state-dir", "st", "G9"]) == 2
    assert "'G9' is no goal or key result" in capsys.readouterr().err


def test_plan_lists_the_clauses_that_match_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--state-dir", "st"]) == 0
    out = capsys.readouterr().out
    assert "1 select clause matches no item:" in out
    assert "G1.1 clause 1: {source: tasks, labels: [bugg]} matches no item" in out
