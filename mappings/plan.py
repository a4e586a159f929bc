"""The plan with its defaults resolved: dates from the goal and the cycle, targets, direction,
owners, nesting in display order, and the Goals tab applied on top (see goalrows.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from mappings.goalrows import apply_goal_rows
from mappings.measures import MEASURES, direction_of
from mappings.model import ALIGN_LABEL_PREFIX, Cycle, Goal, KeyResult, Measure, SelectClause
from sync.base.records import GoalDef, State


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedKR:
    id: str
    goal_id: str
    title: str
    owner: str | None
    start: date
    due: date
    measure: Measure
    by: Literal["count", "points"]
    clauses: tuple[SelectClause, ...]
    target: float
    baseline: float
    direction: Literal["up", "down"]
    weight: float
    metric: str | None = None
    states: tuple[State, ...] | None = None
    field: str | None = None
    stat: Literal["p50", "p85", "mean"] = "p50"
    window_weeks: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedGoal:
    id: str
    title: str
    owner: str | None
    start: date
    due: date
    weight: float
    parent: str | None
    depth: int
    key_results: tuple[PlannedKR, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Goals in display order (each parent before its children)."""

    goals: tuple[PlannedGoal, ...]
    cycle_start: date
    cycle_due: date
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    align_prefix: str = ALIGN_LABEL_PREFIX  # `align_label_prefix`: a label aligning its item

    def children(self, goal_id: str) -> list[PlannedGoal]:
        return [g for g in self.goals if g.parent == goal_id]


def resolve_plan(
    goals: Sequence[Goal],
    cycle: Cycle,
    goal_defs: Iterable[GoalDef] = (),
    *,
    align_prefix: str = ALIGN_LABEL_PREFIX,
) -> Plan:
    """Fill in every default. `goal_defs` (the Goals tab) win over the YAML field by field;
    every change they make is listed in `Plan.changes`, so nothing moves silently."""
    goals, changes, warnings = apply_goal_rows(goals, cycle, goal_defs)
    by_parent: dict[str | None, list[Goal]] = {}
    ids = {g.id for g in goals}
    for g in goals:
        parent = g.parent if g.parent in ids else None
        by_parent.setdefault(parent, []).append(g)
    ordered: list[PlannedGoal] = []

    def walk(parent: str | None, depth: int, seen: frozenset[str]) -> None:
        for g in by_parent.get(parent, []):
            if g.id in seen:  # a cycle: check_plan reports it; never loop here
                continue
            ordered.append(_plan_goal(g, cycle, depth))
            walk(g.id, depth + 1, seen | {g.id})

    walk(None, 0, frozenset())
    return Plan(
        goals=tuple(ordered),
        cycle_start=cycle.start,
        cycle_due=cycle.due,
        changes=tuple(changes),
        warnings=tuple(warnings),
        align_prefix=align_prefix,
    )


def _plan_goal(goal: Goal, cycle: Cycle, depth: int) -> PlannedGoal:
    start = goal.start or cycle.start
    due = goal.due or cycle.due
    return PlannedGoal(
        id=goal.id,
        title=goal.title,
        owner=goal.owner,
        start=start,
        due=due,
        weight=goal.weight,
        parent=goal.parent,
        depth=depth,
        key_results=tuple(_plan_kr(kr, goal, start, due) for kr in goal.key_results),
    )


def _plan_kr(kr: KeyResult, goal: Goal, start: date, due: date) -> PlannedKR:
    default = MEASURES[kr.measure].default_target
    target = kr.target if kr.target is not None else default or 0.0
    baseline = kr.baseline if kr.baseline is not None else 0.0
    return PlannedKR(
        id=kr.id,
        goal_id=goal.id,
        title=kr.title,
        owner=kr.owner or goal.owner,  # the goal's owner answers for a key result without one
        start=kr.start or start,
        due=kr.due or due,
        measure=kr.measure,
        by=kr.by,
        clauses=tuple(kr.select),
        target=target,
        baseline=baseline,
        direction=direction_of(kr.measure, kr.direction),
        weight=kr.weight,
        metric=kr.metric,
        states=kr.state,
        field=kr.field,
        stat=kr.stat or "p50",
        window_weeks=kr.window_weeks,
    )
