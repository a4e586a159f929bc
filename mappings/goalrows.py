"""The Goals tab (or a csv_goals file) applied on top of goalsync.yaml's plan.

Leadership moves a target or a date in the sheet without a deploy. A row whose id is a goal or a
key result of the YAML changes its non-empty fields; a row with a new id adds a goal (under
`parent` if that is a goal). Every change is listed (it goes to the log and the Run tab), and a
row that would break the plan (due before start, a target on the wrong side of the baseline, a
parent cycle) is skipped with a warning that says why: the sheet can move the plan, never break
it, and never silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from mappings.measures import MEASURES, direction_of
from mappings.model import Cycle, Goal, KeyResult
from sync.base.records import GoalDef

GOAL_FIELDS = ("title", "owner", "start", "due", "parent")
KR_FIELDS = ("title", "owner", "start", "due", "target")


def apply_goal_rows(
    goals: Sequence[Goal], cycle: Cycle, rows: Iterable[GoalDef]
) -> tuple[list[Goal], list[str], list[str]]:
    """(the goals with every row applied, the changes made, the rows skipped and why)."""
    plan = list(goals)
    changes: list[str] = []
    warnings: list[str] = []
    for row in rows:
        where = f" ({row.origin})" if row.origin else ""
        gi = next((n for n, g in enumerate(plan) if g.id == row.id), None)
        found = _find_kr(plan, row.id)
        if gi is not None:
            result = _change_goal(plan, gi, row, cycle)
        elif found is not None:
            result = _change_kr(plan, *found, row, cycle)
        else:
            result = _add_goal(plan, row, cycle)
        if isinstance(result, str):
            warnings.append(f"{row.id}{where}: {result}; row ignored")
        else:
            plan, made = result
            changes.extend(f"{c}{where}" for c in made)
    return plan, changes, warnings


Outcome = tuple[list[Goal], list[str]] | str


def _change_goal(plan: list[Goal], gi: int, row: GoalDef, cycle: Cycle) -> Outcome:
    goal = plan[gi]
    update = _update(goal, row, GOAL_FIELDS)
    if row.target is not None:
        return "a goal has no target of its own (its key results do); set it on a key result row"
    if not update:
        return plan, []
    changed = goal.model_copy(update=update)
    problem = _dates_problem(changed, cycle) or _parent_problem(plan, changed)
    if problem:
        return problem
    new_plan = [*plan[:gi], changed, *plan[gi + 1 :]]
    return new_plan, _describe(goal.id, goal, update)


def _change_kr(plan: list[Goal], gi: int, ki: int, row: GoalDef, cycle: Cycle) -> Outcome:
    goal = plan[gi]
    kr = goal.key_results[ki]
    if row.parent is not None and row.parent != goal.id:
        return "a key result's goal is set in goalsync.yaml, not by the Goals tab's parent"
    update = _update(kr, row, KR_FIELDS)
    if not update:
        return plan, []
    changed = kr.model_copy(update=update)
    start = changed.start or goal.start or cycle.start
    due = changed.due or goal.due or cycle.due
    if due < start:
        return f"due {due} would be before start {start}"
    problem = _target_problem(changed)
    if problem:
        return problem
    krs = [*goal.key_results[:ki], changed, *goal.key_results[ki + 1 :]]
    new_goal = goal.model_copy(update={"key_results": krs})
    return [*plan[:gi], new_goal, *plan[gi + 1 :]], _describe(kr.id, kr, update)


def _add_goal(plan: list[Goal], row: GoalDef, cycle: Cycle) -> Outcome:
    if not row.title:
        return "a new goal needs a title"
    if row.target is not None:
        return "a new goal has no key results, so a target has nothing to measure"
    ids = {g.id for g in plan}
    if row.parent is not None and row.parent not in ids:
        return f"parent {row.parent!r} is not a goal"
    goal = Goal(
        id=row.id, title=row.title, owner=row.owner, start=row.start, due=row.due, parent=row.parent
    )
    problem = _dates_problem(goal, cycle)
    if problem:
        return problem
    under = f" under {row.parent}" if row.parent else ""
    return [*plan, goal], [f"{row.id} added{under}: {row.title!r} (no key results yet)"]


def _update(model: Goal | KeyResult, row: GoalDef, fields: Sequence[str]) -> dict[str, Any]:
    """The row's non-empty fields that differ from the plan's."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        if value is not None and value != getattr(model, name):
            out[name] = value
    return out


def _describe(ident: str, before: Goal | KeyResult, update: dict[str, Any]) -> list[str]:
    return [
        f"{ident} {name}: {_fmt(getattr(before, name))} -> {_fmt(new)}"
        for name, new in update.items()
    ]


def _dates_problem(goal: Goal, cycle: Cycle) -> str:
    start = goal.start or cycle.start
    due = goal.due or cycle.due
    if due < start:
        return f"due {due} would be before start {start}"
    for kr in goal.key_results:  # key results that take their dates from the goal
        k_start, k_due = kr.start or start, kr.due or due
        if k_due < k_start:
            return f"key result {kr.id} would be due {k_due}, before its start {k_start}"
    return ""


def _parent_problem(plan: Sequence[Goal], goal: Goal) -> str:
    if goal.parent is None:
        return ""
    parents = {g.id: g.parent for g in plan}
    if goal.parent not in parents:
        return f"parent {goal.parent!r} is not a goal"
    parents[goal.id] = goal.parent
    seen = {goal.id}
    current: str | None = goal.parent
    while current is not None:
        if current in seen:
            return f"parent {goal.parent!r} would make a cycle of parent goals"
        seen.add(current)
        current = parents.get(current)
    return ""


def _target_problem(kr: KeyResult) -> str:
    if kr.target is None:
        return ""
    baseline = kr.baseline if kr.baseline is not None else 0.0
    direction = direction_of(kr.measure, kr.direction)
    if kr.baseline is None and MEASURES[kr.measure].needs_baseline:
        return ""
    if kr.target == baseline:
        return f"target {kr.target:g} would equal the baseline"
    if (direction == "up") != (kr.target > baseline):
        side = "below" if direction == "up" else "above"
        return f"target {kr.target:g} would be {side} the baseline {baseline:g}"
    return ""


def _fmt(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _find_kr(plan: Sequence[Goal], ident: str) -> tuple[int, int] | None:
    for gi, goal in enumerate(plan):
        for ki, kr in enumerate(goal.key_results):
            if kr.id == ident:
                return gi, ki
    return None
