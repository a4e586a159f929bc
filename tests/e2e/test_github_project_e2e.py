"""`goalsync run` and `doctor` end to end against the loopback GraphQL fake (GitHub Enterprise
root `/api/v3`, so GraphQL at `/api/graphql`), as subprocesses, into a csv sink.

Expected values, counted by hand from the board below (pages of 4 items: 3 requests):
- #1..#6 issues, statuses Todo, In Progress, Done, Todo, In Progress, Done (#3, #6 done); a
  draft in Done; #8 archived (left out); #9 closed as not planned in Done (cancelled: left out of
  percent_done); #10 malformed (skipped and named in the Run tab) -> 3 done of 7 = 42.86 %.
- after #1 moves to Done: 4 of 7 = 57.14 %.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.github_graphql import TOKEN, BoardItem, FakeGitHubGraphQL, make_board

REPO = Path(__file__).resolve().parents[2]

CONFIG = """\
version: 1
timezone: UTC
cycle: {{start: 2026-10-01, due: 2026-12-31}}
sources:
  board:
    type: github_project
    owner: acme
    number: {number}
    base_url: {base_url}
    points_field: Estimate
    goal_field: Goal
sinks:
  - {{type: csv, path: out/csv}}
goals:
  - id: G1
    title: Ship the roadmap
    owner: Dana Lee
    key_results:
      - id: G1.1
        title: Board work done
        measure: percent_done
        select:
          - {{source: board}}
"""


def board() -> list[BoardItem]:
    items = make_board(6)
    for item in items:
        item.state, item.state_reason = "OPEN", None
    items += [
        BoardItem(kind="DRAFT_ISSUE", title="Draft", status="Done"),
        BoardItem(number=8, archived=True, status="Done"),
        BoardItem(number=9, status="Done", state="CLOSED", state_reason="NOT_PLANNED"),
        BoardItem(number=10, malformed=True),
    ]
    return items


@dataclass
class Setup:
    root: Path
    fake: FakeGitHubGraphQL

    def write_config(self, number: int = 7) -> None:
        text = CONFIG.format(number=number, base_url=f"{self.fake.url}/api/v3")
        (self.root / "goalsync.yaml").write_text(text, encoding="utf-8")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOALSYNC_", "GITHUB_"))}
        env |= {
            "GITHUB_TOKEN": TOKEN,
            "GOALSYNC_LOG_FORMAT": "json",
            "GOALSYNC_RETRY_BUDGET_S": "30",
            "PYTHONPATH": str(REPO),
        }
        cmd = [sys.executable, "-m", "sync.cli", *args, "--config", "goalsync.yaml"]
        return subprocess.run(
            cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def run(self) -> subprocess.CompletedProcess[str]:
        return self.cli("run", "--state-dir", "state")

    def status(self) -> dict[str, dict[str, str]]:
        with (self.root / "out" / "csv" / "Status.csv").open(newline="", encoding="utf-8") as fh:
            return {r["ID"]: r for r in csv.DictReader(fh)}

    def run_tab(self) -> str:
        return (self.root / "out" / "csv" / "Run.csv").read_text(encoding="utf-8")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with FakeGitHubGraphQL(items=board(), page_size_cap=4) as fake:
        s = Setup(tmp_path, fake)
        s.write_config()
        yield s


def test_a_board_pulled_paged_then_a_column_change(setup: Setup) -> None:
    first = setup.run()
    assert first.returncode == 0, first.stderr
    assert setup.fake.count("POST", "/api/graphql") == 3  # 10 items, 4 a page
    status = setup.status()["G1.1"]
    assert (status["Value"], status["Done / Total"]) == ("42.86", "3 / 7")
    run_tab = setup.run_tab()
    assert "1 item skipped as malformed: acme/web#10" in run_tab
    assert TOKEN not in first.stdout + first.stderr

    setup.fake.items[0].status = "Done"
    setup.fake.reset_counts()
    second = setup.run()
    assert second.returncode == 0, second.stderr
    assert setup.fake.count("POST", "/api/graphql") == 3  # a full read every run
    status = setup.status()["G1.1"]
    assert (status["Value"], status["Done / Total"]) == ("57.14", "4 / 7")


def test_an_unknown_board_exits_2_and_publishes_nothing(setup: Setup) -> None:
    setup.write_config(number=8)
    result = setup.run()
    assert result.returncode == 2, result.stderr
    assert "ProjectV2 with the number 8" in result.stdout + result.stderr
    assert not (setup.root / "out").exists()


def test_a_rate_limit_past_the_budget_publishes_stale_and_exits_3(setup: Setup) -> None:
    assert setup.run().returncode == 0
    setup.fake.rate_limit_at = {setup.fake.served + 1}
    setup.fake.reset_in_s = 1800  # longer than the 30 s budget
    result = setup.run()
    assert result.returncode == 3, result.stderr
    assert setup.status()["G1.1"]["Value"] == "42.86"  # the last good values, kept
    assert "rate limited" in setup.run_tab()


def test_doctor_checks_the_scope_and_the_field_names(setup: Setup) -> None:
    result = setup.cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "read:project" in out and "'Status' (SINGLE_SELECT)" in out
    assert "'Estimate' (NUMBER)" in out and "'Goal' (TEXT)" in out
    setup.fake.scopes = "repo"
    (setup.root / "goalsync.yaml").write_text(
        (setup.root / "goalsync.yaml").read_text().replace("goal_field: Goal", "goal_field: Aim"),
        encoding="utf-8",
    )
    result = setup.cli("doctor")
    assert result.returncode == 1
    assert "lack read:project" in result.stdout
    assert "no field 'Aim'" in result.stdout
