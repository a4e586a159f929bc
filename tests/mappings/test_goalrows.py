from __future__ import annotations

from datetime import date

from mappings.goalrows import apply_goal_rows
from mappings.plan import resolve_plan
from sync.base.records import GoalDef

from .conftest import CYCLE, clause, goal, kr

JIRA = [clause(source="jira")]
PLAN = [
    goal("G1", kr("G1.1", measure="count", target=10, select=JIRA), owner="Dana"),
    goal("G2", kr("G2.1", measure="open_count", baseline=40, target=10, select=JIRA)),
]


def row(ident: str, n: int = 2, **fields: object) -> GoalDef:
    return GoalDef(source="plan", id=ident, origin=f"Goals row {n}", **fields)  # type: ignore[arg-type]


def test_a_row_moves_a_target_and_a_date_and_says_so() -> None:
    goals, changes, warnings = apply_goal_rows(
        PLAN, CYCLE, [row("G1.1", 4, target=12.0, due=date(2026, 12, 20))]
    )
    changed = goals[0].key_results[0]
    assert (changed.target, changed.due) == (12.0, date(2026, 12, 20))
    assert changes == [
        "G1.1 due: (none) -> 2026-12-20 (Goals row 4)",
        "G1.1 target: 10 -> 12 (Goals row 4)",
    ]
    assert warnings == []
    assert PLAN[0].key_results[0].target == 10  # the YAML's plan itself is not touched


def test_empty_cells_and_equal_values_change_nothing() -> None:
    goals, changes, warnings = apply_goal_rows(PLAN, CYCLE, [row("G1", owner="Dana")])
    assert (goals, changes, warnings) == (PLAN, [], [])


def test_a_row_that_would_break_the_plan_is_skipped_with_the_reason() -> None:
    rows = [
        row("G1", 2, due=date(2026, 9, 1)),  # before the cycle's start
        row("G2.1", 3, target=50.0),  # open_count goes down from 40: 50 is the wrong side
        row("G1", 4, target=5.0),  # a goal has no target
        row("G1.1", 5, parent="G2"),  # a key result's goal is set in the YAML
        row("G2", 6, parent="G2"),  # its own parent
    ]
    goals, changes, warnings = apply_goal_rows(PLAN, CYCLE, rows)
    assert goals == PLAN and changes == []
    assert warnings == [
        "G1 (Goals row 2): due 2026-09-01 would be before start 2026-10-01; row ignored",
        "G2.1 (Goals row 3): target 50 would be above the baseline 40; row ignored",
        "G1 (Goals row 4): a goal has no target of its own (its key results do); set it on a "
        "key result row; row ignored",
        "G1.1 (Goals row 5): a key result's goal is set in goalsync.yaml, not by the Goals "
        "tab's parent; row ignored",
        "G2 (Goals row 6): parent 'G2' would make a cycle of parent goals; row ignored",
    ]


def test_a_new_id_adds_a_goal_under_its_parent() -> None:
    plan = resolve_plan(PLAN, CYCLE, [row("G3", 7, title="Hire a team", owner="Sam", parent="G1")])
    assert [(g.id, g.depth, g.parent) for g in plan.goals] == [
        ("G1", 0, None), ("G3", 1, "G1"), ("G2", 0, None),
    ]  # fmt: skip
    assert plan.changes == ("G3 added under G1: 'Hire a team' (no key results yet) (Goals row 7)",)
    assert resolve_plan(PLAN, CYCLE, [row("G4", title=None)]).warnings == (
        "G4 (Goals row 2): a new goal needs a title; row ignored",
    )


def test_resolve_plan_uses_the_merged_values() -> None:
    plan = resolve_plan(PLAN, CYCLE, [row("G1", start=date(2026, 10, 15))])
    g1 = plan.goals[0]
    assert g1.start == date(2026, 10, 15)
    assert g1.key_results[0].start == date(2026, 10, 15)  # the key result inherits it
    assert plan.changes == ("G1 start: (none) -> 2026-10-15 (Goals row 2)",)
