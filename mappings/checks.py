"""Checking the plan's goals against the rest of the config, before anything runs.

`check_plan` finds every problem at once (duplicate IDs, dates, unknown sources, keys that do not
fit a measure or a source) and returns them with their location in the config, so that
`sync/config.py` can point at the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mappings.model import (
    BASELINE_MEASURES,
    BUILT_MEASURES,
    DEFAULT_TARGETS,
    DOWN_MEASURES,
    ITEM_MEASURES,
    Cycle,
    Goal,
    KeyResult,
    SelectClause,
)

Loc = tuple[str | int, ...]
# Which clause keys a source's items fill in; "any" for a source whose own config is broken
# (already reported), so that its clauses raise no second, misleading problem.
Flavour = Literal["jira", "github", "items", "none", "any"]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the plan needs to know about a configured source to check clauses against it."""

    name: str
    type: str
    flavour: Flavour  # which clause keys fit: jira (project, components, jql), github (repo)
    runs_jql: bool = False


@dataclass(frozen=True, slots=True)
class PlanIssue:
    loc: Loc
    message: str
    fix: str = ""


# Clause keys that only some kinds of source fill in (a key missing from here fits every source).
_KEY_FLAVOURS: dict[str, frozenset[str]] = {
    "repo": frozenset({"github"}),
    "project": frozenset({"jira", "github"}),
    "components": frozenset({"jira"}),
    "milestone": frozenset({"github", "items"}),
}
_FLAVOUR_HINT = {
    "jira": "a jira source or jira_search file",
    "github": "a github source or github_issues file",
    "items": "a csv_items file or a sheet's Tasks tab",
}


def check_plan(
    goals: Sequence[Goal], cycle: Cycle, sources: Mapping[str, SourceInfo]
) -> list[PlanIssue]:
    """Every problem of the goals section at once, each with its config location and a fix."""
    issues: list[PlanIssue] = []
    if cycle.due < cycle.start:
        issues.append(
            PlanIssue(
                ("cycle", "due"),
                f"due {cycle.due} is before start {cycle.start}",
                "set due on or after start",
            )
        )
    seen: dict[str, Loc] = {}

    def claim(identifier: str, loc: Loc) -> None:
        if identifier in seen:
            first = _fmt_loc(seen[identifier])
            issues.append(
                PlanIssue(
                    loc,
                    f"duplicate id {identifier!r} (first used at {first})",
                    "give every goal and key result its own id",
                )
            )
        else:
            seen[identifier] = loc

    goal_ids = {g.id for g in goals}
    for gi, goal in enumerate(goals):
        gloc: Loc = ("goals", gi)
        claim(goal.id, (*gloc, "id"))
        g_start = goal.start or cycle.start
        g_due = goal.due or cycle.due
        if g_due < g_start:
            issues.append(
                PlanIssue(
                    (*gloc, "due"),
                    f"goal {goal.id}: due {g_due} is before start {g_start}",
                    "set due on or after start (start and due default to the cycle's)",
                )
            )
        if goal.parent is not None:
            if goal.parent == goal.id:
                issues.append(
                    PlanIssue(
                        (*gloc, "parent"),
                        f"goal {goal.id} is its own parent",
                        "name another goal's id, or remove parent",
                    )
                )
            elif goal.parent not in goal_ids:
                issues.append(
                    PlanIssue(
                        (*gloc, "parent"),
                        f"unknown parent goal {goal.parent!r}",
                        f"use one of: {', '.join(sorted(goal_ids - {goal.id})) or 'none'}",
                    )
                )
        for ki, kr in enumerate(goal.key_results):
            kloc: Loc = (*gloc, "key_results", ki)
            claim(kr.id, (*kloc, "id"))
            k_start = kr.start or g_start
            k_due = kr.due or g_due
            # Dates a key result only inherits were reported at its goal: once is enough.
            if k_due < k_start and (kr.start is not None or kr.due is not None):
                issues.append(
                    PlanIssue(
                        (*kloc, "due"),
                        f"key result {kr.id}: due {k_due} is before start {k_start}",
                        "set due on or after start (they default to the goal's)",
                    )
                )
            issues.extend(_check_kr(kr, kloc, sources))
    issues.extend(_check_parent_cycles(goals))
    return issues


def _check_kr(kr: KeyResult, kloc: Loc, sources: Mapping[str, SourceInfo]) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    m = kr.measure
    if m not in BUILT_MEASURES:
        built = ", ".join(sorted(BUILT_MEASURES))
        issues.append(
            PlanIssue((*kloc, "measure"), f"measure {m!r} is not built yet", f"use one of: {built}")
        )
    if m in ITEM_MEASURES and not kr.select:
        issues.append(
            PlanIssue(
                (*kloc, "select"),
                f"key result {kr.id}: measure {m} needs select clauses",
                "add select: [{source: <name>, ...}] naming the items it measures",
            )
        )
    if m == "milestone":
        for ci, clause in enumerate(kr.select):
            if clause.milestone is None:
                issues.append(
                    PlanIssue(
                        (*kloc, "select", ci),
                        f"key result {kr.id}: measure milestone picks its items by milestone",
                        "add milestone: <title> to this clause",
                    )
                )
    if m == "metric":
        if not kr.metric:
            issues.append(
                PlanIssue(
                    (*kloc, "metric"),
                    f"key result {kr.id}: measure metric needs the metric's name",
                    "add metric: <name in the Metrics tab>",
                )
            )
        if kr.select:
            issues.append(
                PlanIssue(
                    (*kloc, "select"),
                    "a metric key result selects no items",
                    "remove select, or use an item measure",
                )
            )
    elif kr.metric is not None:
        issues.append(_only_for(kloc, "metric", "measure: metric"))
    if kr.state is not None and m != "count" and m != "sum":
        issues.append(_only_for(kloc, "state", "measure: count or sum"))
    if m == "sum" and not kr.field:
        issues.append(
            PlanIssue(
                (*kloc, "field"),
                f"key result {kr.id}: measure sum needs a field",
                "add field: points (or a name from the items' extra fields)",
            )
        )
    if kr.field is not None and m != "sum":
        issues.append(_only_for(kloc, "field", "measure: sum"))
    if kr.stat is not None and m not in ("cycle_time", "lead_time"):
        issues.append(_only_for(kloc, "stat", "measure: cycle_time or lead_time"))
    if kr.window_weeks is not None and m not in ("throughput", "cycle_time", "lead_time"):
        issues.append(_only_for(kloc, "window_weeks", "throughput, cycle_time and lead_time"))
    if kr.by == "points" and m not in ("percent_done", "count", "open_count", "throughput"):
        issues.append(_only_for(kloc, "by", "percent_done, count, open_count and throughput"))
    if m in BASELINE_MEASURES and kr.baseline is None:
        issues.append(
            PlanIssue(
                (*kloc, "baseline"),
                f"key result {kr.id}: measure {m} needs a baseline (where the team started)",
                "add baseline: <number>",
            )
        )
    if kr.target is None and m not in DEFAULT_TARGETS:
        issues.append(
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: measure {m} needs a target",
                "add target: <number>",
            )
        )
    issues.extend(_check_direction(kr, kloc))
    for ci, clause in enumerate(kr.select):
        issues.extend(_check_clause(clause, (*kloc, "select", ci), sources))
    return issues


def _check_direction(kr: KeyResult, kloc: Loc) -> list[PlanIssue]:
    target = kr.target if kr.target is not None else DEFAULT_TARGETS.get(kr.measure)
    if target is None or (kr.baseline is None and kr.measure in BASELINE_MEASURES):
        return []  # the missing target or baseline is the problem already reported
    baseline = kr.baseline if kr.baseline is not None else 0.0
    direction = kr.direction or ("down" if kr.measure in DOWN_MEASURES else "up")
    if target == baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target equals baseline "
                f"({target:g}), so progress has no range",
                "set a different baseline",
            )
        ]
    if direction == "up" and target < baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target {target:g} is below "
                f"baseline {baseline:g} but the measure goes up",
                "add direction: down, or fix target and baseline",
            )
        ]
    if direction == "down" and target > baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target {target:g} is above "
                f"baseline {baseline:g} but the measure goes down",
                "fix target and baseline (lower is better for this measure)",
            )
        ]
    return []


def _check_clause(
    clause: SelectClause, cloc: Loc, sources: Mapping[str, SourceInfo]
) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    given = clause.given()
    if not given:
        issues.append(
            PlanIssue(
                cloc, "an empty select clause would match every item", "name at least a source"
            )
        )
        return issues
    item_sources = {n: s for n, s in sources.items() if s.flavour != "none"}
    named = clause.source or ()
    for name in named:
        if name not in sources:
            issues.append(
                PlanIssue(
                    (*cloc, "source"),
                    f"unknown source {name!r}",
                    f"use one of: {', '.join(sorted(item_sources)) or '(none)'}",
                )
            )
        elif name not in item_sources:
            issues.append(
                PlanIssue(
                    (*cloc, "source"),
                    f"source {name!r} yields no work items",
                    f"select from one of: {', '.join(sorted(item_sources))}",
                )
            )
    targets = [item_sources[n] for n in named if n in item_sources] or list(item_sources.values())
    flavours = {s.flavour for s in targets}
    for key in given:
        if key == "jql" and not any(s.runs_jql for s in targets):
            issues.append(
                PlanIssue(
                    (*cloc, key),
                    "jql runs only against a source of type jira",
                    "name a jira source in this clause, or select by other keys",
                )
            )
        elif (
            key in _KEY_FLAVOURS
            and targets
            and "any" not in flavours
            and not flavours & _KEY_FLAVOURS[key]
        ):
            fits = " or ".join(_FLAVOUR_HINT[f] for f in sorted(_KEY_FLAVOURS[key]))
            issues.append(
                PlanIssue(
                    (*cloc, key),
                    f"{key} is not set on the items of "
                    f"{', '.join(sorted(s.name for s in targets))}",
                    f"use {key} with {fits}",
                )
            )
    return issues


def _check_parent_cycles(goals: Sequence[Goal]) -> list[PlanIssue]:
    parents = {g.id: g.parent for g in goals}
    issues: list[PlanIssue] = []
    for gi, g in enumerate(goals):
        seen = {g.id}
        current = g.parent
        while current is not None and current in parents:
            if current in seen:
                if current != g.id or g.parent == g.id:
                    break  # reported from the goal inside the cycle, or as "its own parent"
                issues.append(
                    PlanIssue(
                        ("goals", gi, "parent"),
                        f"goal {g.id} is its own ancestor (parent cycle)",
                        "break the cycle of parent goals",
                    )
                )
                break
            seen.add(current)
            current = parents[current]
    return issues


def _only_for(kloc: Loc, key: str, where: str) -> PlanIssue:
    return PlanIssue((*kloc, key), f"{key} applies only to {where}", f"remove {key}")


def _fmt_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
