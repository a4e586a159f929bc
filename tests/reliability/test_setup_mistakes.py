"""Issue 13: setup mistakes are caught before work is done, and named.

- A Sheets URL pasted as `spreadsheet_id` (`https://docs.google.com/spreadsheets/d/<id>/edit#gid=0`)
  is taken for its id by `init`, `validate` and the run, for sources and sinks alike.
- A wrong status-sheet id was found only after Jira and GitHub had been pulled: the sinks are
  now opened before the pull, so the run exits 2 before any source request (DESIGN: "2 config or
  usage error: found before any request, or a scope the server rejects").
- A 404 from an endpoint under an existing repository (milestones, issue events) was reported as
  "repository not found": it now names the endpoint that answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Workspace, config, cycle_around_today, sheet_status

GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Billing done, select: [{source: jira, labels: [billing]}]}
      - {id: G1.2, title: Web done, select: [{source: gh, repo: acme/web}]}
"""
OLD = datetime.now(UTC) - timedelta(days=2)


def url_of(sheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{sheet_id}/edit#gid=0"


@dataclass
class Fakes:
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets

    def requests_to_sources(self) -> int:
        return self.jira.count() + self.github.count()


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with FakeJira("cloud") as jira, FakeGitHub() as github, FakeSheets() as sheets:
        jira.add_issue("PAY-1", labels=["billing"], status="Done", category="done", updated=OLD)
        jira.add_issue("PAY-2", labels=["billing"], updated=OLD)
        github.add_repo("acme/web").add_issue(1, updated=OLD)
        sheets.add_spreadsheet("PLAN", {"Goals": [["id", "title"]]})
        sheets.add_spreadsheet("STATUS", {"Notes": [["kept by people"]]})
        yield Fakes(jira, github, sheets)


def workspace(tmp_path: Path, f: Fakes, *, sink_id: str, plan_id: str = "PLAN") -> Workspace:
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{f.jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{f.github.url}'}}\n"
            f"  plan: {{type: sheets, spreadsheet_id: '{plan_id}', endpoint: '{f.sheets.url}/',"
            " credentials: anonymous, tabs: {goals: Goals}}\n",
            f"  - {{type: sheets, spreadsheet_id: '{sink_id}', endpoint: '{f.sheets.url}/',"
            " credentials: anonymous}\n"
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


# --- a pasted Sheets URL ------------------------------------------------------------------------


def test_a_pasted_sheets_url_is_taken_for_its_id_by_validate_and_run(
    tmp_path: Path, fakes: Fakes
) -> None:
    ws = workspace(tmp_path, fakes, sink_id=url_of("STATUS"), plan_id=url_of("PLAN"))
    validated = ws.goalsync("validate")
    assert validated.code == 0, validated
    run = ws.goalsync("run")
    assert run.code == 0, run
    assert set(sheet_status(fakes.sheets.spreadsheets["STATUS"])) >= {"G1", "G1.1", "G1.2"}
    assert fakes.sheets.count("GET", "/v4/spreadsheets/PLAN/values") == 1  # the source read it
    assert "docs.google.com" not in "".join(fakes.sheets.spreadsheets)


def test_init_takes_the_id_out_of_a_pasted_url(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    done = ws.goalsync(
        "init",
        "--sheet-id",
        url_of("1XyZstatus_-9"),
        "--plan-sheet-id",
        "https://docs.google.com/spreadsheets/u/1/d/1AbCplan/edit?usp=sharing",
        "--no-schema",
    )
    assert done.code == 0, done
    written = yaml.safe_load((tmp_path / "goalsync.yaml").read_text(encoding="utf-8"))
    assert written["sinks"][0]["spreadsheet_id"] == "1XyZstatus_-9"
    assert written["sources"]["plan"]["spreadsheet_id"] == "1AbCplan"


def test_a_url_that_is_not_a_sheet_is_refused_with_the_fix(tmp_path: Path, fakes: Fakes) -> None:
    ws = workspace(tmp_path, fakes, sink_id="https://docs.google.com/document/d/1Doc/edit")
    result = ws.goalsync("validate")
    assert result.code == 2, result
    assert "sinks[0].spreadsheet_id" in result.output, result
    assert "the part after /d/" in result.output, result
    assert fakes.requests_to_sources() == 0 and fakes.sheets.count() == 0


# --- the sinks are opened before the pull --------------------------------------------------------


def test_a_wrong_status_sheet_stops_the_run_before_any_source_request(
    tmp_path: Path, fakes: Fakes
) -> None:
    ws = workspace(tmp_path, fakes, sink_id="NO-SUCH-SHEET")
    run = ws.goalsync("run")
    assert run.code == 2, run
    assert "spreadsheet NO-SUCH-SHEET was not found (404)" in run.output, run
    assert fakes.requests_to_sources() == 0, (fakes.jira.requests, fakes.github.requests)
    assert fakes.sheets.count("GET", "/v4/spreadsheets/PLAN") == 0  # nor the plan sheet
    assert not (ws.out / "csv").exists()  # nothing published
    assert not ws.db.exists() or ws.query("SELECT count(*) FROM runs") == [(0,)]


def test_opening_the_sheet_early_costs_no_extra_request(tmp_path: Path, fakes: Fakes) -> None:
    ws = workspace(tmp_path, fakes, sink_id="STATUS")
    assert ws.goalsync("run").code == 0
    fakes.sheets.reset_counts()
    run = ws.goalsync("run")
    assert run.code == 0, run
    # One spreadsheets.get for the sink (opened before the pull, kept for the publish), one
    # History read, and the plan source's own reads: the same as before the sink was opened early.
    assert fakes.sheets.count("GET", "/v4/spreadsheets/STATUS") == 2
    assert fakes.sheets.count("GET", "/v4/spreadsheets/STATUS/values") == 1


# --- a 404 under an existing repository names the endpoint ---------------------------------------


def test_a_404_from_an_endpoint_of_an_existing_repository_names_it(
    tmp_path: Path, fakes: Fakes
) -> None:
    ws = workspace(tmp_path, fakes, sink_id="STATUS")
    fakes.github.inject(
        Fault("GET", "/repos/acme/web/milestones", Response(404, {"message": "Not Found"}), 99)
    )
    run = ws.goalsync("run")
    assert "repository acme/web not found" not in run.output, run
    assert "GET /repos/acme/web/milestones answered 404" in run.output, run
    assert "the repository acme/web exists" in run.output, run
    assert run.code == 3, run  # the source is stale; the repository is in scope


def test_a_missing_repository_is_still_a_scope_the_server_rejects(
    tmp_path: Path, fakes: Fakes
) -> None:
    del fakes.github.repos["acme/web"]
    ws = workspace(tmp_path, fakes, sink_id="STATUS")
    run = ws.goalsync("run")
    assert run.code == 2, run
    assert "repository acme/web not found (404)" in run.output, run
