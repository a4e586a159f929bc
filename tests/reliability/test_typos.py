"""Issue 13: a typo in a select clause passes every check and turns a key result red.

`labels: [bugg]` and `parent: PAY-99999` are valid YAML with valid keys: `validate` cannot know
that no item carries them. Once items are in the state dir, `plan`, `doctor` and the Run tab warn
about every clause that matches nothing, with the closest existing value ("did you mean"), and
`goalsync explain [ID...]` says per key result and clause how many items match, a sample of them,
and why nothing does. The same person spelt two ways across sources ("Dana Lee" / "dana-lee") is
proposed as a ready-to-paste `people:` block by `doctor` and `explain`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.reliability.helpers import Workspace, config, cycle_around_today

JIRA = (
    "key,title,state,assignee,labels,parent\n"
    "PAY-101,Invoice PDF,done,Dana Lee,bug,PAY-100\n"
    "PAY-102,Refund flow,in_progress,Sam O'Neil,bug,PAY-100\n"
    "PAY-103,Tax rates,todo,Dana Lee,billing,PAY-100\n"
)
GH = (
    "key,title,state,assignee,labels\n"
    "acme/web#1,Docs: billing,done,dana-lee,docs\n"
    "acme/web#2,Docs: refunds,todo,sam-oneil,docs\n"
)
GOALS = """\
  - id: G1
    title: Ship billing
    owner: Dana Lee
    key_results:
      - {id: G1.1, title: Bugs fixed, measure: percent_done,
         select: [{source: jira, labels: [bugg]}]}
      - {id: G1.2, title: Billing epic, measure: percent_done,
         select: [{source: jira, parent: PAY-99999}]}
      - {id: G1.3, title: Docs written, measure: percent_done,
         select: [{source: gh, labels: [docs]}, {source: jira, labels: [bug]}]}
"""
BUG = 'labels "bugg" is on no item of jira; did you mean "bug"?'
PARENT = 'parent "PAY-99999" is on no item of jira'


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    (tmp_path / "jira.csv").write_text(JIRA, encoding="utf-8")
    (tmp_path / "gh.csv").write_text(GH, encoding="utf-8")
    ws.write_config(
        config(
            "  jira: {type: file, path: jira.csv, format: csv_items}\n"
            "  gh: {type: file, path: gh.csv, format: csv_items}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def test_validate_cannot_see_a_typo_but_the_runs_run_tab_names_it(ws: Workspace) -> None:
    assert ws.goalsync("validate").code == 0  # valid keys, valid values: a typo is no error
    run = ws.goalsync("run")
    assert run.code == 0, run
    rows = [r for r in ws.csv_rows("Run") if r["Key"] == "No match"]
    by_where = {r["Value"]: r["Detail"] for r in rows}
    assert set(by_where) == {"G1.1 clause 1", "G1.2 clause 1"}, rows
    assert BUG in by_where["G1.1 clause 1"]
    assert PARENT in by_where["G1.2 clause 1"] and "PAY-100" in by_where["G1.2 clause 1"]
    warned = [e for e in run.events if e.get("event") == "clause_matches_nothing"]
    assert {e["where"] for e in warned} == {"G1.1 clause 1", "G1.2 clause 1"}
    assert all(e["level"] == "warning" for e in warned)


def test_plan_warns_about_every_clause_that_matches_nothing(ws: Workspace) -> None:
    plan = ws.goalsync("plan")
    assert plan.code == 0, plan
    assert "G1.1 clause 1" in plan.stdout and BUG in plan.stdout, plan
    assert "G1.2 clause 1" in plan.stdout and PARENT in plan.stdout, plan
    assert "G1.3" not in plan.stdout.split("match no item")[-1]  # its clauses match


def test_doctor_warns_from_the_state_dir_and_proposes_the_people_block(ws: Workspace) -> None:
    before = ws.goalsync("doctor", "--state-dir", "state")
    assert before.code == 0, before
    assert "did you mean" not in before.stdout  # no items yet: nothing to compare with
    assert ws.goalsync("run").code == 0
    doctor = ws.goalsync("doctor", "--state-dir", "state")
    assert doctor.code == 0, doctor  # warnings, not failures
    assert "G1.1 clause 1" in doctor.stdout and "did you mean" in doctor.stdout, doctor
    assert "warn" in doctor.stdout
    block = doctor.stdout[doctor.stdout.index("\npeople:\n") + 1 :]
    people = yaml.safe_load(block.split("\n\n")[0])["people"]
    assert people == {"Dana Lee": ["dana-lee"], "Sam O'Neil": ["sam-oneil"]}, block


def test_explain_counts_samples_and_suggests(ws: Workspace) -> None:
    assert ws.goalsync("run").code == 0
    out = ws.goalsync("explain", "--state-dir", "state")
    assert out.code == 0, out
    text = out.stdout
    g11 = text[text.index("G1.1") : text.index("G1.2")]
    assert "0 items" in g11 and BUG in g11, g11
    g13 = text[text.index("G1.3") : text.index("people")]
    assert "{source: gh, labels: [docs]}: 2 items" in g13, g13
    assert "acme/web#1 Docs: billing" in g13 and "{source: jira, labels: [bug]}: 2 items" in g13
    assert "Dana Lee: [dana-lee]" in text and "Sam O'Neil" in text

    only = ws.goalsync("explain", "--state-dir", "state", "G1.1")
    assert only.code == 0 and "G1.1" in only.stdout and "G1.3" not in only.stdout, only
    goal = ws.goalsync("explain", "--state-dir", "state", "G1")
    assert all(k in goal.stdout for k in ("G1.1", "G1.2", "G1.3")), goal


def test_explain_an_unknown_id_is_a_usage_error_with_a_suggestion(ws: Workspace) -> None:
    out = ws.goalsync("explain", "--state-dir", "state", "G1.4")
    assert out.code == 2, out
    assert "G1.4" in out.output and "did you mean" in out.output


def test_explain_pull_reads_the_sources_first_and_commits_nothing(ws: Workspace) -> None:
    empty = ws.goalsync("explain", "--state-dir", "state")
    assert empty.code == 0 and "no items" in empty.stdout and "--pull" in empty.stdout, empty
    pulled = ws.goalsync("explain", "--state-dir", "state", "--pull")
    assert pulled.code == 0 and BUG in pulled.stdout, pulled
    assert not ws.db.exists()  # a look, not a run: nothing committed
