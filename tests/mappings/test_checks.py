"""mappings/checks.py: check_plan finds every problem with its location, and the fix."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mappings.checks import PlanIssue, SourceInfo, check_plan
from mappings.model import Cycle, Goal
from tests.mappings.conftest import CYCLE, goal, kr

SOURCES = {
    "jira": SourceInfo("jira", "jira", "jira", runs_jql=True),
    "export": SourceInfo("export", "file", "jira"),  # a jira_search file: no searches to run
    "gh": SourceInfo("gh", "github", "github"),
    "tasks": SourceInfo("tasks", "sheets", "items"),
    "kpi": SourceInfo("kpi", "file", "none"),  # csv_metrics: no work items
}
K0: tuple[str | int, ...] = ("goals", 0, "key_results", 0)
C0: tuple[str | int, ...] = (*K0, "select", 0)
JIRA = [{"source": "jira", "parent": "PAY-100"}]


def check(*goals: Goal, cycle: Cycle = CYCLE) -> list[PlanIssue]:
    return check_plan(list(goals), cycle, SOURCES)


def one(issues: list[PlanIssue]) -> PlanIssue:
    assert len(issues) == 1, issues
    return issues[0]


def test_a_sound_plan_has_no_issues() -> None:
    g1 = goal(
        "G1",
        kr(
            "G1.1",
            select=[
                {"source": "jira", "parent": "PAY-100", "jql": "priority = High"},
                {"source": "gh", "repo": "acme/web", "labels": ["billing"]},
                {"source": "export", "components": ["billing"]},
            ],
        ),
        kr("G1.2", measure="metric", metric="nps", baseline=20, target=40),
        kr("G1.3", measure="open_count", baseline=12, select=[{"source": "tasks", "milestone": 2}]),
        kr("G1.4", measure="sum", field="points", target=50, select=JIRA),
        kr("G1.5", measure="count", by="points", state=["done"], target=8, select=JIRA),
        kr("G1.6", measure="metric", metric="churn", baseline=5, target=3, direction="down"),
        owner="Dana Lee",
    )
    g2 = goal("G2", kr("G2.1", select=[{"repo": "acme/api"}]), parent="G1")
    assert check(g1, g2) == []


# --- ids and dates --------------------------------------------------------------------------------


def test_duplicate_ids_name_the_id_and_where_it_was_first_used() -> None:
    issues = check(
        goal("G1", kr("K1", select=JIRA)),
        goal("G2", kr("K1", select=JIRA), kr("G1", select=JIRA)),
    )
    assert [i.loc for i in issues] == [
        ("goals", 1, "key_results", 0, "id"),
        ("goals", 1, "key_results", 1, "id"),
    ]
    assert issues[0].message == "duplicate id 'K1' (first used at goals[0].key_results[0].id)"
    assert issues[1].message == "duplicate id 'G1' (first used at goals[0].id)"


def test_cycle_due_before_start() -> None:
    issue = one(check(cycle=Cycle(start=date(2026, 10, 1), due=date(2026, 9, 30))))
    assert issue.loc == ("cycle", "due")
    assert issue.message == "due 2026-09-30 is before start 2026-10-01"


def test_goal_due_before_its_default_start() -> None:
    issue = one(check(goal("G1", due=date(2026, 9, 15))))
    assert issue.loc == ("goals", 0, "due")
    assert issue.message == "goal G1: due 2026-09-15 is before start 2026-10-01"


def test_dates_a_key_result_only_inherits_are_reported_once_at_its_goal() -> None:
    issue = one(check(goal("G1", kr("K1", select=JIRA), due=date(2026, 9, 15))))
    assert issue.loc == ("goals", 0, "due")


def test_key_result_due_before_start() -> None:
    bad = kr("K1", start=date(2026, 12, 1), due=date(2026, 11, 30), select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "due")
    assert issue.message == "key result K1: due 2026-11-30 is before start 2026-12-01"


def test_key_result_start_after_the_goal_due_it_inherits() -> None:
    late = kr("K1", start=date(2027, 1, 5), select=JIRA)
    issue = one(check(goal("G1", late)))
    assert issue.loc == (*K0, "due")
    assert issue.message == "key result K1: due 2026-12-31 is before start 2027-01-05"


# --- sources and clause keys ----------------------------------------------------------------------


def test_unknown_source() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "jra", "parent": "PAY-1"}]))))
    assert issue.loc == (*C0, "source")
    assert issue.message == "unknown source 'jra'"
    assert issue.fix == "use one of: export, gh, jira, tasks"


def test_a_source_without_work_items() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "kpi"}]))))
    assert issue.loc == (*C0, "source")
    assert issue.message == "source 'kpi' yields no work items"


@pytest.mark.parametrize("source", ["gh", "export", "tasks"])
def test_jql_on_a_source_that_runs_no_jira_search(source: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": source, "jql": "labels = x"}]))))
    assert issue.loc == (*C0, "jql")
    assert issue.message == "jql runs only against a source of type jira"


def test_jql_without_a_source_is_fine_when_a_jira_source_exists() -> None:
    assert check(goal("G1", kr("K1", select=[{"jql": "labels = x"}]))) == []


@pytest.mark.parametrize(
    ("keys", "key", "message"),
    [
        ({"source": "jira", "repo": "acme/web"}, "repo", "repo is not set on the items of jira"),
        (
            {"source": ["jira", "export"], "repo": "acme/web"},
            "repo",
            "repo is not set on the items of export, jira",
        ),
        (
            {"source": "gh", "components": ["ui"]},
            "components",
            "components is not set on the items of gh",
        ),
        (
            {"source": "jira", "milestone": "1.0"},
            "milestone",
            "milestone is not set on the items of jira",
        ),
        (
            {"source": "tasks", "project": "PAY"},
            "project",
            "project is not set on the items of tasks",
        ),
    ],
)
def test_a_key_the_sources_items_do_not_have(keys: dict[str, Any], key: str, message: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=[keys]))))
    assert issue.loc == (*C0, key)
    assert issue.message == message


def test_repo_on_a_jira_source_says_where_repo_fits() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "jira", "repo": "acme/web"}]))))
    assert issue.fix == "use repo with a github source or github_issues file"


def test_a_source_with_a_broken_config_raises_no_second_problem() -> None:
    broken = {"odd": SourceInfo("odd", "file", "any")}
    keys = {"source": "odd", "repo": "acme/web", "components": ["ui"], "milestone": "1"}
    assert check_plan([goal("G1", kr("K1", select=[keys]))], CYCLE, broken) == []


def test_an_empty_clause() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{}]))))
    assert issue.loc == C0
    assert issue.message == "an empty select clause would match every item"


def test_the_location_counts_goals_key_results_and_clauses() -> None:
    g1 = goal("G1", kr("K1", select=JIRA))
    g2 = goal("G2", kr("K2", select=JIRA), kr("K3", select=[*JIRA, {"source": "nope"}]))
    issue = one(check(g1, g2))
    assert issue.loc == ("goals", 1, "key_results", 1, "select", 1, "source")


# --- measures and their keys ----------------------------------------------------------------------


def test_every_measure_of_the_design_is_built() -> None:
    for measure, extra in (
        ("throughput", {"target": 5}),
        ("cycle_time", {"target": 3, "baseline": 9}),
        ("lead_time", {"target": 3, "baseline": 9}),
    ):
        assert check(goal("G1", kr("K1", measure=measure, select=JIRA, **extra))) == []


def test_a_milestone_measure_picks_items_by_milestone() -> None:
    issue = one(check(goal("G1", kr("K1", measure="milestone", select=JIRA))))
    assert issue.loc == (*K0, "select", 0)
    assert issue.message == "key result K1: measure milestone picks its items by milestone"
    assert issue.fix == "add milestone: <title> to this clause"


def test_missing_target() -> None:
    issue = one(check(goal("G1", kr("K1", measure="count", select=JIRA))))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: measure count needs a target"


def test_missing_baseline() -> None:
    issues = check(goal("G1", kr("K1", measure="open_count", select=JIRA)))
    baseline = [i for i in issues if i.loc == (*K0, "baseline")]
    assert len(baseline) == 1
    assert baseline[0].message == (
        "key result K1: measure open_count needs a baseline (where the team started)"
    )


def test_missing_metric_name() -> None:
    issue = one(check(goal("G1", kr("K1", measure="metric", target=40))))
    assert issue.loc == (*K0, "metric")
    assert issue.message == "key result K1: measure metric needs the metric's name"


def test_metric_without_target() -> None:
    issue = one(check(goal("G1", kr("K1", measure="metric", metric="nps"))))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: measure metric needs a target"


def test_a_metric_key_result_with_select() -> None:
    bad = kr("K1", measure="metric", metric="nps", target=40, select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "select")
    assert issue.message == "a metric key result selects no items"


def test_an_item_measure_without_select() -> None:
    issue = one(check(goal("G1", kr("K1"))))
    assert issue.loc == (*K0, "select")
    assert issue.message == "key result K1: measure percent_done needs select clauses"


def test_missing_field_for_sum() -> None:
    issue = one(check(goal("G1", kr("K1", measure="sum", target=10, select=JIRA))))
    assert issue.loc == (*K0, "field")
    assert issue.message == "key result K1: measure sum needs a field"


@pytest.mark.parametrize(
    ("keys", "key", "message"),
    [
        ({"metric": "nps"}, "metric", "metric applies only to measure: metric"),
        ({"state": "done"}, "state", "state applies only to measure: count or sum"),
        (
            {"measure": "count", "target": 5, "field": "points"},
            "field",
            "field applies only to measure: sum",
        ),
        (
            {"measure": "count", "target": 5, "stat": "p85"},
            "stat",
            "stat applies only to measure: cycle_time or lead_time",
        ),
        (
            {"window_weeks": 4},
            "window_weeks",
            "window_weeks applies only to throughput, cycle_time and lead_time",
        ),
        (
            {"measure": "sum", "field": "x", "target": 5, "by": "points"},
            "by",
            "by applies only to percent_done, count, open_count and throughput",
        ),
    ],
)
def test_keys_that_do_not_fit_the_measure(keys: dict[str, Any], key: str, message: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=JIRA, **keys))))
    assert issue.loc == (*K0, key)
    assert issue.message == message
    assert issue.fix == f"remove {key}"


def test_target_below_baseline_needs_direction_down() -> None:
    up = kr("K1", measure="metric", metric="churn", baseline=5, target=3)
    issue = one(check(goal("G1", up)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target 3 is below baseline 5 but the measure goes up"
    down = kr("K1", measure="metric", metric="churn", baseline=5, target=3, direction="down")
    assert check(goal("G1", down)) == []


def test_target_above_baseline_of_a_lower_is_better_measure() -> None:
    bad = kr("K1", measure="open_count", baseline=5, target=10, select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target 10 is above baseline 5 but the measure goes down"


def test_target_equal_to_baseline() -> None:
    flat = kr("K1", measure="metric", metric="nps", baseline=3, target=3)
    issue = one(check(goal("G1", flat)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target equals baseline (3), so progress has no range"


# --- parent goals ---------------------------------------------------------------------------------


def test_a_goal_that_is_its_own_parent() -> None:
    issue = one(check(goal("G1", parent="G1")))
    assert issue.loc == ("goals", 0, "parent")
    assert issue.message == "goal G1 is its own parent"


def test_an_unknown_parent() -> None:
    issue = one(check(goal("G1", parent="G9"), goal("G2")))
    assert issue.loc == ("goals", 0, "parent")
    assert issue.message == "unknown parent goal 'G9'"
    assert issue.fix == "use one of: G2"


def test_a_parent_cycle_is_reported_at_each_goal_in_it() -> None:
    issues = check(
        goal("G1", parent="G3"),
        goal("G2", parent="G1"),
        goal("G3", parent="G2"),
        goal("G4", parent="G1"),  # under the cycle, not in it
    )
    assert [(i.loc, i.message) for i in issues] == [
        (("goals", 0, "parent"), "goal G1 is its own ancestor (parent cycle)"),
        (("goals", 1, "parent"), "goal G2 is its own ancestor (parent cycle)"),
        (("goals", 2, "parent"), "goal G3 is its own ancestor (parent cycle)"),
    ]


def test_every_problem_is_found_at_once() -> None:
    issues = check(
        goal("G1", kr("K1", select=[{"source": "jra"}]), kr("K1", measure="count", select=JIRA)),
        goal("G2", parent="G9", due=date(2026, 9, 1)),
    )
    assert {i.loc for i in issues} == {
        (*C0, "source"),
        ("goals", 0, "key_results", 1, "id"),
        ("goals", 0, "key_results", 1, "target"),
        ("goals", 1, "due"),
        ("goals", 1, "parent"),
    }
