"""`goalsync run` (the real CLI, a subprocess) with a Jira source at the loopback fake Jira, into
the csv and xlsx sinks: a first full pull, then incremental runs after issues change on the fake,
an unchanged run, a `--full` run that drops a deleted issue, and the exit codes of a rejected
JQL (2, nothing published) and of refused credentials (3, the source stale).

Expected values are counted from what the test puts on the fake, written out below.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.fakes.jira import Auth, FakeJira

REPO = Path(__file__).resolve().parents[2]
EMAIL, TOKEN = "bot@acme.example", "atl-e2e-token-0123456789"
NOW = datetime.now(UTC).replace(microsecond=0)
CHILDREN = 120  # PAY-101..PAY-220 under the epic PAY-100: with the epic, 121 issues, 2 pages
DONE = 40  # PAY-101..PAY-140 are done
BILLING = 30  # PAY-101..PAY-130 carry the label billing (all of them done)


def config(url: str, jql: str = "project in (PAY, CORE)") -> str:
    start, due = date.today() - timedelta(days=30), date.today() + timedelta(days=60)
    return f"""\
version: 1
timezone: Europe/Berlin
cycle: {{start: {start}, due: {due}}}
sources:
  jira:
    type: jira
    url: {url}
    jql: {jql}
sinks:
  - {{type: csv, path: out/csv}}
  - {{type: xlsx, path: out/status.xlsx}}
goals:
  - id: G1
    title: Launch self-serve billing
    owner: Dana Lee
    key_results:
      - id: G1.1
        title: Billing epic delivered
        measure: percent_done
        select:
          - {{source: jira, parent: PAY-100}}
      - id: G1.2
        title: Billing work done
        measure: count
        target: 40
        select:
          - {{source: jira, jql: "labels = billing"}}
"""


def seed(fake: FakeJira) -> None:
    fake.projects.update({"PAY", "CORE"})
    fake.add_issue("PAY-100", summary="Self-serve billing", issuetype="Epic",
                   status="In Progress", category="indeterminate",
                   updated=NOW - timedelta(days=20))  # fmt: skip
    for n in range(101, 101 + CHILDREN):
        done = n < 101 + DONE
        fake.add_issue(
            f"PAY-{n}",
            summary=f"Billing task {n}",
            parent="PAY-100",
            labels=["billing"] if n < 101 + BILLING else [],
            points=float(n % 5 + 1),
            status="Done" if done else "To Do",
            category="done" if done else "new",
            assignee="Sam Ortiz" if n % 2 else "Ana Ruiz",
            created=NOW - timedelta(days=25),
            updated=NOW - timedelta(days=10, minutes=n),
        )
    # one busy issue: more status changes than Cloud embeds in a search (40)
    for step in range(45):
        target = ("In Progress", "indeterminate") if step % 2 == 0 else ("To Do", "new")
        fake.transition("PAY-219", *target, at=NOW - timedelta(days=5, minutes=60 - step))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeJira]:
    with FakeJira("cloud", user_tz="Europe/Berlin", auth=Auth("basic", EMAIL, TOKEN)) as server:
        seed(server)
        yield server


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, fake: FakeJira) -> Path:
    folder = tmp_path_factory.mktemp("jira-e2e")
    (folder / "goalsync.yaml").write_text(config(fake.url), encoding="utf-8")
    return folder


def goalsync(root: Path, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOALSYNC_", "JIRA_"))}
    env |= {
        "GOALSYNC_LOG_FORMAT": "json",
        "JIRA_EMAIL": EMAIL,
        "JIRA_API_TOKEN": token,
        "PYTHONPATH": str(REPO),
    }
    cmd = [sys.executable, "-m", "sync.cli", "run", "--config", "goalsync.yaml"]
    return subprocess.run(
        [*cmd, "--state-dir", "state", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_csv(root: Path, tab: str) -> list[dict[str, str]]:
    with (root / "out" / "csv" / f"{tab}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def status(root: Path) -> dict[str, dict[str, str]]:
    return {r["ID"]: r for r in read_csv(root, "Status")}


def pulled(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The engine's `source_pulled` log line of the jira source."""
    for line in run.stderr.splitlines():
        if line.startswith("{") and '"source_pulled"' in line:
            event: dict[str, Any] = json.loads(line)
            return event
    raise AssertionError(f"no source_pulled line in:\n{run.stderr}")


def counts(fake: FakeJira) -> dict[str, int]:
    return {
        "serverInfo": fake.count("GET", "/rest/api/2/serverInfo"),
        "field": fake.count("GET", "/rest/api/3/field"),
        "myself": fake.count("GET", "/rest/api/3/myself"),
        "search": fake.count("GET", "/rest/api/3/search/jql"),
        "bulkfetch": fake.count("POST", "/rest/api/3/changelog/bulkfetch"),
        "all": fake.count(),
    }


@pytest.fixture(scope="module")
def runs(root: Path, fake: FakeJira) -> dict[str, Any]:
    """Every run of the story, in order, with what the fake counted for each."""
    out: dict[str, Any] = {}
    fake.reset_counts()
    out["first"] = goalsync(root)
    out["first_counts"] = counts(fake)
    out["first_status"] = status(root)
    out["first_items"] = {r["Key"]: r for r in read_csv(root, "Items")}

    # Work moves on: two tasks are done, a new billing task appears under the epic.
    fake.transition("PAY-141", "Done", "done", by="Sam Ortiz")
    fake.transition("PAY-142", "In Progress", "indeterminate", by="Ana Ruiz")
    fake.transition("PAY-142", "Done", "done", by="Ana Ruiz")
    fake.add_issue("PAY-300", summary="Invoice e-mails", parent="PAY-100", labels=["billing"],
                   status="Done", category="done", updated=datetime.now(UTC))  # fmt: skip
    fake.reset_counts()
    out["second"] = goalsync(root)
    out["second_counts"] = counts(fake)
    out["second_status"] = status(root)
    out["second_items"] = {r["Key"]: r for r in read_csv(root, "Items")}

    fake.reset_counts()
    out["third"] = goalsync(root)
    out["third_counts"] = counts(fake)

    fake.delete("PAY-220")
    fake.reset_counts()
    out["full"] = goalsync(root, "--full")
    out["full_counts"] = counts(fake)
    out["full_items"] = {r["Key"]: r for r in read_csv(root, "Items")}
    return out


def test_first_run_is_a_full_pull_at_the_documented_cost(runs: dict[str, Any]) -> None:
    run = runs["first"]
    assert run.returncode == 0, run.stderr
    n = 1 + CHILDREN
    assert runs["first_counts"] == {
        "serverInfo": 1,
        "field": 1,
        "myself": 0,  # the incremental bound is relative: no user zone to learn
        "search": math.ceil(n / 100) + 1,  # the scope's pages, then the jql clause (keys only)
        "bulkfetch": 1,  # PAY-219's changelog was cut short
        # + approximate-count: a complete pull asks its size first (too small to slice:
        # jira_search.fetch_cloud_sliced)
        "all": 1 + 1 + 3 + 1 + 1,
    }
    assert pulled(run)["requests"] == runs["first_counts"]["all"]
    assert pulled(run)["items"] == n


def test_first_run_outputs(runs: dict[str, Any], root: Path) -> None:
    rows = runs["first_status"]
    assert rows["G1.1"]["Done / Total"] == f"{DONE} / {CHILDREN}"
    assert float(rows["G1.1"]["Value"]) == pytest.approx(round(100 * DONE / CHILDREN, 2))
    assert rows["G1.2"]["Value"] == str(BILLING)  # keys from the extra jql search
    items = runs["first_items"]
    assert items["PAY-101"]["State"] == "done" and items["PAY-150"]["State"] == "todo"
    assert items["PAY-101"]["URL"].endswith("/browse/PAY-101")
    wb = openpyxl.load_workbook(root / "out" / "status.xlsx")
    assert wb.sheetnames == [
        "Status", "Trends", "Risks", "Items", "Unaligned", "Workload", "History", "Run",
    ]  # fmt: skip


def test_incremental_run_reads_only_what_changed(runs: dict[str, Any]) -> None:
    run = runs["second"]
    assert run.returncode == 0, run.stderr
    assert runs["second_counts"] == {
        "serverInfo": 0,
        "field": 0,
        "myself": 0,
        "search": 2,  # the scope since the cursor, and the jql clause
        "bulkfetch": 0,
        "all": 2,
    }
    assert pulled(run)["items"] == 3  # PAY-141, PAY-142, PAY-300; the store keeps the rest
    rows = runs["second_status"]
    assert rows["G1.1"]["Done / Total"] == f"{DONE + 3} / {CHILDREN + 1}"
    assert rows["G1.2"]["Value"] == str(BILLING + 1)
    items = runs["second_items"]
    assert items["PAY-141"]["State"] == "done" and items["PAY-142"]["State"] == "done"
    assert items["PAY-300"]["Title"] == "Invoice e-mails"


def test_an_unchanged_run_costs_one_search_per_scope(runs: dict[str, Any]) -> None:
    assert runs["third"].returncode == 0, runs["third"].stderr
    assert runs["third_counts"]["all"] == runs["third_counts"]["search"] == 2


def test_full_run_drops_a_deleted_issue(runs: dict[str, Any]) -> None:
    assert runs["full"].returncode == 0, runs["full"].stderr
    assert "PAY-220" in runs["second_items"] and "PAY-220" not in runs["full_items"]
    assert runs["full_counts"]["serverInfo"] == 1 and runs["full_counts"]["bulkfetch"] == 1


def test_no_secret_reaches_the_output(runs: dict[str, Any], root: Path) -> None:
    for name in ("first", "second", "third", "full"):
        assert TOKEN not in runs[name].stdout + runs[name].stderr
    for path in (root / "out").rglob("*"):
        if path.is_file() and path.suffix == ".csv":
            assert TOKEN not in path.read_text(encoding="utf-8")


def test_a_rejected_jql_exits_2_and_publishes_nothing(tmp_path: Path, fake: FakeJira) -> None:
    (tmp_path / "goalsync.yaml").write_text(config(fake.url, "project = NOPE"), encoding="utf-8")
    run = goalsync(tmp_path)
    assert run.returncode == 2, run.stderr
    assert "The value 'NOPE' does not exist for the field 'project'" in run.stderr
    assert not (tmp_path / "out").exists()


def test_refused_credentials_name_the_variables_and_leave_the_source_stale(
    tmp_path: Path, fake: FakeJira
) -> None:
    (tmp_path / "goalsync.yaml").write_text(config(fake.url), encoding="utf-8")
    run = goalsync(tmp_path, token="wrong-token-000000")
    assert run.returncode == 3, run.stderr
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in run.stdout + run.stderr
    assert "wrong-token-000000" not in run.stdout + run.stderr
