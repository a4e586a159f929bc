"""`goalsync run` end to end against the loopback fake GitHub (GitHub Enterprise root
`/api/v3`), as a subprocess, into csv and xlsx sinks: a full pull, an unchanged run (one
conditional request per repository, answered 304), a run after a change, and the exit codes a
missing repository (2) and an exhausted rate limit (3, the source stale) give.

Expected values, counted by hand from the data below:
- acme/web: 60 issues; those labelled billing are #1..#12: #1..#5 closed as completed, #6 closed
  as not_planned (left out), #7 a merged pull request, #8..#12 open -> 6 done of 11 = 54.55 %.
- acme/sdk milestone v3.0: #1..#20, #1..#15 closed (one of them, #15, as not_planned: left out)
  -> 14 of 19 = 73.68 %.
- after the change (web #8 closed as completed): 7 of 11 = 63.64 %.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.fakes.github import TOKEN, FakeGitHub, FakeRepo, iso, milestone_payload

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)

CONFIG = """\
version: 1
timezone: UTC
cycle: {{start: 2026-10-01, due: 2026-12-31}}
sources:
  gh:
    type: github
    repos: [{repos}]
    base_url: {base_url}
sinks:
  - {{type: csv, path: out/csv}}
  - {{type: xlsx, path: out/status.xlsx}}
goals:
  - id: G1
    title: Ship billing and the SDK
    owner: Dana Lee
    key_results:
      - id: G1.1
        title: Billing work done
        measure: percent_done
        select:
          - {{source: gh, repo: acme/web, labels: [billing]}}
      - id: G1.2
        title: SDK v3.0 milestone
        measure: milestone
        select:
          - {{source: gh, repo: acme/sdk, milestone: v3.0}}
"""


def populate(fake: FakeGitHub) -> tuple[FakeRepo, FakeRepo]:
    web = fake.add_repo("acme/web")
    for n in range(1, 61):
        at = T0 + timedelta(hours=n)
        labels = ["billing"] if n <= 12 else []
        if n <= 5:
            web.add_issue(n, updated=at, labels=labels, state="closed", closed=at)
        elif n == 6:
            web.add_issue(
                n, updated=at, labels=labels, state="closed", state_reason="not_planned", closed=at
            )
        elif n == 7:
            web.add_issue(n, updated=at, labels=labels, pull="merged", state="closed", closed=at)
        else:
            web.add_issue(n, updated=at, labels=labels, assignee="ana" if n % 2 else None)
    for n in range(8, 13):
        web.add_event("labeled", n, at=T0 + timedelta(hours=n, minutes=-5), label="billing")
    sdk = fake.add_repo("acme/sdk")
    v3 = milestone_payload("acme/sdk", 1, "v3.0", open_issues=5, closed_issues=15)
    sdk.milestones.append(v3)
    for n in range(1, 21):
        at = T0 + timedelta(hours=n, minutes=30)
        if n <= 15:
            reason = "not_planned" if n == 15 else "completed"
            sdk.add_issue(
                n, updated=at, milestone=v3, state="closed", state_reason=reason, closed=at
            )
            sdk.add_event("closed", n, at=at)
        else:
            sdk.add_issue(n, updated=at, milestone=v3)
    return web, sdk


@dataclass
class Setup:
    root: Path
    fake: FakeGitHub
    web: FakeRepo
    sdk: FakeRepo

    def write_config(self, repos: str = "acme/web, acme/sdk") -> None:
        text = CONFIG.format(repos=repos, base_url=f"{self.fake.url}/api/v3")
        (self.root / "goalsync.yaml").write_text(text, encoding="utf-8")

    def run(self, *extra: str, state: str = "state") -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOALSYNC_", "GITHUB_"))}
        env |= {
            "GITHUB_TOKEN": TOKEN,
            "GOALSYNC_LOG_FORMAT": "json",
            "GOALSYNC_RETRY_BUDGET_S": "30",
            "PYTHONPATH": str(REPO),
        }
        cmd = [sys.executable, "-m", "sync.cli", "run", "--config", "goalsync.yaml"]
        cmd += ["--state-dir", state, *extra]
        return subprocess.run(
            cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def status(self) -> dict[str, dict[str, str]]:
        with (self.root / "out" / "csv" / "Status.csv").open(newline="", encoding="utf-8") as fh:
            return {r["ID"]: r for r in csv.DictReader(fh)}

    def run_tab(self) -> str:
        return (self.root / "out" / "csv" / "Run.csv").read_text(encoding="utf-8")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with FakeGitHub(token=TOKEN) as fake:
        assert isinstance(fake, FakeGitHub)
        web, sdk = populate(fake)
        s = Setup(tmp_path, fake, web, sdk)
        s.write_config()
        yield s


def exchanges(fake: FakeGitHub) -> list[tuple[str, int | None]]:
    """(path, If-None-Match sent) for every request, in order per repository."""
    return sorted((r.path, 1 if r.headers.get("if-none-match") else None) for r in fake.requests)


def test_full_then_unchanged_then_changed(setup: Setup) -> None:
    fake = setup.fake
    first = setup.run()
    assert first.returncode == 0, first.stderr
    # Full pull: per repository one issues page (<= 100 items), one milestones call, one
    # events page: 3 + 3.
    assert fake.count("GET") == 6
    assert fake.count("GET", "/api/v3/repos/acme/web/issues") == 2  # issues + issues/events
    status = setup.status()
    assert status["G1.1"]["Value"] == "54.55" and status["G1.1"]["Done / Total"] == "6 / 11"
    assert status["G1.2"]["Value"] == "73.68" and status["G1.2"]["Done / Total"] == "14 / 19"
    assert "6 requests" in setup.run_tab()
    wb = openpyxl.load_workbook(setup.root / "out" / "status.xlsx")
    items = {row[0]: row for row in wb["Items"].iter_rows(min_row=2, values_only=True)}
    assert items["acme/web#7"][3] == "done" and items["acme/web#6"][3] == "cancelled"
    assert items["acme/sdk#16"][3] == "todo"
    assert str(items["acme/web#7"][10]).endswith("/acme/web/pull/7")

    fake.reset_counts()
    second = setup.run()
    assert second.returncode == 0, second.stderr
    # Unchanged: two conditional requests per repository (issues, milestones), all 304.
    assert exchanges(fake) == [
        ("/api/v3/repos/acme/sdk/issues", 1),
        ("/api/v3/repos/acme/sdk/milestones", 1),
        ("/api/v3/repos/acme/web/issues", 1),
        ("/api/v3/repos/acme/web/milestones", 1),
    ]
    assert fake.not_modified == 4
    assert setup.status()["G1.1"]["Value"] == "54.55"
    assert "4 requests" in setup.run_tab()

    later = datetime.now(UTC) - timedelta(minutes=1)
    setup.web.update(8, at=later, state="closed", state_reason="completed", closed_at=iso(later))
    setup.web.add_event("closed", 8, at=later)
    fake.reset_counts()
    third = setup.run()
    assert third.returncode == 0, third.stderr
    # acme/web changed: its kept list again (200), milestones, one events page; acme/sdk: its
    # issues and milestones, 304.
    assert fake.count("GET") == 5 and fake.not_modified == 2
    status = setup.status()
    assert status["G1.1"]["Value"] == "63.64" and status["G1.1"]["Done / Total"] == "7 / 11"
    assert status["G1.2"]["Value"] == "73.68"
    assert TOKEN not in third.stdout + third.stderr


def test_a_missing_repository_exits_2_and_publishes_nothing(setup: Setup) -> None:
    setup.write_config("acme/web, acme/gone")
    result = setup.run()
    assert result.returncode == 2, result.stderr
    assert "acme/gone not found" in result.stdout + result.stderr
    assert not (setup.root / "out").exists()


def test_a_rate_limit_past_the_budget_publishes_stale_and_exits_3(setup: Setup) -> None:
    first = setup.run()
    assert first.returncode == 0, first.stderr
    setup.fake.rate_remaining = 0
    setup.fake.rate_reset = int(datetime.now(UTC).timestamp()) + 3600
    setup.fake.reset_counts()
    second = setup.run("--full")
    assert second.returncode == 3, second.stderr
    assert setup.fake.count("GET") <= 2  # no waiting, no hammering: one refused request each
    status = setup.status()
    assert status["G1.1"]["Value"] == "54.55"  # the last good values, marked stale
    assert "rate limit exhausted" in setup.run_tab()


def test_no_token_in_any_output(setup: Setup) -> None:
    result = setup.run()
    assert result.returncode == 0
    text = result.stdout + result.stderr
    for path in (setup.root / "out" / "csv").glob("*.csv"):
        text += path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert _json_lines(result.stderr + result.stdout)


def _json_lines(text: str) -> list[Any]:
    import json

    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out
