"""mappings/plan.py: resolve_plan fills in every default."""

from __future__ import annotations

from datetime import date

from mappings.checks import SourceInfo
from mappings.plan import resolve_plan
from tests.mappings.conftest import CYCLE, goal, kr

SOURCES = {
    "jira": SourceInfo("jira", "jira", "jira", native=frozenset({"jql"})),
    "export": SourceInfo("export", "file", "jira"),  # a jira_search file: no searches to run
    "gh": SourceInfo("gh", "github", "github"),
    "tasks": SourceInfo("tasks", "sheets", "items"),
    "kpi": SourceInfo("kpi", "file", "none"),  # csv_metrics: no work items
}
K0: tuple[str | int, ...] = ("goals", 0, "key_results", 0)
C0: tuple[str | int, ...] = (*K0, "select", 0)
JIRA = [{"source": "jira", "parent": "PAY-100"}]


def test_resolve_fills_in_dates_targets_direction_and_owner() -> None:
    plan = resolve_plan(
        [
            goal(
                "G1",
                kr("K1", select=JIRA),
                kr("K2", measure="open_count", baseline=12, owner="Kim", select=JIRA),
                kr("K3", measure="metric", metric="nps", target=40, due=date(2026, 11, 30)),
                owner="Dana",
                due=date(2026, 12, 15),
            ),
        ],
        CYCLE,
    )
    (g1,) = plan.goals
    assert (g1.start, g1.due, g1.depth, g1.parent) == (
        date(2026, 10, 1),
        date(2026, 12, 15),
        0,
        None,
    )
    k1, k2, k3 = g1.key_results
    assert (k1.start, k1.due) == (date(2026, 10, 1), date(2026, 12, 15))
    assert (k1.target, k1.baseline, k1.direction, k1.owner) == (100.0, 0.0, "up", "Dana")
    assert (k2.target, k2.baseline, k2.direction, k2.owner) == (0.0, 12.0, "down", "Kim")
    assert (k3.target, k3.due, k3.goal_id, k3.stat) == (40.0, date(2026, 11, 30), "G1", "p50")
    assert k1.clauses[0].parent == ("PAY-100",)
    assert (plan.cycle_start, plan.cycle_due) == (date(2026, 10, 1), date(2026, 12, 31))


def test_resolve_orders_each_parent_before_its_children() -> None:
    plan = resolve_plan(
        [
            goal("G3", parent="G2"),
            goal("G2", parent="G1", weight=2),
            goal("G4", parent="G9"),  # unknown parent: a top-level goal
            goal("G1"),
            goal("G5", parent="G1"),
        ],
        CYCLE,
    )
    assert [(g.id, g.depth) for g in plan.goals] == [
        ("G4", 0),
        ("G1", 0),
        ("G2", 1),
        ("G3", 2),
        ("G5", 1),
    ]
    assert [g.id for g in plan.children("G1")] == ["G2", "G5"]
    assert plan.goals[2].weight == 2.0
